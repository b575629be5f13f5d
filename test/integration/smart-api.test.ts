// POST /smart/api/detail and POST /smart/token over HTTP against the full app and its demo EHR: a real
// EHR launch made in Node (the demo's oidc-provider, PKCE, a cookie jar for its sign-in step), then the
// detail of each service checked against openapi.yaml and the ServiceDetail schema, and against the
// scores the same service puts on its cards. Tokens never go to a FHIR server that is not allowlisted.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { freePort } from '../support/free-port.ts';
import { ServiceDetailSchema, type ServiceDetail } from '../../src/services/detail-schema.ts';
import { SMART_SCOPES } from '../../src/smart/routes.ts';
import { openApiProblems } from '../support/openapi.ts';

let running: RunningServer;
let base: string;
let fhir: string;
let dataDir: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  fhir = `${base}/demo/fhir`;
  dataDir = mkdtempSync(join(tmpdir(), 'smart-api-'));
  running = await startServer(testConfig({ port, host: '127.0.0.1', publicBaseUrl: base, dataDir, demo: true, logLevel: 'silent', hookWorkers: 0 }), createLogger('silent'));
});

afterAll(async () => {
  await running?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Token { access_token: string; patient: string; appContext?: string; scope: string }

/** An EHR launch as a browser makes it: authorize with PKCE, the demo's sign-in redirects, the code exchange through /smart/token. */
async function launch(patient: string, appContext: string | undefined, scope = SMART_SCOPES): Promise<Token> {
  const reg = await fetch(`${base}/demo/launch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ patient, ...(appContext ? { appContext } : {}) }) });
  const { launch: launchId } = await reg.json() as { launch: string };
  const conf = await (await fetch(`${fhir}/.well-known/smart-configuration`)).json() as { authorization_endpoint: string };
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(conf.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: 'imaging-cds-detail', scope, redirect_uri: `${base}/smart/app`, aud: fhir, state: 's1', launch: launchId,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  })) url.searchParams.set(k, v);
  const jar = new Map<string, string>();
  let next = url.href;
  for (let hop = 0; hop < 6 && !next.startsWith(`${base}/smart/app`); hop++) {
    const res = await fetch(next, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of res.headers.getSetCookie()) {
      const [kv = ''] = c.split(';');
      const i = kv.indexOf('=');
      jar.set(kv.slice(0, i), kv.slice(i + 1));
    }
    next = new URL(res.headers.get('location') ?? '', next).href;
  }
  const code = new URL(next).searchParams.get('code');
  expect(code).toBeTruthy();
  const res = await fetch(`${base}/smart/token?iss=${encodeURIComponent(fhir)}`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: `${base}/smart/app`, client_id: 'imaging-cds-detail', code_verifier: verifier }),
  });
  expect(res.status).toBe(200);
  return await res.json() as Token;
}

async function detail(token: string, body: Record<string, unknown>): Promise<{ status: number; body: unknown; type: string }> {
  const res = await fetch(`${base}/smart/api/detail`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => undefined), type: res.headers.get('content-type') ?? '' };
}

/** The cards of a service for the patient, as an EHR gets them (no prefetch: the service reads the FHIR server). */
async function cardScores(serviceId: string, patientId: string): Promise<Map<string, number>> {
  const cfg = await (await fetch(`${base}/demo/config`)).json() as { accessToken: string };
  const aud = `${base}/cds-services/${serviceId}`;
  const { token } = await (await fetch(`${base}/demo/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ aud }) })).json() as { token: string };
  const res = await fetch(aud, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      hook: 'patient-view', hookInstance: crypto.randomUUID(), fhirServer: fhir,
      fhirAuthorization: { access_token: cfg.accessToken, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.rs', subject: 'demo' },
      context: { userId: 'Practitioner/demo', patientId },
    }),
  });
  const { cards } = await res.json() as { cards: Array<{ links?: Array<{ appContext?: string }>; extension?: { scores?: Array<{ model: string; value: number }> } }> };
  const out = new Map<string, number>();
  for (const c of cards) for (const s of c.extension?.scores ?? []) out.set(s.model, s.value);
  return out;
}

test.each([
  ['cirrhosis-sarcopenia', 'demo-cirrhosis-decompensated', 'liver-prognosis'],
  ['cmr-ihd-macce', 'demo-stemi-high-risk', 'macce-risk'],
  ['cmr-cardiac-mass', 'demo-mass-malignant', 'cardiac-mass'],
])('%s: ServiceDetail follows openapi.yaml and gives the cards\' values', async (serviceId, patientId, topic) => {
  const scores = await cardScores(serviceId, patientId);
  expect(scores.size).toBeGreaterThan(0);
  const appContext = JSON.stringify({ s: topic, h: 'h1', v: Object.fromEntries([...scores].map(([m, v]) => [m, Math.round(v * 100) / 100])) });
  const token = await launch(patientId, appContext);
  expect(token).toMatchObject({ patient: patientId, appContext });
  const res = await detail(token.access_token, { iss: fhir, patient: patientId, appContext });
  expect(res.status).toBe(200);
  expect(openApiProblems('/smart/api/detail', 'post', 200, res.type, res.body)).toEqual([]);
  const d: ServiceDetail = ServiceDetailSchema.parse(res.body);
  expect(d.serviceId).toBe(serviceId);
  for (const [model, value] of scores) {
    const i = d.results.findIndex((r) => r.model === model);
    expect(d.results[i]?.value).toBeCloseTo(value, 9);
    expect(d.explanations[i]).toMatchObject({ onCard: true });
    expect(d.explanations[i]?.differs).toBeUndefined();
  }
  for (const card of d.modelCards) expect(card.evidenceLabel).toMatch(/^\[(P|S)\]/);
  expect(JSON.stringify(d)).not.toMatch(/Greta|Karl|Marta|Demoson|Mockup|Example/); // no patient name
});

test('a card value that no longer matches the record is said', async () => {
  const appContext = JSON.stringify({ s: 'liver-prognosis', v: { 'meld-3.0': 12.5 } });
  const token = await launch('demo-cirrhosis-decompensated', appContext);
  const d = ServiceDetailSchema.parse((await detail(token.access_token, { iss: fhir, patient: 'demo-cirrhosis-decompensated', appContext })).body);
  const i = d.results.findIndex((r) => r.model === 'meld-3.0');
  expect(d.explanations[i]?.differs).toMatch(/^The card showed 12\.5; the record now gives 28\.\d+/);
});

test('no bearer token: 401; a malformed body: 400; a foreign iss: 403 and nothing is sent there', async () => {
  let hits = 0;
  const foreign: Server = createHttpServer((_req, res) => { hits++; res.end('{}'); });
  await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', () => r()));
  const a = foreign.address();
  const foreignBase = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/fhir`;
  try {
    const none = await fetch(`${base}/smart/api/detail`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(none.status).toBe(401);
    expect((await detail('abc', { patient: 'x' })).status).toBe(400);
    const res = await detail('a-token', { iss: foreignBase, patient: 'demo-cirrhosis-decompensated', serviceId: 'cirrhosis-sarcopenia' });
    expect(res.status).toBe(403);
    expect(openApiProblems('/smart/api/detail', 'post', 403, res.type, res.body)).toEqual([]);
    const token = await fetch(`${base}/smart/token?iss=${encodeURIComponent(foreignBase)}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'c', redirect_uri: `${base}/smart/app`, code_verifier: 'a'.repeat(43) }),
    });
    expect(token.status).toBe(403);
    expect(hits).toBe(0);
  } finally {
    await new Promise<void>((r) => foreign.close(() => r()));
  }
});

test('a token without the scopes the view needs: 412, said in words', async () => {
  const token = await launch('demo-cirrhosis-decompensated', undefined, 'launch openid patient/Patient.rs');
  const res = await detail(token.access_token, { iss: fhir, patient: 'demo-cirrhosis-decompensated', serviceId: 'cirrhosis-sarcopenia' });
  expect(res.status).toBe(412);
  expect(JSON.stringify(res.body)).toMatch(/check the scopes granted/);
});

test('a token used for another patient reads nothing of that patient', async () => {
  const token = await launch('demo-cirrhosis-decompensated', undefined);
  const res = await detail(token.access_token, { iss: fhir, patient: 'demo-cirrhosis-compensated', serviceId: 'cirrhosis-sarcopenia' });
  expect(res.status).toBe(412);
});
