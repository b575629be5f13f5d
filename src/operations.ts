// Operations routes: liveness, readiness (the database answers), Prometheus metrics and the HTTP
// contract. Public (no JWT), mounted at the root by app.ts.
import express from 'express';
import { readFileSync } from 'node:fs';
import type { Metrics } from './metrics.ts';
import type { CdsStore } from './hooks/store-port.ts';
import { operationOutcome } from './errors.ts';

const OPENAPI_PATH = new URL('../openapi.yaml', import.meta.url);

export function operationsRouter(deps: { store: Pick<CdsStore, 'ping'>; metrics: Metrics }): express.Router {
  const { store, metrics } = deps;
  const router = express.Router();
  router.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  router.get('/readyz', async (_req, res) => {
    try {
      await store.ping();
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json(operationOutcome('transient', 'Database not reachable'));
    }
  });
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const openapi = readFileSync(OPENAPI_PATH, 'utf8');
  router.get('/openapi.yaml', (_req, res) => { res.type('application/yaml').send(openapi); });
  return router;
}
