// CDS Hooks 2.0 contract, over HTTP against the real app (supertest), the real embedded FHIR server
// and a real PGlite store. Responses are validated against openapi.yaml.
import request from 'supertest';
import type { Card, CdsServiceDescription } from '../../src/hooks/types.ts';
import { SERVICES } from '../../src/services/registry.ts';
import { cirrhosisSarcopenia } from '../../src/services/cirrhosis-sarcopenia/index.ts';
import { buildPrefetch, fhirAccess, hookRequest, startHarness, type Harness } from '../support/harness.ts';
import { openApiProblems } from '../support/openapi.ts';
import { ReplayStoreUnavailable } from '../../src/hooks/replay-store.ts';
import { releaseId } from '../../src/config-fingerprint.ts';

let h: Harness;
let discovery: CdsServiceDescription[];
const DECOMPENSATED = 'demo-cirrhosis-decompensated';
const SERVICE = cirrhosisSarcopenia.id;
const SANDBOX_ORIGIN = 'https://sandbox.cds-hooks.test';

beforeAll(async () => {
  h = await startHarness({ config: { corsOrigins: [SANDBOX_ORIGIN] } });
  const res = await request(h.app).get('/cds-services').set('authorization', `Bearer ${await h.sign('/cds-services')}`);
  discovery = (res.body as { services: CdsServiceDescription[] }).services;
});
afterAll(async () => { await h.close(); });

const templatesOf = (id: string): Record<string, string> => discovery.find((s) => s.id === id)!.prefetch!;

async function call(id: string, body: unknown, path = `/cds-services/${id}`) {
  return request(h.app).post(path).set('authorization', `Bearer ${await h.sign(path)}`).send(body as object);
}

function expectValid(path: string, method: string, res: request.Response): void {
  const type = String(res.headers['content-type'] ?? '');
  expect(openApiProblems(path, method, res.status, type, /json/.test(type) ? res.body : res.text)).toEqual([]);
}

describe('discovery', () => {
  test('lists every service of the registry with hook, id, title, description and prefetch', async () => {
    const res = await request(h.app).get('/cds-services').set('authorization', `Bearer ${await h.sign('/cds-services')}`);
    expect(res.status).toBe(200);
    expectValid('/cds-services', 'get', res);
    expect(discovery.map((s) => s.id).sort()).toEqual(SERVICES.map((s) => s.id).sort());
    for (const s of discovery) {
      expect(s.hook).toBe('patient-view');
      expect(s.title.length).toBeGreaterThan(0);
      expect(s.description.length).toBeGreaterThan(0);
    }
  });

  test('prefetch templates use only CDS Hooks 2.0 prefetch tokens', () => {
    const allowed = new Set(['{{context.patientId}}', '{{context.encounterId}}', '{{context.userId}}', '{{userPractitionerId}}', '{{userPractitionerRoleId}}', '{{userPatientId}}', '{{userRelatedPersonId}}']);
    for (const s of discovery) {
      for (const t of Object.values(s.prefetch ?? {})) {
        for (const token of t.match(/\{\{[^}]*\}\}/g) ?? []) expect(allowed).toContain(token);
        expect(t).not.toMatch(/^https?:/); // relative to the EHR's FHIR base
      }
    }
  });

  test('without a JWT: a bare 401', async () => {
    const res = await request(h.app).get('/cds-services');
    expect(res.status).toBe(401);
    expect(res.text).toBe('');
  });
});

describe('service call', () => {
  let withPrefetch: Card[];

  test('full prefetch: cards that follow every card rule and the OpenAPI schema', async () => {
    const prefetch = await buildPrefetch(h, templatesOf(SERVICE), DECOMPENSATED);
    const res = await call(SERVICE, hookRequest(DECOMPENSATED, { prefetch }));
    expect(res.status).toBe(200);
    expectValid('/cds-services/{id}', 'post', res);
    withPrefetch = (res.body as { cards: Card[] }).cards;
    expect(withPrefetch.length).toBeGreaterThan(0);
    const models = withPrefetch.flatMap((c) => ((c.extension?.scores ?? []) as Array<{ model: string }>).map((s) => s.model));
    expect(models).toEqual(expect.arrayContaining([...cirrhosisSarcopenia.models]));
    for (const c of withPrefetch) {
      expect(c.links?.[0]?.url).toBe('https://cds.test/smart/launch');
      expect(c.detail).not.toMatch(/<script|<img|javascript:/i);
    }
  });

  test('no prefetch: the service fetches from the FHIR server and answers the same', async () => {
    const res = await call(SERVICE, hookRequest(DECOMPENSATED, fhirAccess(h)));
    expect(res.status).toBe(200);
    const cards = (res.body as { cards: Card[] }).cards;
    expect(cards.map((c) => c.summary)).toEqual(withPrefetch.map((c) => c.summary));
  });

  test('prefetch null means no data: no conditions, no card', async () => {
    const prefetch = await buildPrefetch(h, templatesOf(SERVICE), DECOMPENSATED);
    const res = await call(SERVICE, hookRequest(DECOMPENSATED, { prefetch: { ...prefetch, conditions: null } }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
  });

  test('an OperationOutcome in prefetch is fetched again from the FHIR server', async () => {
    const prefetch = await buildPrefetch(h, templatesOf(SERVICE), DECOMPENSATED);
    const failed = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] };
    const res = await call(SERVICE, hookRequest(DECOMPENSATED, { ...fhirAccess(h), prefetch: { ...prefetch, observations: failed } }));
    expect(res.status).toBe(200);
    expect((res.body as { cards: Card[] }).cards.map((c) => c.summary)).toEqual(withPrefetch.map((c) => c.summary));
  });

  test('an OperationOutcome without a FHIR server leaves required data missing: 412', async () => {
    const prefetch = await buildPrefetch(h, templatesOf(SERVICE), DECOMPENSATED);
    const failed = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] };
    const res = await call(SERVICE, hookRequest(DECOMPENSATED, { prefetch: { ...prefetch, observations: failed } }));
    expect(res.status).toBe(412);
    expectValid('/cds-services/{id}', 'post', res);
    expect(res.body.issue[0].diagnostics).toMatch(/observations/);
  });

  test('missing prefetch keys and no FHIR server: 412', async () => {
    const res = await call(SERVICE, hookRequest(DECOMPENSATED));
    expect(res.status).toBe(412);
  });

  test('a paginated searchset in prefetch is followed through its next links', async () => {
    const templates = templatesOf(SERVICE);
    const prefetch = await buildPrefetch(h, templates, DECOMPENSATED);
    // First page only (2 entries) with a next link on the FHIR server, as an EHR might send it.
    const firstPage = await (await fetch(`${h.fhirBaseUrl}/${templates.observations!.replace('{{context.patientId}}', DECOMPENSATED).replace('_count=200', '_count=2')}`, {
      headers: { authorization: 'Bearer test-fhir-access-token' },
    })).json() as { link?: Array<{ relation: string }>; entry?: unknown[] };
    expect(firstPage.link?.some((l) => l.relation === 'next')).toBe(true);
    expect(firstPage.entry).toHaveLength(2);
    const res = await call(SERVICE, hookRequest(DECOMPENSATED, { ...fhirAccess(h), prefetch: { ...prefetch, observations: firstPage } }));
    expect((res.body as { cards: Card[] }).cards.map((c) => c.summary)).toEqual(withPrefetch.map((c) => c.summary));
  });

  test('a fhirServer that is not on the client\'s allowlist is never called', async () => {
    const res = await call(SERVICE, hookRequest(DECOMPENSATED, {
      fhirServer: 'https://attacker.example/fhir',
      fhirAuthorization: { access_token: 'secret', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.rs', subject: 'x' },
    }));
    expect(res.status).toBe(412);
  });

  test('a patient without cirrhosis gets no card from the cirrhosis service', async () => {
    const res = await call(SERVICE, hookRequest('demo-no-liver-disease', fhirAccess(h)));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ cards: [] });
  });

  test('missing labs: one clear card that says what is missing', async () => {
    const res = await call(SERVICE, hookRequest('demo-cirrhosis-missing-labs', fhirAccess(h)));
    const cards = (res.body as { cards: Card[] }).cards;
    expect(cards).toHaveLength(1);
    expect(cards[0]!.summary).toMatch(/missing/);
  });

  test.each(SERVICES.map((s) => s.id).filter((id) => id !== SERVICE))('%s answers over HTTP with schema-valid cards for every demo patient', async (id) => {
    for (const pid of ['demo-stemi-high-risk', 'demo-chronic-ihd', 'demo-mass-malignant', 'demo-mass-thrombus', 'demo-no-liver-disease']) {
      const res = await call(id, hookRequest(pid, fhirAccess(h)));
      expect(res.status).toBe(200);
      expectValid('/cds-services/{id}', 'post', res);
    }
  });
});

describe('bad input gets a clear 4xx and the server keeps serving', () => {
  test('malformed JSON: 400 OperationOutcome, no stack trace', async () => {
    const path = `/cds-services/${SERVICE}`;
    const res = await request(h.app).post(path).set('authorization', `Bearer ${await h.sign(path)}`)
      .set('content-type', 'application/json').send('{"hook": "patient-view",');
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  test.each([
    ['text/plain', 415],
    ['application/json; charset=iso-8859-1', 415],
    ['application/json; charset=utf-8', 200],
    ['application/fhir+json', 200],
  ])('content type %s: %i', async (type, status) => {
    const path = `/cds-services/${SERVICE}`;
    const res = await request(h.app).post(path).set('authorization', `Bearer ${await h.sign(path)}`)
      .set('content-type', type).send(JSON.stringify(hookRequest(DECOMPENSATED, fhirAccess(h))));
    expect(res.status).toBe(status);
    expectValid('/cds-services/{id}', 'post', res);
  });

  test('bytes that are not UTF-8, and an empty body: 400; a UTF-8 byte order mark is accepted', async () => {
    const path = `/cds-services/${SERVICE}`;
    // serialize: superagent would otherwise send a Buffer as JSON ({"type":"Buffer",...}), not as bytes.
    const post = async (bytes: Buffer) => request(h.app).post(path).set('authorization', `Bearer ${await h.sign(path)}`)
      .set('content-type', 'application/json').serialize((b: Buffer) => b as unknown as string).send(bytes);
    const json = Buffer.from(JSON.stringify(hookRequest(DECOMPENSATED, fhirAccess(h))));
    const latin1 = Buffer.from(JSON.stringify({ ...hookRequest(DECOMPENSATED, fhirAccess(h)), hookInstance: 'caf\u00e9' }), 'latin1');
    for (const [bytes, status] of [[latin1, 400], [Buffer.alloc(0), 400], [Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json]), 200]] as const) {
      const res = await post(bytes);
      expect(res.status).toBe(status);
      expectValid('/cds-services/{id}', 'post', res);
      if (status === 400) expect(res.body.issue[0].diagnostics).toBe('Request body is not valid JSON');
    }
  });

  test('wrong types: 400 naming the field', async () => {
    const res = await call(SERVICE, { hook: 'patient-view', hookInstance: 'x', context: { userId: 'u', patientId: 42 } });
    expect(res.status).toBe(400);
    expectValid('/cds-services/{id}', 'post', res);
    expect(res.body.issue[0].diagnostics).toMatch(/context\.patientId/);
  });

  test('a hook the service does not answer: 400', async () => {
    const res = await call(SERVICE, { ...hookRequest(DECOMPENSATED), hook: 'order-sign' });
    expect(res.status).toBe(400);
  });

  test('a 5 MB body: 413', async () => {
    const body = hookRequest(DECOMPENSATED, { prefetch: { junk: { resourceType: 'Basic', text: 'x'.repeat(5 * 1024 * 1024) } } });
    const res = await call(SERVICE, body);
    expect(res.status).toBe(413);
    expectValid('/cds-services/{id}', 'post', res);
  });

  test('an unknown service: 404', async () => {
    const res = await call('no-such-service', hookRequest(DECOMPENSATED));
    expect(res.status).toBe(404);
    expectValid('/cds-services/{id}', 'post', res);
  });

  test('hostile HTML and Markdown in FHIR text are escaped in card detail', async () => {
    const templates = templatesOf('cmr-cardiac-mass');
    const prefetch = await buildPrefetch(h, templates, 'demo-mass-malignant');
    const conditions = prefetch.conditions as { entry?: Array<{ resource: { code?: { text?: string } } }> };
    for (const e of conditions.entry ?? []) {
      if (e.resource.code) e.resource.code.text = '<img src=x onerror=alert(1)> **[click](javascript:alert(1))**';
    }
    const res = await call('cmr-cardiac-mass', hookRequest('demo-mass-malignant', { prefetch }));
    expect(res.status).toBe(200);
    const detail = ((res.body as { cards: Card[] }).cards).map((c) => c.detail ?? '').join('\n');
    expect(detail).not.toMatch(/<img/);
    expect(detail).not.toMatch(/\]\(javascript:/);
  });

  test('after all of that, the server still answers', async () => {
    const res = await request(h.app).get('/cds-services').set('authorization', `Bearer ${await h.sign('/cds-services')}`);
    expect(res.status).toBe(200);
  });
});

describe('feedback', () => {
  test('stores Sandbox-style feedback (Coding without display) idempotently and reports override rates', async () => {
    const prefetch = await buildPrefetch(h, templatesOf(SERVICE), DECOMPENSATED);
    const cards = ((await call(SERVICE, hookRequest(DECOMPENSATED, { prefetch }))).body as { cards: Card[] }).cards;
    await h.store.flush();
    const card = cards[0]!;
    const item = {
      card: card.uuid, outcome: 'overridden', outcomeTimestamp: new Date().toISOString(),
      overrideReason: { reason: { system: card.overrideReasons![0]!.system, code: card.overrideReasons![0]!.code } },
    };
    const path = `/cds-services/${SERVICE}/feedback`;
    const first = await call(SERVICE, { feedback: [item] }, path);
    expect(first.status).toBe(200);
    expectValid('/cds-services/{id}/feedback', 'post', first);
    expect(first.body).toEqual({ stored: 1, duplicates: 0 });
    const again = await call(SERVICE, { feedback: [item] }, path);
    expect(again.body).toEqual({ stored: 0, duplicates: 1 });

    const ratesPath = `/cds-services/${SERVICE}/feedback/override-rates`;
    const rates = await request(h.app).get(ratesPath).set('authorization', `Bearer ${await h.sign(ratesPath)}`);
    expect(rates.status).toBe(200);
    expectValid('/cds-services/{id}/feedback/override-rates', 'get', rates);
    const row = (rates.body.rates as Array<{ cardKind: string; overridden: number; topReasons: Array<{ code: string }> }>).find((r) => r.cardKind === card.source.topic!.code);
    expect(row?.overridden).toBe(1);
    expect(row?.topReasons[0]?.code).toBe(card.overrideReasons![0]!.code);
  });

  test('invalid feedback: 400', async () => {
    const res = await call(SERVICE, { feedback: [{ card: 'x', outcome: 'maybe' }] }, `/cds-services/${SERVICE}/feedback`);
    expect(res.status).toBe(400);
    expectValid('/cds-services/{id}/feedback', 'post', res);
  });

  describe('bound to the card\'s recipient: the client that received it, through the service that issued it', () => {
    const feedbackPath = (id: string) => `/cds-services/${id}/feedback`;
    const item = (card: string, at = new Date().toISOString()) => ({ card, outcome: 'accepted', acceptedSuggestions: [], outcomeTimestamp: at });
    async function issueCard(): Promise<Card> {
      const prefetch = await buildPrefetch(h, templatesOf(SERVICE), DECOMPENSATED);
      return ((await call(SERVICE, hookRequest(DECOMPENSATED, { prefetch }))).body as { cards: Card[] }).cards[0]!;
    }
    async function kindCounts(cardKind: string | undefined): Promise<{ accepted: number; overridden: number }> {
      const path = `/cds-services/${SERVICE}/feedback/override-rates`;
      const rates = await request(h.app).get(path).set('authorization', `Bearer ${await h.sign(path)}`);
      expectValid('/cds-services/{id}/feedback/override-rates', 'get', rates);
      return (rates.body.rates as Array<{ cardKind: string; accepted: number; overridden: number }>).find((r) => r.cardKind === cardKind)!;
    }

    test('feedback right after the card (still in the write-behind buffer) is found', async () => {
      const card = await issueCard();
      const res = await call(SERVICE, { feedback: [item(card.uuid)] }, feedbackPath(SERVICE));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ stored: 1, duplicates: 0 });
    });

    test('from another trusted client: 404 OperationOutcome, nothing stored', async () => {
      const card = await issueCard();
      await h.store.flush();
      const before = await kindCounts(card.source.topic!.code);
      const res = await request(h.app).post(feedbackPath(SERVICE)).set('authorization', `Bearer ${await h.signAsOther(feedbackPath(SERVICE))}`)
        .send({ feedback: [item(card.uuid)] });
      expect(res.status).toBe(404);
      expectValid('/cds-services/{id}/feedback', 'post', res);
      expect(res.body.issue[0].diagnostics).toMatch(/item\(s\) 0 was issued to this client/);
      expect(await kindCounts(card.source.topic!.code)).toEqual(before);
    });

    test('through another service, for a card never issued, or with one such item among good ones: 404, nothing stored', async () => {
      const card = await issueCard();
      await h.store.flush();
      const before = await kindCounts(card.source.topic!.code);
      const other = await call('cmr-ihd-macce', { feedback: [item(card.uuid)] }, feedbackPath('cmr-ihd-macce'));
      expect(other.status).toBe(404);
      expectValid('/cds-services/{id}/feedback', 'post', other);
      const never = await call(SERVICE, { feedback: [item('7c6a1f52-0b8e-4d3a-9f21-5e4d3c2b1a09')] }, feedbackPath(SERVICE));
      expect(never.status).toBe(404);
      const mixed = await call(SERVICE, { feedback: [item(card.uuid), item('7c6a1f52-0b8e-4d3a-9f21-5e4d3c2b1a09')] }, feedbackPath(SERVICE));
      expect(mixed.status).toBe(404);
      expect(mixed.body.issue[0].diagnostics).toMatch(/item\(s\) 1 /);
      expect(await kindCounts(card.source.topic!.code)).toEqual(before);
    });

    test.each([
      ['year 0000', '0000-01-01T00:00:00Z', /year 0001 or later/],
      ['offset -23:59', '2026-03-01T10:00:00-23:59', /UTC offset within ±15:59/],
      ['an hour in the future', new Date(Date.now() + 3_600_000).toISOString(), /in the future \(more than 30 s ahead/],
    ])('an outcomeTimestamp with %s: 400 naming the field (never a 500)', async (_name, at, message) => {
      const card = await issueCard();
      const res = await call(SERVICE, { feedback: [item(card.uuid, at)] }, feedbackPath(SERVICE));
      expect(res.status).toBe(400);
      expectValid('/cds-services/{id}/feedback', 'post', res);
      expect(res.body.issue[0].diagnostics).toMatch(/feedback\.0\.outcomeTimestamp/);
      expect(res.body.issue[0].diagnostics).toMatch(message);
    });
  });
});

describe('CORS for browser-based EHRs and sandboxes', () => {
  test('a preflight from a configured origin allows the authorization and content-type headers', async () => {
    const res = await request(h.app).options(`/cds-services/${SERVICE}`)
      .set('origin', SANDBOX_ORIGIN)
      .set('access-control-request-method', 'POST')
      .set('access-control-request-headers', 'authorization,content-type');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(SANDBOX_ORIGIN);
    expect(String(res.headers['access-control-allow-headers']).toLowerCase().split(',')).toEqual(expect.arrayContaining(['authorization', 'content-type']));
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  test('a call from a configured origin carries the CORS header, even on a 401', async () => {
    const res = await request(h.app).get('/cds-services').set('origin', SANDBOX_ORIGIN);
    expect(res.status).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe(SANDBOX_ORIGIN);
  });

  test('another origin gets no CORS grant', async () => {
    const res = await request(h.app).options('/cds-services').set('origin', 'https://evil.example')
      .set('access-control-request-method', 'GET');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('operations', () => {
  test('healthz, readyz and metrics', async () => {
    const health = await request(h.app).get('/healthz');
    expect(health.status).toBe(200);
    expectValid('/healthz', 'get', health);
    const ready = await request(h.app).get('/readyz');
    expect(ready.status).toBe(200);
    expectValid('/readyz', 'get', ready);
    expect(ready.body).toEqual({ status: 'ready', configFingerprint: expect.stringMatching(/^sha256:[0-9a-f]{16}$/), release: releaseId(), replayStore: 'memory' });
    const metrics = await request(h.app).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/cds_hook_duration_seconds_count\{service="cirrhosis-sarcopenia",status="200"\} \d+/);
    expect(metrics.text).toMatch(/cds_fhir_fetch_duration_seconds_count\{resource_type="Observation",outcome="ok"\} \d+/);
    expect(metrics.text).toMatch(/cds_http_requests_total\{route="\/cds-services\/:id",method="POST",status="412"\} \d+/);
    expect(metrics.text).toMatch(/cds_http_requests_total\{route="\/cds-services\/:id",method="POST",status="413"\} \d+/);
    expect(metrics.text).not.toMatch(/demo-cirrhosis/); // no patient ids in labels
  });

  test('the SMART launch refuses an iss that is not allowlisted, and a launch without iss, with a page', async () => {
    const res = await request(h.app).get('/smart/launch?iss=x&launch=y');
    expect(res.status).toBe(403);
    expectValid('/smart/launch', 'get', res);
    expect(res.text).toMatch(/not one this service is configured to trust/);
    expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'self'/);
    const noIss = await request(h.app).get('/smart/launch?launch=y');
    expect(noIss.status).toBe(400);
    expectValid('/smart/launch', 'get', noIss);
  });

  test('without DEMO the demo routes answer 404, as openapi.yaml documents', async () => {
    const calls = [
      ['/', 'get', request(h.app).get('/')],
      ['/demo/config', 'get', request(h.app).get('/demo/config')],
      ['/demo/token', 'post', request(h.app).post('/demo/token').send({ aud: 'x' })],
      ['/demo/launch', 'post', request(h.app).post('/demo/launch').send({ patient: 'x' })],
      ['/demo/fhir/.well-known/smart-configuration', 'get', request(h.app).get('/demo/fhir/.well-known/smart-configuration')],
    ] as const;
    for (const [path, method, pending] of calls) {
      const res = await pending;
      expect(res.status).toBe(404);
      expectValid(path, method, res);
    }
  });

  test('the OpenAPI document is served', async () => {
    const res = await request(h.app).get('/openapi.yaml');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^openapi: 3\.1/);
  });
});

describe('/metrics with METRICS_TOKEN', () => {
  const token = 'metrics-scrape-token-0123456789';
  let m: Harness;
  beforeAll(async () => { m = await startHarness({ config: { metricsToken: token } }); });
  afterAll(async () => { await m.close(); });

  test('answers only the bearer token: 401 with a challenge otherwise, and the other routes stay open', async () => {
    const ok = await request(m.app).get('/metrics').set('authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
    expectValid('/metrics', 'get', ok);
    expect(ok.text).toMatch(/cds_http_requests_total/);
    for (const authorization of [undefined, `Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, `Basic ${token}`, 'Bearer ', token]) {
      const req = request(m.app).get('/metrics');
      const res = await (authorization === undefined ? req : req.set('authorization', authorization));
      expect(res.status).toBe(401);
      expectValid('/metrics', 'get', res);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(res.text).not.toContain(token);
    }
    expect((await request(m.app).get('/healthz')).status).toBe(200);
    expect((await request(m.app).get('/readyz')).status).toBe(200);
  });
});

describe('replay store down (REDIS_URL set, Redis unreachable)', () => {
  // The port's contract, end to end through the app: the real Redis outage is in
  // test/integration/scale-out.test.ts.
  let down: Harness;
  beforeAll(async () => {
    const unavailable = async (): Promise<never> => { throw new ReplayStoreUnavailable('ECONNREFUSED'); };
    down = await startHarness({ replayStore: { kind: 'redis', claim: unavailable, ping: unavailable, close: async () => undefined } });
  });
  afterAll(async () => { await down.close(); });

  test('CDS calls are refused with 503 and an OperationOutcome, not accepted unchecked', async () => {
    const path = '/cds-services/cirrhosis-sarcopenia';
    const call = await request(down.app).post(path).set('authorization', `Bearer ${await down.sign(path)}`)
      .send(hookRequest('demo-cirrhosis-decompensated', fhirAccess(down)));
    expect(call.status).toBe(503);
    expect(call.headers['retry-after']).toBe('1');
    expect(call.body.issue[0].code).toBe('transient');
    expect(JSON.stringify(call.body)).not.toContain('ECONNREFUSED');
    expectValid('/cds-services/{id}', 'post', call);
    const discovery = await request(down.app).get('/cds-services').set('authorization', `Bearer ${await down.sign('/cds-services')}`);
    expect(discovery.status).toBe(503);
    expectValid('/cds-services', 'get', discovery);
  });

  test('/readyz says not ready, so the load balancer takes the instance out', async () => {
    const ready = await request(down.app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.issue[0].diagnostics).toBe('Replay store (Redis) not reachable');
    expectValid('/readyz', 'get', ready);
  });
});
