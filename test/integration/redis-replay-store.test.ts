// The Redis replay store (src/replay/redis-replay-store.ts) against a real Redis (Debian
// redis-server on loopback): set-if-absent with expiry, atomic under concurrency, keys that expire,
// and failing fast (ReplayStoreUnavailable) when Redis is gone.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { openRedisReplayStore } from '../../src/replay/redis-replay-store.ts';
import { testConfig } from '../../src/config.ts';
import { ReplayStoreUnavailable, type ReplayStore } from '../../src/hooks/replay-store.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';

let redis: RedisServer;
let store: ReplayStore;
let probe: Redis;
const PREFIX = 'test:jti:';

beforeAll(async () => {
  redis = await startRedis();
  store = await openRedisReplayStore({ url: redis.url, keyPrefix: PREFIX, commandTimeoutMs: testConfig().redisTimeoutMs });
  probe = new Redis(redis.url);
});

afterAll(async () => {
  await store?.close();
  probe?.disconnect();
  await redis?.close();
});

describe('Redis replay store', () => {
  it('claims a (iss, jti) once; the same jti from another issuer is another token', async () => {
    const now = Date.now();
    expect(await store.claim('https://ehr-a.example', 'jti-1', now + 60_000, now)).toBe('ok');
    expect(await store.claim('https://ehr-a.example', 'jti-1', now + 60_000, now)).toBe('replay');
    expect(await store.claim('https://ehr-b.example', 'jti-1', now + 60_000, now)).toBe('ok');
  });

  it('gives every key the token\'s remaining lifetime, so Redis forgets it when it no longer matters', async () => {
    const now = Date.now();
    await store.claim('https://ehr-a.example', 'jti-ttl', now + 90_000, now);
    const keys = await probe.keys(`${PREFIX}*`);
    const ttls = await Promise.all(keys.map((k) => probe.pttl(k)));
    // Every key expires (no -1: no key without expiry); the new one within its 90 s.
    expect(ttls.every((t) => t > 0)).toBe(true);
    expect(Math.max(...ttls)).toBeLessThanOrEqual(90_000);
    expect(Math.max(...ttls)).toBeGreaterThan(80_000);
    // Fixed-length keys whatever the jti (a hash), never the raw token fields.
    expect(keys.every((k) => k.length === PREFIX.length + 43)).toBe(true);
    expect(keys.some((k) => k.includes('jti-ttl'))).toBe(false);
  });

  it('accepts a jti again once its record has expired', async () => {
    const now = Date.now();
    expect(await store.claim('https://ehr-a.example', 'jti-short', now + 50, now)).toBe('ok');
    await new Promise((r) => setTimeout(r, 150));
    expect(await store.claim('https://ehr-a.example', 'jti-short', Date.now() + 60_000, Date.now())).toBe('ok');
  });

  it('lets exactly one of many concurrent claims of one token win, across connections', async () => {
    const other = await openRedisReplayStore({ url: redis.url, keyPrefix: PREFIX, commandTimeoutMs: testConfig().redisTimeoutMs });
    try {
      const now = Date.now();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? store : other).claim('https://ehr-a.example', 'jti-race', now + 60_000, now)));
      expect(results.filter((r) => r === 'ok')).toHaveLength(1);
      expect(results.filter((r) => r === 'replay')).toHaveLength(19);
    } finally {
      await other.close();
    }
  });

  it('fails fast with ReplayStoreUnavailable while Redis is down, and recovers by itself', async () => {
    await redis.stop();
    try {
      const now = Date.now();
      await expect(store.claim('https://ehr-a.example', 'jti-down', now + 60_000, now)).rejects.toBeInstanceOf(ReplayStoreUnavailable);
      await expect(store.ping()).rejects.toBeInstanceOf(ReplayStoreUnavailable);
    } finally {
      await redis.start();
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await store.ping();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const now = Date.now();
    expect(await store.claim('https://ehr-a.example', 'jti-after', now + 60_000, now)).toBe('ok');
  });
});
