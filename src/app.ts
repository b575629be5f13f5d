// The Express app factory: routes and middleware wiring only (DESIGN.md, Layout).
import express, { type Request, type Response, type NextFunction } from 'express';
import helmet from 'helmet';
import type { AppConfig } from './config.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { Runtime } from './runtime.ts';
import type { JwtVerifier } from './hooks/auth.ts';
import { inProcessHookRunner, type HookRunner } from './hooks/hook-runner.ts';
import { cdsRouter } from './hooks/routes.ts';
import { operationsRouter } from './operations.ts';
import type { CdsStore } from './hooks/store-port.ts';
import { smartRouter } from './smart/routes.ts';
import { createDetailComputer } from './smart/detail.ts';
import { loadDetailWording, loadReportTemplate } from './services/detail-wording.ts';
import { HttpError, internalError, invalidJson, notFound, operationOutcome, unsupportedEncoding } from './errors.ts';

export interface AppDeps {
  config: AppConfig;
  logger: Logger;
  metrics: Metrics;
  verifier: JwtVerifier;
  store: CdsStore;
  /** config-fingerprint.ts, computed by server.ts from the final client list: shown in /readyz. */
  configFingerprint: string;
  /** config-fingerprint.ts releaseId, computed once at start-up: shown in /readyz. */
  release: string;
  /** Built once at start-up (src/runtime.ts): the services, their wording, the terminology. */
  runtime: Runtime;
  /** The embedded demo (DEMO=true): serves '/', '/demo/*'. */
  demoRouter?: express.Router;
  /** Where hook calls are evaluated (server.ts starts the worker pool); default: this thread. */
  hookRunner?: HookRunner;
  /** FHIR base URLs a SMART launch may name (the trusted clients' fhirServers); none = every launch refused. */
  smartIssuers?: readonly string[];
  now?: () => Date;
}

export function createApp(deps: AppDeps): express.Express {
  const { config, logger, metrics, verifier, store, runtime } = deps;
  const now = deps.now ?? runtime.now;
  const services = runtime.services;
  const hookRunner = deps.hookRunner ?? inProcessHookRunner({
    runtime, services: new Map(services.map((s) => [s.description.id, s])), config, logger, now,
  });
  const app = express();
  app.disable('x-powered-by');
  // Every hook response is new (fresh card uuids): hashing it for an ETag is wasted work.
  app.set('etag', false);
  app.set('trust proxy', false);

  app.use(
    helmet({
      // The SMART app may be framed by the EHR: frame-ancestors from config, never a blanket DENY
      // (DESIGN.md, Security). X-Frame-Options cannot express an allowlist, so it is off and CSP rules.
      frameguard: false,
      contentSecurityPolicy: {
        directives: {
          'frame-ancestors': ["'self'", ...config.frameAncestors],
          // Only where the service is served over https: on plain http (the demo on a LAN host)
          // upgrading the page's own requests would break it.
          'upgrade-insecure-requests': config.publicBaseUrl.startsWith('https:') ? [] : null,
        },
      },
    }),
  );
  app.use(accessLog(logger, metrics));

  app.use(operationsRouter({ store, replay: verifier.replayStore, configFingerprint: deps.configFingerprint, release: deps.release, metrics, metricsToken: config.metricsToken }));
  app.use('/cds-services', rememberMount, cdsRouter({ config, metrics, verifier, store, services, hookRunner, now }));
  const computeDetail = createDetailComputer({
    config, logger, now, services, runtime, wording: loadDetailWording(), report: loadReportTemplate(),
  });
  app.use('/smart', smartRouter({
    config,
    issuers: deps.smartIssuers ?? [],
    computeDetail,
    services: services.filter((s) => s.detail !== undefined).map((s) => ({ id: s.description.id, title: s.description.title })),
  }));
  if (deps.demoRouter) app.use('/', deps.demoRouter);

  app.use((_req, _res, next) => { next(notFound('No such route')); });
  app.use(errorHandler(logger));
  return app;
}

/** Access log and request counter by route pattern: URLs may carry patient ids, patterns do not. */
function accessLog(logger: Logger, metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = routePattern(req, res);
      metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'debug';
      logger[level]({ method: req.method, route, status: res.statusCode, ms: Math.round(ms * 100) / 100 }, 'request');
    });
    next();
  };
}

/** Express resets req.baseUrl when an error leaves a router; keep the mount for the access log. */
function rememberMount(req: Request, res: Response, next: NextFunction): void {
  res.locals.mount = req.baseUrl;
  next();
}

function routePattern(req: Request, res: Response): string {
  const mount = (res.locals.mount as string | undefined) ?? req.baseUrl;
  const path = (req.route as { path?: string } | undefined)?.path;
  if (typeof path === 'string') return `${mount}${path === '/' ? '' : path}` || '/';
  // Rejected before a route matched (401, 413, 404): the mount only, never the raw URL.
  return mount ? `${mount}/*` : 'unmatched';
}

/** The one place errors become HTTP: an OperationOutcome, never a stack trace. */
function errorHandler(logger: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) return;
    // body-parser's own errors (feedback route) become the same errors a hook call answers (call-service.ts).
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.parse.failed') err = invalidJson();
    else if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') err = unsupportedEncoding();
    if (err instanceof HttpError) {
      if (err.status === 401) {
        // CDS Hooks 2.0: a bare 401; no hint of what was wrong with the token (RFC 6750 §3 header).
        res.status(401).set('WWW-Authenticate', 'Bearer').end();
        return;
      }
      // RFC 9110 §10.2.3: a transient refusal (the replay store is down) says when to try again.
      if (err.status === 503) res.set('Retry-After', '1');
      res.status(err.status).json(operationOutcome(err.code, err.message));
      return;
    }
    if (e.type === 'entity.too.large') {
      res.status(413).json(operationOutcome('too-costly', 'Request body is larger than the configured limit'));
      return;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json(operationOutcome('invalid', 'Bad request'));
      return;
    }
    logger.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'unhandled error');
    const internal = internalError();
    res.status(internal.status).json(operationOutcome(internal.code, internal.message));
  };
}
