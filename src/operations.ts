// Operations routes: liveness, readiness (the database and the replay store answer), Prometheus
// metrics and the HTTP contract. Public (no JWT), mounted at the root by app.ts.
import express from 'express';
import { readFileSync } from 'node:fs';
import type { Metrics } from './metrics.ts';
import type { CdsStore } from './hooks/store-port.ts';
import type { ReplayStore } from './hooks/replay-store.ts';
import { operationOutcome } from './errors.ts';

const OPENAPI_PATH = new URL('../openapi.yaml', import.meta.url);

export interface OperationsDeps {
  store: Pick<CdsStore, 'ping'>;
  /** The JWT replay record: with Redis, an instance that cannot reach it refuses CDS calls (503). */
  replay: Pick<ReplayStore, 'ping' | 'kind'>;
  /** config-fingerprint.ts: equal on every instance that serves the same clients. */
  configFingerprint: string;
  metrics: Metrics;
}

export function operationsRouter(deps: OperationsDeps): express.Router {
  const { store, replay, configFingerprint, metrics } = deps;
  const router = express.Router();
  router.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  // The load balancer's health check (docs/deployment.md): not ready while a CDS call would fail
  // for want of the database or the replay record. Both are asked at once.
  router.get('/readyz', async (_req, res) => {
    const [db, rs] = await Promise.allSettled([store.ping(), replay.ping()]);
    if (db.status === 'rejected') {
      res.status(503).json(operationOutcome('transient', 'Database not reachable'));
      return;
    }
    if (rs.status === 'rejected') {
      res.status(503).json(operationOutcome('transient', 'Replay store (Redis) not reachable'));
      return;
    }
    res.json({ status: 'ready', configFingerprint, replayStore: replay.kind });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const openapi = readFileSync(OPENAPI_PATH, 'utf8');
  router.get('/openapi.yaml', (_req, res) => { res.type('application/yaml').send(openapi); });
  return router;
}
