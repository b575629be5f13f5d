// Replay protection for CDS Client JWTs. CDS Hooks 2.0 §"Trusting CDS Clients": `jti` is "a nonce
// string value that uniquely identifies this authentication JWT (used to protect against replay
// attacks)". We remember each (iss, jti) until the token could no longer be accepted anyway
// (its expiry plus clock skew), so memory is bounded by the request rate times the token lifetime.
//
// Bounded size, failing closed: when the cache is full of still-live entries, `add` refuses the new
// token instead of forgetting an old one (forgetting would re-open a replay window). Only trusted,
// correctly signed tokens reach the cache, so only a trusted client's own volume can fill it.

export type JtiAddResult = 'ok' | 'replay' | 'full';

export class JtiCache {
  // One map per issuer, jti -> expiry in whole seconds (a small integer, stored unboxed by V8;
  // no concatenated keys): ~4x less memory per entry than a single map of "iss|jti" -> ms.
  // Insertion order ~ expiry order (clients use a fixed token lifetime), so expired entries are
  // usually at the front and pruning from the front is amortised O(1).
  private readonly byIssuer = new Map<string, Map<string, number>>();
  private readonly maxEntries: number;
  private count = 0;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Records (iss, jti) until `expiresAtMs` (rounded up to the second). Returns 'replay' when the
   * pair is already present and still live, 'full' when no room is left, else 'ok'.
   */
  add(iss: string, jti: string, expiresAtMs: number, nowMs: number): JtiAddResult {
    const nowS = nowMs / 1000;
    let jtis = this.byIssuer.get(iss);
    if (!jtis) {
      jtis = new Map();
      this.byIssuer.set(iss, jtis);
    }
    const existing = jtis.get(jti);
    if (existing !== undefined) {
      if (existing > nowS) return 'replay';
      jtis.delete(jti);
      this.count--;
    }
    this.pruneFront(jtis, nowS);
    if (this.count >= this.maxEntries) {
      for (const m of this.byIssuer.values()) this.pruneAll(m, nowS);
      if (this.count >= this.maxEntries) return 'full';
    }
    jtis.set(jti, Math.ceil(expiresAtMs / 1000));
    this.count++;
    return 'ok';
  }

  private pruneFront(jtis: Map<string, number>, nowS: number): void {
    for (const [jti, exp] of jtis) {
      if (exp > nowS) return;
      jtis.delete(jti);
      this.count--;
    }
  }

  private pruneAll(jtis: Map<string, number>, nowS: number): void {
    for (const [jti, exp] of jtis) {
      if (exp <= nowS) {
        jtis.delete(jti);
        this.count--;
      }
    }
  }
}
