// Operations routes: liveness, readiness (the database and the replay store answer), Prometheus
// metrics and the HTTP contract. Public (no JWT), mounted at the root by app.ts; /metrics asks for a
// bearer token when METRICS_TOKEN is set (its figures are not patient data, but they show who calls
// how often and what fails).
import express from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
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
  /** config-fingerprint.ts releaseId: equal on every instance of one release. */
  release: string;
  metrics: Metrics;
  /** METRICS_TOKEN: when set, /metrics wants it as a bearer token. */
  metricsToken?: string;
}

export function operationsRouter(deps: OperationsDeps): express.Router {
  const { store, replay, configFingerprint, release, metrics } = deps;
  const allowed = metricsAccess(deps.metricsToken);
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
    res.json({ status: 'ready', configFingerprint, release, replayStore: replay.kind });
  });
  router.get('/metrics', async (req, res) => {
    if (!allowed(req.get('authorization'))) {
      res.status(401).set('www-authenticate', 'Bearer realm="metrics"').json(operationOutcome('login', 'GET /metrics needs the METRICS_TOKEN as a bearer token'));
      return;
    }
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const openapi = readFileSync(OPENAPI_PATH, 'utf8');
  router.get('/openapi.yaml', (_req, res) => { res.type('application/yaml').send(openapi); });
  return router;
}

/** Whether an Authorization header opens /metrics: any when no token is set, else the exact token. */
function metricsAccess(token: string | undefined): (authorization: string | undefined) => boolean {
  if (token === undefined) return () => true;
  // Digests of equal length, compared in constant time: the comparison tells nothing of the token.
  const want = createHash('sha256').update(token).digest();
  return (authorization) => {
    const m = /^Bearer (.+)$/i.exec(authorization ?? '');
    return m !== null && timingSafeEqual(createHash('sha256').update(m[1]!).digest(), want);
  };
}
