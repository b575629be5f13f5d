// The server-side code exchange (src/smart/token-exchange.ts) at its one boundary, the HTTP client:
// what it refuses before any call, and what it sends for a public and a confidential client.
import { exchangeCode, MissingPkceVerifier, type TokenExchangeConfig } from '../../../src/smart/token-exchange.ts';
import { HttpError } from '../../../src/errors.ts';

const ISS = 'https://ehr.test/fhir';
const REDIRECT = 'https://cds.test/smart/app';
const VERIFIER = 'v'.repeat(43);

interface Call { url: string; init: RequestInit }

function fakeFetch(token: { status: number; body: unknown }, conf: unknown = { token_endpoint: 'https://auth.ehr.test/token' }) {
  const calls: Call[] = [];
  const f = (async (url: string | URL | Request, init: RequestInit = {}) => {
    calls.push({ url: String(url), init });
    if (String(url).endsWith('/.well-known/smart-configuration')) return new Response(JSON.stringify(conf), { status: 200 });
    return new Response(JSON.stringify(token.body), { status: token.status });
  }) as typeof fetch;
  return { f, calls };
}

const form = (extra: Record<string, string> = {}) => ({ grant_type: 'authorization_code', code: 'the-code', redirect_uri: REDIRECT, client_id: 'app', code_verifier: VERIFIER, ...extra });
const cfg = (f: typeof fetch, secret?: string): TokenExchangeConfig => ({ clientId: 'app', redirectUri: REDIRECT, timeoutMs: 1000, fetch: f, ...(secret ? { clientSecret: secret } : {}) });

test('a request without a PKCE verifier is refused before any call', async () => {
  const { f, calls } = fakeFetch({ status: 200, body: { access_token: 'x' } });
  const { code_verifier: _omit, ...noVerifier } = form();
  await expect(exchangeCode(ISS, noVerifier, cfg(f))).rejects.toBeInstanceOf(MissingPkceVerifier);
  await expect(exchangeCode(ISS, form({ code_verifier: 'short' }), cfg(f))).rejects.toThrow(/PKCE/);
  expect(calls).toEqual([]);
});

test.each([
  ['another redirect_uri', { redirect_uri: 'https://evil.test/cb' }],
  ['another client_id', { client_id: 'someone-else' }],
  ['another grant type', { grant_type: 'client_credentials' }],
])('%s is refused before any call', async (_name, extra) => {
  const { f, calls } = fakeFetch({ status: 200, body: { access_token: 'x' } });
  await expect(exchangeCode(ISS, form(extra), cfg(f))).rejects.toMatchObject({ status: 400 });
  expect(calls).toEqual([]);
});

test('public client: client_id in the body, no Authorization header, the token endpoint from smart-configuration', async () => {
  const { f, calls } = fakeFetch({ status: 200, body: { access_token: 'at', patient: 'p1', appContext: '{}' } });
  const r = await exchangeCode(ISS, form(), cfg(f));
  expect(r).toEqual({ status: 200, body: { access_token: 'at', patient: 'p1', appContext: '{}' } });
  expect(calls.map((c) => c.url)).toEqual(['https://ehr.test/fhir/.well-known/smart-configuration', 'https://auth.ehr.test/token']);
  const post = calls[1]!;
  expect(post.init.redirect).toBe('manual');
  const body = new URLSearchParams(String(post.init.body));
  expect(Object.fromEntries(body)).toEqual({ grant_type: 'authorization_code', code: 'the-code', redirect_uri: REDIRECT, code_verifier: VERIFIER, client_id: 'app' });
  expect((post.init.headers as Record<string, string>).authorization).toBeUndefined();
});

test('confidential client: client_secret_basic (RFC 6749 §2.3.1 encoding), the secret never in the body', async () => {
  const { f, calls } = fakeFetch({ status: 200, body: { access_token: 'at' } });
  await exchangeCode(ISS, form(), cfg(f, 'se:cr/et+=&0123456789'));
  const post = calls[1]!;
  const auth = (post.init.headers as Record<string, string>).authorization ?? '';
  expect(Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString()).toBe(`app:${encodeURIComponent('se:cr/et+=&0123456789')}`);
  expect(String(post.init.body)).not.toMatch(/secret|client_id/);
});

test('OAuth errors are passed on; a token endpoint over http for an https FHIR server is refused', async () => {
  const denied = fakeFetch({ status: 400, body: { error: 'invalid_grant' } });
  expect(await exchangeCode(ISS, form(), cfg(denied.f))).toEqual({ status: 400, body: { error: 'invalid_grant' } });
  const downgraded = fakeFetch({ status: 200, body: {} }, { token_endpoint: 'http://auth.ehr.test/token' });
  await expect(exchangeCode(ISS, form(), cfg(downgraded.f))).rejects.toBeInstanceOf(HttpError);
  expect(downgraded.calls).toHaveLength(1);
});
