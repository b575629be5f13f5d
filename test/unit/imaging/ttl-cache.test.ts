// The imaging layer's caches (ttl-cache.ts) and their sharing between the threads of one process
// (shared-caches.ts). The threads of a real server are exercised in
// test/integration/imaging/demo-start.test.ts; here two sets of caches in one thread stand for two
// threads (a BroadcastChannel delivers to every other channel of that name in the process).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { shareCaches } from '../../../src/imaging/shared-caches.ts';
import { TtlCache } from '../../../src/imaging/ttl-cache.ts';

describe('TtlCache', () => {
  it('forgets entries after the TTL, keeps at most maxEntries, and caches nothing at TTL 0', () => {
    let now = 0;
    const cache = new TtlCache<number>({ ttlMs: 1000, maxEntries: 2, now: () => now });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 3]);
    now = 1000;
    expect(cache.get('b')).toBeUndefined();
    const off = new TtlCache<number>({ ttlMs: 0, maxEntries: 2, now: () => now });
    off.set('a', 1);
    expect(off.get('a')).toBeUndefined();
  });

  it('adopts an entry read elsewhere until its own expiry, never past its TTL, and tells no one', () => {
    let now = 0;
    const heard: string[] = [];
    const cache = new TtlCache<number>({ ttlMs: 1000, maxEntries: 10, now: () => now });
    cache.publish((key) => heard.push(key));
    cache.adopt('a', 1, 400);
    cache.adopt('b', 2, 5000); // a longer expiry than this cache's TTL is cut to it
    cache.adopt('c', 3, 0); // already expired
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, 2, undefined]);
    now = 400;
    expect([cache.get('a'), cache.get('b')]).toEqual([undefined, 2]);
    now = 1000;
    expect(cache.get('b')).toBeUndefined();
    expect(heard).toEqual([]);
    cache.set('d', 4);
    expect(heard).toEqual(['d']);
  });
});

/** Polls until `check` holds (a channel delivers on a later turn of the event loop). */
async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 5))) if (check()) return true;
  return check();
}

describe('shareCaches', () => {
  const pair = () => ({
    index: new TtlCache<{ studies: string[] }>({ ttlMs: 60_000, maxEntries: 10, now: Date.now }),
    series: new TtlCache<string[]>({ ttlMs: 60_000, maxEntries: 10, now: Date.now }),
  });

  it('gives every cache of the same name on the channel what one of them read, with its expiry', async () => {
    const channel = `test-${randomUUID()}`;
    const [a, b, c] = [pair(), pair(), pair()];
    const closers = [shareCaches(a, channel), shareCaches(b, channel), shareCaches(c, channel)];
    try {
      a.index.set('patient-1', { studies: ['1.2.3'] });
      b.series.set('1.2.3', ['cine', 'lge']);
      expect(await eventually(() => b.index.get('patient-1') !== undefined && c.index.get('patient-1') !== undefined)).toBe(true);
      expect(c.index.get('patient-1')).toEqual({ studies: ['1.2.3'] });
      expect(await eventually(() => a.series.get('1.2.3') !== undefined)).toBe(true);
      expect(a.series.get('1.2.3')).toEqual(['cine', 'lge']);
      // Into the same cache only: a study's series never land in the patient index.
      expect([a.index.get('1.2.3'), c.series.get('patient-1')]).toEqual([undefined, undefined]);
    } finally {
      for (const close of closers) close();
    }
  });

  it('shares nothing across channels, and a value that cannot be posted stays where it was read', async () => {
    const [a, b, other] = [pair(), pair(), pair()];
    const channel = `test-${randomUUID()}`;
    const closers = [shareCaches(a, channel), shareCaches(b, channel), shareCaches(other, `test-${randomUUID()}`)];
    try {
      const unclonable = { studies: [], at: () => 0 } as unknown as { studies: string[] };
      expect(() => a.index.set('fn', unclonable)).not.toThrow();
      expect(a.index.get('fn')).toBe(unclonable);
      a.index.set('patient-2', { studies: [] });
      expect(await eventually(() => b.index.get('patient-2') !== undefined)).toBe(true);
      expect(b.index.get('fn')).toBeUndefined();
      expect(other.index.get('patient-2')).toBeUndefined();
    } finally {
      for (const close of closers) close();
    }
  });
});
