// The Express app factory: routes and middleware wiring only (DESIGN.md, Layout).
import express, { type Request, type Response, type NextFunction } from 'express';
import cors from 'cors';
import helmet from 'helmet';
import { readFileSync } from 'node:fs';
import type { AppConfig } from './config.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { CdsService } from './services/types.ts';
import { cdsAuth, cdsClientOf, hookCaller, type JwtVerifier, type VerifiedClient } from './hooks/auth.ts';
import { discoveryDocument } from './hooks/discovery.ts';
import { inProcessHookRunner, type HookRunner } from './hooks/hook-runner.ts';
import type { HookObservation } from './hooks/call-service.ts';
import { feedbackRequestSchema } from './hooks/feedback-schema.ts';
import type { CdsStore } from './hooks/store-port.ts';
import { describeIssues } from './hooks/schemas.ts';
import { smartRouter } from './smart/routes.ts';
import { createDetailComputer } from './smart/detail.ts';
import { detailAdapters } from './smart/service-details.ts';
import { loadDetailWording, loadReportTemplate } from './smart/wording.ts';
import { HttpError, badRequest, internalError, invalidJson, notFound, operationOutcome, unauthorized, unsupportedEncoding } from './errors.ts';

export interface AppDeps {
  config: AppConfig;
  logger: Logger;
  metrics: Metrics;
  verifier: JwtVerifier;
  store: CdsStore;
  services: CdsService[];
  /** The embedded demo (DEMO=true): serves '/', '/demo/*'. */
  demoRouter?: express.Router;
  /** Where hook calls are evaluated (server.ts starts the worker pool); default: this thread. */
  hookRunner?: HookRunner;
  /** FHIR base URLs a SMART launch may name (the trusted clients' fhirServers); none = every launch refused. */
  smartIssuers?: readonly string[];
  now?: () => Date;
}

const JSON_TYPES = ['application/json', 'application/*+json'];

const OPENAPI_PATH = new URL('../openapi.yaml', import.meta.url);

export function createApp(deps: AppDeps): express.Express {
  const { config, logger, metrics, verifier, store } = deps;
  const now = deps.now ?? (() => new Date());
  const servicesById = new Map(deps.services.map((s) => [s.description.id, s]));
  const hookRunner = deps.hookRunner ?? inProcessHookRunner({ services: servicesById, config, logger, now });
  const feedbackSchema = feedbackRequestSchema({ now, clockSkewS: config.jwtClockSkewS });
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

  // Operations
  app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  app.get('/readyz', async (_req, res) => {
    try {
      await store.ping();
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json(operationOutcome('transient', 'Database not reachable'));
    }
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const openapi = readFileSync(OPENAPI_PATH, 'utf8');
  app.get('/openapi.yaml', (_req, res) => { res.type('application/yaml').send(openapi); });

  // CDS Hooks: CORS for browser-based EHRs and sandboxes; preflights allow the headers they send.
  const corsMiddleware = cors({
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type'],
    credentials: false,
    maxAge: 600,
  });
  const cds = express.Router();
  cds.use(corsMiddleware); // answers preflights before authentication, as browsers send no JWT on them
  cds.use(cdsAuth(verifier, config.publicBaseUrl));
  const jsonBody = express.json({ limit: config.bodyLimit, type: JSON_TYPES });
  // Hook calls are parsed where they are evaluated (hooks/call-service.ts): here only the bytes are read.
  const rawJsonBody = express.raw({ limit: config.bodyLimit, type: JSON_TYPES });

  cds.get('/', (_req, res) => { res.json(discoveryDocument(deps.services)); });

  cds.post('/:id', requireJson, rawJsonBody, async (req: Request<{ id: string }>, res: Response) => {
    const service = servicesById.get(req.params.id);
    if (!service) throw notFound(`Unknown CDS service '${req.params.id}'`);
    const started = process.hrtime.bigint();
    let status = 500;
    try {
      const result = await hookRunner.run({
        serviceId: service.description.id,
        body: Buffer.isBuffer(req.body) ? req.body : new Uint8Array(0),
        caller: hookCaller(res.locals.cdsClient as VerifiedClient),
      });
      // A 412 is where the metrics matter most (which keys were unavailable, what was dropped).
      for (const o of result.observations) recordObservation(metrics, o);
      if (!result.ok) {
        status = result.error.status;
        throw HttpError.from(result.error);
      }
      store.recordIssuedCards(result.issuedCards);
      res.type('application/json').send(Buffer.from(result.body.buffer, result.body.byteOffset, result.body.byteLength));
      status = 200;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.hookDuration.observe({ service: service.description.id, status: String(status) }, seconds);
    }
  });

  cds.post('/:id/feedback', jsonBody, async (req: Request<{ id: string }>, res: Response) => {
    if (!servicesById.has(req.params.id)) throw notFound(`Unknown CDS service '${req.params.id}'`);
    const parsed = feedbackSchema.safeParse(req.body);
    if (!parsed.success) throw badRequest(`Invalid feedback: ${describeIssues(parsed.error)}`);
    // Feedback counts only from the client that received the card, through the service that issued
    // it (DESIGN.md, Security rules); anything else is refused whole, as for a card never issued.
    const client = cdsClientOf(res);
    if (!client) throw unauthorized();
    const result = await store.recordFeedback(req.params.id, client.iss, parsed.data.feedback);
    if (result.status === 'unknown-cards') {
      throw notFound(`No card of feedback item(s) ${result.items.join(', ')} was issued to this client by service '${req.params.id}'; nothing was stored`);
    }
    res.json({ stored: result.stored, duplicates: result.duplicates });
  });

  // Override rates per card kind, for CDS committees (same JWT rule as every CDS route).
  cds.get('/:id/feedback/override-rates', async (req: Request<{ id: string }>, res: Response) => {
    if (!servicesById.has(req.params.id)) throw notFound(`Unknown CDS service '${req.params.id}'`);
    res.json({ serviceId: req.params.id, rates: await store.overrideRates({ serviceId: req.params.id }) });
  });

  app.use('/cds-services', rememberMount, cds);
  const adapters = detailAdapters(deps.services);
  const computeDetail = createDetailComputer({
    config, logger, now, services: deps.services, adapters, wording: loadDetailWording(), report: loadReportTemplate(),
  });
  app.use('/smart', smartRouter({
    config,
    issuers: deps.smartIssuers ?? [],
    computeDetail,
    services: deps.services.filter((s) => adapters.some((a) => a.serviceId === s.description.id)).map((s) => ({ id: s.description.id, title: s.description.title })),
  }));
  if (deps.demoRouter) app.use('/', deps.demoRouter);

  app.use((_req, _res, next) => { next(notFound('No such route')); });
  app.use(errorHandler(logger));
  return app;
}

function recordObservation(metrics: Metrics, o: HookObservation): void {
  if (o.kind === 'prefetch-unavailable') {
    metrics.prefetchUnavailable.inc({ service: o.service, key: o.key });
  } else if (o.kind === 'other-patient-dropped') {
    metrics.otherPatientDropped.inc({ service: o.service, resource_type: o.resourceType }, o.count);
  } else {
    metrics.fhirFetchDuration.observe({ resource_type: o.resourceType, outcome: o.ok ? 'ok' : 'error' }, o.ms / 1000);
    if (!o.ok) metrics.fhirFetchErrors.inc({ resource_type: o.resourceType });
  }
}

/**
 * A hook call must be JSON (CDS Hooks 2.0 §"HTTP Request"): anything else is 415, and so is a charset
 * other than UTF-8 (RFC 8259 §8.1), as express.json() answered before the body was read raw.
 */
function requireJson(req: Request, _res: Response, next: NextFunction): void {
  if (req.is(JSON_TYPES) === false) {
    next(new HttpError(415, 'invalid', 'Send the CDS Hooks request as application/json'));
    return;
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    next(unsupportedEncoding());
    return;
  }
  next();
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
