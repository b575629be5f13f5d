// SMART on FHIR detail app routes (SMART App Launch 2.x, EHR launch). The cards' `smart` links point at
// /smart/launch; the EHR adds `iss` (its FHIR base) and `launch`.
//   GET  /smart/launch      iss checked against the allowlist, then fhirclient's authorize (PKCE S256, state)
//   GET  /smart/app         the redirect URI: fhirclient's ready() (state, verifier), then the detail view
//   POST /smart/token       the code exchange, made by this server (token-exchange.ts)
//   POST /smart/api/detail  ServiceDetail for the patient of the launch, read with the launch's token
// A launch naming a FHIR server that is not allowlisted is refused with a page; a token is only ever
// sent to an allowlisted FHIR server (or the token endpoint its smart-configuration names).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppConfig } from '../config.ts';
import { isFhirServerAllowed } from '../hooks/auth.ts';
import { HttpError, badRequest } from '../errors.ts';
import type { ComputeDetail } from './detail.ts';
import { AppContextSchema, type AppContext } from '../services/detail-schema.ts';
import { appPage, launchPage, refusalPage } from './pages.ts';
import { exchangeCode, type TokenExchangeResult } from './token-exchange.ts';

import { SMART_APP_PATH } from './paths.ts';

export { SMART_LAUNCH_PATH, SMART_APP_PATH } from './paths.ts';

/**
 * Scopes as narrow as the view needs (SMART v2): read/search of what the services' prefetch reads,
 * and creating, updating and reading back the DiagnosticReport of the CMR report draft, which the
 * EHR may refuse.
 */
export const SMART_SCOPES = [
  'launch', 'openid', 'fhirUser',
  'patient/Patient.rs', 'patient/Observation.rs', 'patient/Condition.rs', 'patient/Procedure.rs', 'patient/Encounter.rs',
  'patient/DiagnosticReport.cru',
].join(' ');

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const require = createRequire(import.meta.url);
/** The libraries' own browser builds, served as they ship (no build step). */
const VENDOR: Record<string, string> = {
  'fhir-client.js': join(dirname(require.resolve('fhirclient/package.json')), 'build', 'fhir-client.pure.min.js'),
  'chart.js': join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
};

export interface SmartRouterDeps {
  config: AppConfig;
  /** FHIR base URLs a launch may name: the trusted CDS clients' fhirServers (and the demo's). */
  issuers: readonly string[];
  computeDetail: ComputeDetail;
  /** Services with a detail view, for the app's chooser when it is launched without a card. */
  services: ReadonlyArray<{ id: string; title: string }>;
  /** The code exchange (token-exchange.ts); injectable for tests. */
  exchange?: (iss: string, form: Record<string, unknown>) => Promise<TokenExchangeResult>;
}

const DetailBody = z.object({
  iss: z.string().max(2048),
  patient: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/),
  encounter: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/).optional(),
  serviceId: z.string().max(64).optional(),
  /** The token response's appContext, as the EHR passed it (a JSON string from the card's link). */
  appContext: z.string().max(8192).optional(),
});

export function smartRouter(deps: SmartRouterDeps): express.Router {
  const { config } = deps;
  const router = express.Router();
  const redirectUri = `${config.publicBaseUrl}${SMART_APP_PATH}`;
  const allowed = (iss: string): boolean => isFhirServerAllowed({ fhirServers: [...deps.issuers] }, iss);
  const exchange = deps.exchange ?? ((iss: string, form: Record<string, unknown>) => exchangeCode(iss, form, {
    clientId: config.smartClientId,
    ...(config.smartClientSecret ? { clientSecret: config.smartClientSecret } : {}),
    redirectUri,
    timeoutMs: config.fetchBudgetMs,
  }));
  const csp = pageCsp(config, deps.issuers);

  const html = (res: Response, status: number, body: string): void => {
    res.status(status).set({ 'Content-Security-Policy': csp, 'Cache-Control': 'no-store' }).type('html').send(body);
  };

  router.get('/launch', (req: Request, res: Response) => {
    const iss = typeof req.query.iss === 'string' ? req.query.iss : undefined;
    const launch = typeof req.query.launch === 'string' ? req.query.launch : undefined;
    if (!iss) {
      html(res, 400, refusalPage('Launch refused', 'The EHR did not say which FHIR server to use (no iss parameter).'));
      return;
    }
    if (!allowed(iss)) {
      // DESIGN.md, Security: never send a token (or the user) to a FHIR server that is not allowlisted.
      html(res, 403, refusalPage('Launch refused', 'The FHIR server named by this launch (iss) is not one this service is configured to trust.'));
      return;
    }
    if (!launch || launch.length > 1024) {
      html(res, 400, refusalPage('Launch refused', 'This is an EHR launch and the EHR gave no launch context (no launch parameter).'));
      return;
    }
    html(res, 200, launchPage({ clientId: config.smartClientId, scope: SMART_SCOPES, redirectUri, tokenUri: `${config.publicBaseUrl}/smart/token` }));
  });

  router.get('/app', (_req, res) => {
    html(res, 200, appPage(deps.services));
  });

  router.use('/static', express.static(STATIC_DIR, { index: false, maxAge: 0, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  router.get('/vendor/:file', (req: Request<{ file: string }>, res: Response) => {
    const file = VENDOR[req.params.file];
    if (!file) {
      res.status(404).end();
      return;
    }
    res.type('application/javascript').set('Cache-Control', 'public, max-age=3600').sendFile(file);
  });

  router.post('/token', express.urlencoded({ extended: false, limit: '16kb' }), async (req: Request, res: Response) => {
    const iss = typeof req.query.iss === 'string' ? req.query.iss : '';
    if (!allowed(iss)) throw new HttpError(403, 'forbidden', 'Token request refused: the FHIR server is not allowlisted');
    const result = await exchange(iss, (req.body ?? {}) as Record<string, unknown>);
    res.status(result.status).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(result.body);
  });

  router.post('/api/detail', express.json({ limit: '16kb' }), async (req: Request, res: Response) => {
    const token = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token) throw new HttpError(401, 'login', 'Unauthorized');
    const parsed = DetailBody.safeParse(req.body);
    if (!parsed.success) throw badRequest('Body must be { "iss", "patient", "encounter"?, "serviceId"?, "appContext"? }');
    const b = parsed.data;
    if (!allowed(b.iss)) throw new HttpError(403, 'forbidden', 'The FHIR server is not allowlisted: the access token is not sent there');
    const appContext = parseAppContext(b.appContext);
    const detail = await deps.computeDetail({
      iss: b.iss,
      accessToken: token,
      patientId: b.patient,
      ...(b.encounter ? { encounterId: b.encounter } : {}),
      ...(b.serviceId ? { serviceId: b.serviceId } : {}),
      ...(appContext ? { appContext } : {}),
    });
    res.set('Cache-Control', 'no-store').json(detail);
  });

  return router;
}

/** The card's compact appContext; an EHR may pass something else: then there is no card context. */
function parseAppContext(text: string | undefined): AppContext | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = AppContextSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CSP of the app's pages: scripts and styles from this origin only; fetches to this origin (detail
 * API, token exchange) and to the allowlisted FHIR servers (fhirclient's discovery, the report write);
 * framing by the configured EHR origins (DESIGN.md, Security: frame-ancestors from config).
 */
function pageCsp(config: AppConfig, issuers: readonly string[]): string {
  const origins = [...new Set(issuers.map((i) => {
    try {
      return new URL(i).origin;
    } catch {
      return undefined;
    }
  }).filter((o): o is string => o !== undefined))];
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${origins.join(' ')}`.trim(),
    `frame-ancestors 'self' ${config.frameAncestors.join(' ')}`.trim(),
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}
