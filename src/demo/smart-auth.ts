// The demo EHR's SMART on FHIR authorization server (SMART App Launch 2.x, EHR launch), built on
// oidc-provider (OpenID certified OAuth 2.0 / OIDC server): authorization code with PKCE S256 required,
// SMART v2 scopes granted per launch, JWT access tokens (RFC 9068) for the embedded FHIR server as
// their audience, the launch context (patient, appContext) in the token response, and
// `.well-known/smart-configuration` at the FHIR base. The demo user is approved without a password
// page; everything else is the real OAuth flow. Synthetic data only: off with DEMO=false.
import { randomBytes, randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { z } from 'zod';
import { isReadOnly, parseResourceScope, parseScopes, patientScopeVocabulary, type ResourceScope } from './smart-scopes.ts';
import { operationOutcome } from '../errors.ts';
import { memoryAdapterFactory } from './auth-store.ts';

/** Resource types the demo FHIR server serves to SMART apps (patient compartment, subject-bearing). */
export const SMART_RESOURCE_TYPES = ['Patient', 'Observation', 'Condition', 'Procedure', 'Encounter', 'DiagnosticReport', 'RiskAssessment'] as const;

/** The context the demo EHR registers when the clinician opens an app from a card. */
export interface LaunchContext {
  patient: string;
  encounter?: string;
  /** The card link's appContext, passed through as the SMART token response's `appContext`. */
  appContext?: string;
  /** Whether this EHR lets the app write (the demo page's setting); otherwise only read scopes are granted. */
  allowWrite: boolean;
}

/** What a verified SMART access token allows at the FHIR server. */
export interface SmartAccess {
  patient: string;
  scopes: ResourceScope[];
}

export interface SmartAuthServer {
  /** Mount at '/': `/demo/auth/*` (oidc-provider), the demo approval step, POST /demo/launch, smart-configuration. */
  router: express.Router;
  issuer: string;
  registerLaunch(context: LaunchContext): string;
  /** A valid access token issued here for the FHIR server, or undefined (signature, iss, aud, exp, typ checked). */
  verifyAccessToken(token: string): Promise<SmartAccess | undefined>;
}

export interface SmartAuthOptions {
  publicBaseUrl: string;
  fhirBaseUrl: string;
  clientId: string;
  /** Registers the client as confidential (client_secret_basic) when set. */
  clientSecret?: string;
  now?: () => number;
}

const AUTH_PATH = '/demo/auth';
const APPROVE_PATH = '/demo/auth-approve';
/** A launch id is good for one authorization, within this time (the app starts right after the click). */
const LAUNCH_TTL_MS = 5 * 60_000;
const MAX_PENDING = 1000;
const ACCESS_TOKEN_TTL_S = 3600;
const DEMO_ACCOUNT = 'demo-clinician';
const THIRD_PARTY_COOKIE = { httpOnly: true, sameSite: 'none', secure: true, partitioned: true } as const;
const LaunchBody = z.object({
  patient: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/),
  encounter: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/).optional(),
  appContext: z.string().max(8192).optional(),
  allowWrite: z.boolean().default(true),
});

export async function createSmartAuthServer(opts: SmartAuthOptions): Promise<SmartAuthServer> {
  const now = opts.now ?? Date.now;
  const issuer = `${opts.publicBaseUrl}${AUTH_PATH}`;
  const fhirBase = opts.fhirBaseUrl;
  const redirectUri = `${opts.publicBaseUrl}/smart/app`;
  const https = opts.publicBaseUrl.startsWith('https:');
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const kid = randomUUID();
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const publicJwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] });
  const resourceScopes = patientScopeVocabulary(SMART_RESOURCE_TYPES).join(' ');

  // Pending launches (id -> context) and the context of each grant (grant id -> context): per process,
  // owned by this server object, bounded and expiring.
  const launches = new Map<string, { context: LaunchContext; expires: number }>();
  const grants = new Map<string, { context: LaunchContext; expires: number }>();
  const prune = (m: Map<string, { expires: number }>): void => {
    const t = now();
    for (const [k, v] of m) if (v.expires <= t) m.delete(k);
    while (m.size > MAX_PENDING) m.delete(m.keys().next().value as string);
  };

  const configuration: Configuration = {
    adapter: memoryAdapterFactory(now),
    clients: [{
      client_id: opts.clientId,
      ...(opts.clientSecret ? { client_secret: opts.clientSecret, token_endpoint_auth_method: 'client_secret_basic' } : { token_endpoint_auth_method: 'none' }),
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys: [privateJwk] },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      // Behind https (a TLS proxy), the sign-in cookies must also work when the app is framed by an EHR
      // of another site: SameSite=None; Secure; Partitioned (CHIPS). On plain http (the local demo)
      // browsers refuse Secure cookies, and the EHR page, the app and this server share one origin.
      ...(https ? { long: THIRD_PARTY_COOKIE, short: THIRD_PARTY_COOKIE } : {}),
    },
    // SMART 2.x requires PKCE S256 of every client, confidential ones included.
    pkce: { required: () => true },
    scopes: ['openid', 'fhirUser', 'launch', 'launch/patient'],
    claims: { openid: ['sub'], fhirUser: ['fhirUser'] },
    extraParams: {
      // SMART: the app names the FHIR server it wants a token for; the server must check it.
      aud(_ctx: KoaContextWithOIDC, value: string | undefined) {
        if (value !== fhirBase) throw new errors.InvalidRequest(`aud must be this EHR's FHIR base URL (${fhirBase})`);
      },
      launch(_ctx: KoaContextWithOIDC, value: string | undefined) {
        prune(launches);
        if (value === undefined || !launches.has(value)) throw new errors.InvalidRequest('unknown or expired launch: open the app again from the EHR');
      },
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      revocation: { enabled: false },
      introspection: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => fhirBase,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== fhirBase) throw new errors.InvalidTarget();
          return {
            scope: resourceScopes,
            audience: fhirBase,
            accessTokenTTL: ACCESS_TOKEN_TTL_S,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // Every authorization is a new launch: never reuse the session's earlier grant (its context differs).
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    interactions: { url: (_ctx, interaction) => `${APPROVE_PATH}/${interaction.uid}` },
    async findAccount(_ctx, id) {
      return { accountId: id, claims: () => ({ sub: id, fhirUser: `${fhirBase}/Practitioner/demo` }) };
    },
    async extraTokenClaims(_ctx, token) {
      const grantId = (token as { grantId?: string }).grantId;
      const context = grantId ? grants.get(grantId)?.context : undefined;
      return context ? { patient: context.patient } : undefined;
    },
    ttl: { AccessToken: ACCESS_TOKEN_TTL_S, AuthorizationCode: 60, Interaction: 300, Session: 3600, Grant: 3600, IdToken: 3600 },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage(String(out.error ?? 'error'), String(out.error_description ?? ''));
    },
  };

  const provider = new Provider(issuer, configuration);
  // https in PUBLIC_BASE_URL means a TLS-terminating proxy in front: trust its X-Forwarded-Proto.
  if (https) provider.proxy = true;
  // SMART launch context in the token response (SMART App Launch 2.x §"Launch context arrives with
  // your access_token"; CDS Hooks 2.0 §"Link": appContext is passed to the app this way).
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'token' || ctx.status !== 200) return;
    const body = ctx.body as Record<string, unknown> | undefined;
    const code = ctx.oidc.entities.AuthorizationCode;
    const context = code?.grantId ? grants.get(code.grantId)?.context : undefined;
    if (!body || typeof body.access_token !== 'string' || !context) return;
    body.patient = context.patient;
    if (context.encounter) body.encounter = context.encounter;
    if (context.appContext !== undefined) body.appContext = context.appContext;
    body.need_patient_banner = false;
    // The token's `scope` names the resource scopes; the granted launch/OIDC scopes belong there too.
    const oidcScopes = ctx.oidc.entities.Grant?.getOIDCScope();
    if (oidcScopes) body.scope = `${oidcScopes} ${String(body.scope ?? '')}`.trim();
  });

  const router = express.Router();

  router.post('/demo/launch', express.json({ limit: '16kb' }), (req: Request, res: Response) => {
    const parsed = LaunchBody.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json(operationOutcome('invalid', 'Body must be { "patient": "<id>", "appContext"?: "<string>", "allowWrite"?: boolean }'));
      return;
    }
    const { encounter, appContext, ...rest } = parsed.data;
    res.set('Cache-Control', 'no-store').json({ launch: register({ ...rest, ...(encounter ? { encounter } : {}), ...(appContext !== undefined ? { appContext } : {}) }) });
  });

  // The demo's approval step: the demo clinician is signed in and the grant is the requested scopes the
  // launch allows (read-only scopes when the EHR refuses writes). A real EHR would ask here.
  router.get(`${APPROVE_PATH}/:uid`, async (req: Request, res: Response) => {
    let details: Awaited<ReturnType<typeof provider.interactionDetails>>;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      res.status(400).type('html').send(errorPage('invalid_request', 'This sign-in step has expired or was already used: open the app again from the EHR.'));
      return;
    }
    const params = details.params as Record<string, unknown>;
    const launchId = typeof params.launch === 'string' ? params.launch : '';
    const pending = launches.get(launchId);
    if (!pending || pending.expires <= now()) {
      await provider.interactionFinished(req, res, { error: 'invalid_request', error_description: 'unknown or expired launch: open the app again from the EHR' }, { mergeWithLastSubmission: false });
      return;
    }
    launches.delete(launchId); // one authorization per launch
    const requested = String(params.scope ?? '').split(/\s+/).filter(Boolean);
    const oidc = requested.filter((s) => ['openid', 'fhirUser', 'launch', 'launch/patient'].includes(s));
    const resource = requested.filter((s) => {
      const parsed = parseResourceScope(s);
      return parsed !== undefined && parsed.context === 'patient' && (pending.context.allowWrite || isReadOnly(parsed));
    });
    const refused = requested.filter((s) => !oidc.includes(s) && !resource.includes(s));
    const accountId = details.session?.accountId ?? DEMO_ACCOUNT;
    const grant = new provider.Grant({ accountId, clientId: String(params.client_id) });
    grant.addOIDCScope(oidc.join(' '));
    if (resource.length > 0) grant.addResourceScope(fhirBase, resource.join(' '));
    // Scopes the EHR refuses are rejected, not left pending (else consent would be asked again).
    if (refused.length > 0) grant.rejectResourceScope(fhirBase, refused.join(' '));
    const grantId = await grant.save();
    grants.set(grantId, { context: pending.context, expires: now() + ACCESS_TOKEN_TTL_S * 1000 });
    prune(grants);
    await provider.interactionFinished(req, res, {
      ...(details.prompt.name === 'login' ? { login: { accountId } } : {}),
      consent: { grantId },
    }, { mergeWithLastSubmission: false });
  });

  router.get('/demo/fhir/.well-known/smart-configuration', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(smartConfiguration(issuer, fhirBase, resourceScopes, Boolean(opts.clientSecret)));
  });

  router.use(AUTH_PATH, provider.callback());

  function register(context: LaunchContext): string {
    prune(launches);
    const id = randomUUID();
    launches.set(id, { context, expires: now() + LAUNCH_TTL_MS });
    return id;
  }

  async function verifyAccessToken(token: string): Promise<SmartAccess | undefined> {
    try {
      const { payload } = await jwtVerify(token, publicJwks, {
        issuer, audience: fhirBase, algorithms: ['RS256'], typ: 'at+jwt', currentDate: new Date(now()),
      });
      if (typeof payload.patient !== 'string' || typeof payload.scope !== 'string') return undefined;
      return { patient: payload.patient, scopes: parseScopes(payload.scope) };
    } catch {
      return undefined;
    }
  }

  return { router, issuer, registerLaunch: register, verifyAccessToken };
}

/** SMART App Launch 2.x §"Metadata" (`.well-known/smart-configuration`). */
function smartConfiguration(issuer: string, fhirBase: string, resourceScopes: string, confidential: boolean): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}/jwks`,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    grant_types_supported: ['authorization_code'],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: confidential ? ['client_secret_basic'] : ['none'],
    scopes_supported: ['openid', 'fhirUser', 'launch', 'launch/patient', ...resourceScopes.split(' ').filter((s) => !s.startsWith('patient/*.') || s === 'patient/*.rs')],
    code_challenge_methods_supported: ['S256'],
    capabilities: [
      'launch-ehr', 'client-public', 'client-confidential-symmetric', 'context-ehr-patient', 'sso-openid-connect',
      'permission-v2', 'permission-v1', 'permission-patient', 'context-passthrough-banner',
    ],
    associated_endpoints: [],
    fhir_base: fhirBase,
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function errorPage(error: string, description: string): string {
  return '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in refused</title></head><body>'
    + `<h1>Sign-in refused</h1><p>The demo EHR's authorization server refused this request: <code>${escapeHtml(error)}</code>.</p>`
    + (description ? `<p>${escapeHtml(description)}</p>` : '')
    + '</body></html>';
}
