// The authorization code → token exchange of the SMART app, made by this server (POST /smart/token).
// fhirclient in the browser runs the launch (discovery, state, PKCE) and posts the code and its PKCE
// verifier here instead of to the EHR's token endpoint. Why on the server:
//   - a confidential client's secret (SMART_CLIENT_SECRET) must never reach a browser: the server adds
//     client_secret_basic (RFC 6749 §2.3.1) and the browser never sees it;
//   - the token endpoint is discovered here, from `{iss}/.well-known/smart-configuration` of an
//     allowlisted iss, so the page's CSP `connect-src` needs only this origin and the FHIR servers;
//   - nothing else is forwarded: the grant type, redirect URI and client id must be this app's, and a
//     request without a PKCE verifier is refused before any call (SMART App Launch 2.x requires PKCE).
// Tokens are relayed to the browser that asked (which holds the PKCE verifier), never logged.
import { z } from 'zod';
import { HttpError, badRequest } from '../errors.ts';

export interface TokenExchangeConfig {
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
  timeoutMs: number;
  /** Injected for tests; global fetch otherwise. */
  fetch?: typeof fetch;
}

export interface TokenExchangeResult {
  status: number;
  body: Record<string, unknown>;
}

const TokenForm = z.object({
  grant_type: z.literal('authorization_code', { message: 'grant_type must be authorization_code' }),
  code: z.string().min(1).max(4096),
  redirect_uri: z.string().max(2048),
  client_id: z.string().max(256).optional(),
  code_verifier: z.string().regex(/^[A-Za-z0-9\-._~]{43,128}$/, 'code_verifier (PKCE) is missing or malformed').optional(),
});

const SmartConfiguration = z.looseObject({ token_endpoint: z.string().max(2048) });

/** RFC 7636 §4.1: the verifier is 43–128 unreserved characters; SMART 2.x makes it mandatory. */
export class MissingPkceVerifier extends HttpError {
  constructor() {
    super(400, 'security', 'Token request refused: no PKCE code_verifier (SMART App Launch 2.x requires PKCE S256)');
  }
}

export async function exchangeCode(iss: string, form: Record<string, unknown>, cfg: TokenExchangeConfig): Promise<TokenExchangeResult> {
  const parsed = TokenForm.safeParse(form);
  if (!parsed.success) throw badRequest(`Token request refused: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  const f = parsed.data;
  if (f.code_verifier === undefined) throw new MissingPkceVerifier();
  if (f.redirect_uri !== cfg.redirectUri) throw badRequest('Token request refused: redirect_uri is not this app\'s');
  if (f.client_id !== undefined && f.client_id !== cfg.clientId) throw badRequest('Token request refused: client_id is not this app\'s');

  const doFetch = cfg.fetch ?? fetch;
  const tokenEndpoint = await discoverTokenEndpoint(iss, doFetch, cfg.timeoutMs);
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: f.code, redirect_uri: cfg.redirectUri, code_verifier: f.code_verifier });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (cfg.clientSecret !== undefined) {
    // RFC 6749 §2.3.1: each part form-urlencoded before Basic encoding.
    const basic = Buffer.from(`${encodeURIComponent(cfg.clientId)}:${encodeURIComponent(cfg.clientSecret)}`).toString('base64');
    headers.authorization = `Basic ${basic}`;
  } else {
    body.set('client_id', cfg.clientId);
  }
  let res: Response;
  try {
    // Never follow a redirect with a code (and maybe a secret) in the body.
    res = await doFetch(tokenEndpoint, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(cfg.timeoutMs) });
  } catch {
    throw new HttpError(502, 'exception', 'The EHR\'s token endpoint could not be reached');
  }
  const json = await res.json().catch(() => undefined) as unknown;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new HttpError(502, 'exception', `The EHR's token endpoint answered HTTP ${res.status} without JSON`);
  // OAuth errors (400/401 with { error }) are passed on as they are: the app shows them.
  return { status: res.ok ? 200 : res.status >= 400 && res.status < 500 ? res.status : 502, body: json as Record<string, unknown> };
}

/** SMART App Launch 2.x §"Metadata": the token endpoint of an (already allowlisted) FHIR server. */
async function discoverTokenEndpoint(iss: string, doFetch: typeof fetch, timeoutMs: number): Promise<string> {
  const url = `${iss.replace(/\/+$/, '')}/.well-known/smart-configuration`;
  let json: unknown;
  try {
    const res = await doFetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(String(res.status));
    json = await res.json();
  } catch {
    throw new HttpError(502, 'exception', 'The EHR\'s .well-known/smart-configuration could not be read');
  }
  const conf = SmartConfiguration.safeParse(json);
  if (!conf.success) throw new HttpError(502, 'exception', 'The EHR\'s smart-configuration names no token_endpoint');
  let endpoint: URL;
  try {
    endpoint = new URL(conf.data.token_endpoint);
  } catch {
    throw new HttpError(502, 'exception', 'The EHR\'s token_endpoint is not a URL');
  }
  const issUrl = new URL(iss);
  // https, or plain http only where the FHIR server itself is plain http (a local demo); no credentials.
  const okScheme = endpoint.protocol === 'https:' || (endpoint.protocol === 'http:' && issUrl.protocol === 'http:');
  if (!okScheme || endpoint.username || endpoint.password) throw new HttpError(502, 'exception', 'The EHR\'s token_endpoint is not an acceptable URL');
  return endpoint.href;
}
