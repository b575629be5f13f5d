// The CDS Hooks routes, mounted at /cds-services by app.ts: discovery, service calls, feedback and
// override rates, behind CORS and the client's JWT (CDS Hooks 2.0 §"Trusting CDS Clients").
// A service call is one run of the use case (call-service.ts, through the hook runner); its error
// value becomes an HttpError here, which app.ts's error handler turns into HTTP.
import express, { type NextFunction, type Request, type Response } from 'express';
import cors from 'cors';
import type { AppConfig } from '../config.ts';
import type { Metrics } from '../metrics.ts';
import type { CdsService } from '../services/types.ts';
import { cdsAuth, cdsClientOf, hookCaller, type JwtVerifier, type VerifiedClient } from './auth.ts';
import type { HookObservation } from './call-service.ts';
import { discoveryDocument } from './discovery.ts';
import { feedbackRequestSchema } from './feedback-schema.ts';
import type { HookRunner } from './hook-runner.ts';
import { describeIssues } from './schemas.ts';
import type { CdsStore } from './store-port.ts';
import { HttpError, badRequest, notFound, unauthorized, unsupportedEncoding } from '../errors.ts';

export interface CdsRoutesDeps {
  config: AppConfig;
  metrics: Metrics;
  verifier: JwtVerifier;
  store: CdsStore;
  services: readonly CdsService[];
  hookRunner: HookRunner;
  now: () => Date;
}

const JSON_TYPES = ['application/json', 'application/*+json'];

export function cdsRouter(deps: CdsRoutesDeps): express.Router {
  const { config, metrics, store, hookRunner } = deps;
  const servicesById = new Map(deps.services.map((s) => [s.description.id, s]));
  const feedbackSchema = feedbackRequestSchema({ now: deps.now, clockSkewS: config.jwtClockSkewS });
  const cds = express.Router();

  // CORS for browser-based EHRs and sandboxes; preflights allow the headers they send, and are
  // answered before authentication, as browsers send no JWT on them.
  cds.use(cors({
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type'],
    credentials: false,
    maxAge: 600,
  }));
  cds.use(cdsAuth(deps.verifier, config.publicBaseUrl));
  const jsonBody = express.json({ limit: config.bodyLimit, type: JSON_TYPES });
  // Hook calls are parsed where they are evaluated (call-service.ts): here only the bytes are read.
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

  return cds;
}

function recordObservation(metrics: Metrics, o: HookObservation): void {
  if (o.kind === 'prefetch-unavailable') {
    metrics.prefetchUnavailable.inc({ service: o.service, key: o.key });
  } else if (o.kind === 'other-patient-dropped') {
    metrics.otherPatientDropped.inc({ service: o.service, resource_type: o.resourceType }, o.count);
  } else if (o.kind === 'imaging-read') {
    metrics.imagingReadDuration.observe({ service: o.service, outcome: o.outcome }, o.ms / 1000);
    metrics.imagingRequests.inc({ service: o.service }, o.requests);
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
