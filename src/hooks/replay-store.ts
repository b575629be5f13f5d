// The JWT replay record: where each verified (iss, jti) is claimed once, until the token could no
// longer be accepted anyway. CDS Hooks 2.0 §"Trusting CDS Clients": `jti` protects against replay.
// Defined here and filled from outside hooks/ (DESIGN.md, House rules: hooks define the port): the
// in-process cache below for one instance, Redis (src/replay/redis-replay-store.ts, REDIS_URL) when
// several instances must agree that a token was already used (DESIGN.md, Several instances).
import { JtiCache } from './jti-cache.ts';

/**
 * 'ok': first use, now recorded. 'replay': already recorded and still live. 'full': the in-process
 * cache has no room left (it refuses rather than forgets: forgetting would re-open a replay window).
 */
export type ReplayClaim = 'ok' | 'replay' | 'full';

export interface ReplayStore {
  /** 'memory' (this process only) or 'redis' (shared by every instance that names the same Redis). */
  readonly kind: 'memory' | 'redis';
  /**
   * Records (iss, jti) until `expiresAtMs` atomically: of several concurrent claims of one pair,
   * exactly one gets 'ok'. Rejects with ReplayStoreUnavailable when the record cannot be consulted:
   * the caller must then refuse the call (an unverifiable token is not an unreplayed one).
   */
  claim(iss: string, jti: string, expiresAtMs: number, nowMs: number): Promise<ReplayClaim>;
  /** Resolves when the store answers (readiness probe); rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The shared replay record could not be consulted (Redis down, or slower than its timeout). */
export class ReplayStoreUnavailable extends Error {
  constructor(message = 'Replay store unavailable') {
    super(message);
    this.name = 'ReplayStoreUnavailable';
  }
}

/** One instance: the bounded in-process cache (jti-cache.ts). Several instances need Redis. */
export function memoryReplayStore(maxEntries = 500_000): ReplayStore {
  const cache = new JtiCache(maxEntries);
  return {
    kind: 'memory',
    claim: (iss, jti, expiresAtMs, nowMs) => Promise.resolve(cache.add(iss, jti, expiresAtMs, nowMs)),
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
