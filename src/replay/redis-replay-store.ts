// The JWT replay record in Redis (REDIS_URL), shared by every instance behind the load balancer
// (DESIGN.md, Several instances): a token is accepted by exactly one instance. Each claim is one
// `SET key 1 NX PX ttl` (https://redis.io/docs/latest/commands/set/): set-if-absent with its expiry
// in one atomic command, one round trip on a kept-open connection. Redis forgets the key when the
// token could no longer be accepted anyway, so memory is bounded by request rate × token lifetime.
//
// Failing closed, fast: no offline queue and a bounded command timeout, so while Redis is down or
// slow a call is refused at once (503) instead of waiting or being accepted unchecked; ioredis keeps
// reconnecting in the background, and /readyz reports the outage so the load balancer can react.
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { ReplayStoreUnavailable, type ReplayClaim, type ReplayStore } from '../hooks/replay-store.ts';

export interface RedisReplayStoreOptions {
  /** redis://[user:password@]host:port[/db] or rediss:// (TLS). Never logged (it may carry a password). */
  url: string;
  /** Longest wait for one claim or ping, ms: beyond it the call is refused (503). REDIS_TIMEOUT_MS. */
  commandTimeoutMs: number;
  /** Key prefix, so that one Redis may serve several deployments. Default "cds:jti:". */
  keyPrefix?: string;
  logger?: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
}

/** Longest wait for the first connection at start-up; the instance starts anyway (not ready). */
const STARTUP_WAIT_MS = 3_000;

export async function openRedisReplayStore(opts: RedisReplayStoreOptions): Promise<ReplayStore> {
  const prefix = opts.keyPrefix ?? 'cds:jti:';
  const options: RedisOptions = {
    commandTimeout: opts.commandTimeoutMs,
    connectTimeout: 2_000,
    // Commands while disconnected fail at once instead of queueing until a reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Reconnect for ever, backing off to 1 s: the instance recovers by itself when Redis is back.
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
    lazyConnect: true,
    connectionName: 'imaging-cds-hooks',
  };
  const redis = new Redis(opts.url, options);
  let lastState: 'up' | 'down' | undefined;
  // Without an 'error' listener ioredis prints every reconnect failure; one line per transition.
  redis.on('error', (err: Error & { code?: string }) => {
    if (lastState !== 'down') opts.logger?.warn({ err: { message: err.message, code: err.code } }, 'Redis (replay store) unreachable');
    lastState = 'down';
  });
  redis.on('ready', () => {
    if (lastState === 'down') opts.logger?.info({}, 'Redis (replay store) reachable again');
    lastState = 'up';
  });
  // Wait a little for the first connection, so the first calls do not all fail; a Redis that is
  // not up yet leaves this instance not ready (/readyz 503) until it is.
  await Promise.race([
    redis.connect().catch(() => undefined),
    new Promise((resolve) => setTimeout(resolve, STARTUP_WAIT_MS).unref()),
  ]);

  const unavailable = (err: unknown): ReplayStoreUnavailable =>
    new ReplayStoreUnavailable(`Replay store unavailable: ${(err as Error)?.message ?? String(err)}`);
  return {
    kind: 'redis',
    async claim(iss: string, jti: string, expiresAtMs: number, nowMs: number): Promise<ReplayClaim> {
      // A fixed-length key whatever the token carries (jti up to 512 characters, any issuer), and
      // unambiguous: the hash covers both fields with a separator neither can contain unescaped.
      const key = prefix + createHash('sha256').update(JSON.stringify([iss, jti])).digest('base64url');
      // Relative expiry from this instance's clock, the one that judged exp; at least 1 ms.
      const ttlMs = Math.max(1, Math.ceil(expiresAtMs - nowMs));
      let reply: string | null;
      try {
        reply = await redis.set(key, '1', 'PX', ttlMs, 'NX');
      } catch (err) {
        throw unavailable(err);
      }
      return reply === 'OK' ? 'ok' : 'replay';
    },
    async ping(): Promise<void> {
      try {
        await redis.ping();
      } catch (err) {
        throw unavailable(err);
      }
    },
    async close(): Promise<void> {
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
