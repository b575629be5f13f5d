// A small time-bounded cache owned by the imaging runtime (created at start-up, passed in; never a
// module-level Map). Per instance: several service instances each keep their own (DESIGN.md,
// "Several instances"); within one instance its threads share entries (shared-caches.ts). Bounded in
// entries, oldest first out.
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private onSet: ((key: string, value: V, expires: number) => void) | undefined;

  constructor(opts: { ttlMs: number; maxEntries: number; now: () => number }) {
    this.ttlMs = opts.ttlMs;
    this.maxEntries = opts.maxEntries;
    this.now = opts.now;
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** An entry read here: kept for the TTL, and passed to the listener (other threads). */
  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    const expires = this.now() + this.ttlMs;
    this.store(key, value, expires);
    this.onSet?.(key, value, expires);
  }

  /** An entry another thread read: kept until its own expiry, not passed on again. */
  adopt(key: string, value: V, expires: number): void {
    if (this.ttlMs <= 0 || expires <= this.now()) return;
    this.store(key, value, Math.min(expires, this.now() + this.ttlMs));
  }

  /** Who hears of each entry `set` here (one listener). */
  publish(listener: (key: string, value: V, expires: number) => void): void {
    this.onSet = listener;
  }

  get size(): number {
    return this.entries.size;
  }

  private store(key: string, value: V, expires: number): void {
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expires });
  }
}
