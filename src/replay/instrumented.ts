// The replay store with its latency and outcomes in /metrics (cds_jwt_replay_claim_duration_seconds):
// with REDIS_URL every CDS call waits on one Redis round trip, and an operator should see what it
// costs and how often Redis could not be asked (outcome "unavailable", each one a 503).
import type { Histogram } from 'prom-client';
import { ReplayStoreUnavailable, type ReplayStore } from '../hooks/replay-store.ts';

export function instrumentReplayStore(store: ReplayStore, histogram: Histogram<'store' | 'outcome'>): ReplayStore {
  return {
    kind: store.kind,
    async claim(iss, jti, expiresAtMs, nowMs) {
      const end = histogram.startTimer({ store: store.kind });
      try {
        const outcome = await store.claim(iss, jti, expiresAtMs, nowMs);
        end({ outcome });
        return outcome;
      } catch (err) {
        end({ outcome: err instanceof ReplayStoreUnavailable ? 'unavailable' : 'error' });
        throw err;
      }
    },
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
