// The embedded demo's router: page, static assets, JWT signing for the browser, page config, and the
// embedded FHIR server loaded with the synthetic patients (searched by a real FHIR engine).
import express from 'express';
import request from 'supertest';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { Bundle, Observation, Patient } from 'fhir/r4.js';
import { testConfig } from '../../src/config.ts';
import { createDemo, type Demo } from '../../src/demo/index.ts';
import { demoPatients } from '../../src/demo/patients/index.ts';
import { isCdsAudience } from '../../src/demo/routes.ts';
import { parseTrustedClient } from '../../src/hooks/trusted-clients.ts';
import { PROJECT_CODESYSTEM, LOINC, UCUM } from '../../src/fhir/canonical.ts';
import { openApiProblems } from '../support/openapi.ts';

const BASE = 'http://cds.test:8080';

let demo: Demo;
let app: express.Express;
let accessToken: string;

beforeAll(async () => {
  demo = await createDemo({ config: testConfig({ publicBaseUrl: BASE }) });
  app = express();
  app.use(express.json());
  app.use('/', demo.router);
  accessToken = (await request(app).get('/demo/config')).body.accessToken as string;
});

const fhir = (path: string) => request(app).get(`/demo/fhir/${path}`).set('Authorization', `Bearer ${accessToken}`);

describe('demo EHR page', () => {
  test('GET / serves the page with an external module script and no inline script or handler', async () => {
    const res = await request(app).get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toMatch(/<script type="module" src="demo\/static\/ehr\.js"><\/script>/);
    // Every <script> has a src and no body (helmet's CSP forbids inline scripts) ...
    const scripts = [...res.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc=/);
      expect(body?.trim()).toBe('');
    }
    // ... and no inline event handler attributes or javascript: URLs.
    expect(res.text).not.toMatch(/\son[a-z]+\s*=/i);
    expect(res.text).not.toMatch(/javascript:/i);
  });

  test.each(['ehr.js', 'cds-client.js', 'cards.js', 'markdown.js', 'ehr.css'])('serves static asset %s', async (file) => {
    const res = await request(app).get(`/demo/static/${file}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(file.endsWith('.css') ? /text\/css/ : /javascript/);
  });

  test.each(['markdown-it.mjs', 'purify.mjs'])('serves %s as it ships in node_modules, as an ES module', async (file) => {
    const res = await request(app).get(`/demo/vendor/${file}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.text).toMatch(/export \{ \w+ as default \};/);
    expect((await request(app).get('/demo/static/markdown.js')).text).toContain(`from '../vendor/${file}'`);
  });

  test('serves no other file as a vendored module', async () => {
    for (const file of ['markdown-it.mjs.map', '..%2fpackage.json', 'chart.js']) {
      expect((await request(app).get(`/demo/vendor/${file}`)).status).toBe(404);
    }
  });

  test('the browser code never assigns innerHTML/outerHTML or uses document.write', async () => {
    for (const file of ['ehr.js', 'cds-client.js', 'cards.js', 'markdown.js']) {
      const res = await request(app).get(`/demo/static/${file}`);
      expect(res.text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    }
  });

  test('static files cannot be read outside the static folder', async () => {
    const res = await request(app).get('/demo/static/..%2findex.ts');
    expect(res.status).not.toBe(200);
  });
});

describe('POST /demo/token', () => {
  test('signs an RS384 JWT that verifies with the trusted client JWKS, with iss, sub, aud, jti, exp', async () => {
    const aud = `${BASE}/cds-services/cirrhosis-sarcopenia`;
    const res = await request(app).post('/demo/token').send({ aud });
    expect(res.status).toBe(200);
    const token = res.body.token as string;
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: 'RS384', typ: 'JWT' });
    expect(header.kid).toBe(demo.trustedClient.jwks?.keys[0]?.kid);

    const { payload } = await jwtVerify(token, createLocalJWKSet(demo.trustedClient.jwks!), {
      issuer: `${BASE}/demo/ehr`,
      audience: aud,
      algorithms: ['RS384'],
    });
    expect(payload.sub).toBe(`${BASE}/demo/ehr`);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    const now = Math.floor(Date.now() / 1000);
    expect(payload.iat).toBeGreaterThanOrEqual(now - 5);
    expect(payload.exp! - payload.iat!).toBe(300);

    const again = await request(app).post('/demo/token').send({ aud });
    const second = await jwtVerify(again.body.token as string, createLocalJWKSet(demo.trustedClient.jwks!));
    expect(second.payload.jti).not.toBe(payload.jti);
  });

  test('signs for the discovery and feedback URLs', async () => {
    for (const aud of [`${BASE}/cds-services`, `${BASE}/cds-services/cmr-cardiac-mass/feedback`]) {
      const res = await request(app).post('/demo/token').send({ aud });
      expect(res.status).toBe(200);
    }
  });

  test.each([
    'https://evil.example.com/cds-services',
    `${BASE}/cds-services-evil`,
    `${BASE}/cds-servicesx/a`,
    `${BASE}/smart/launch`,
    `${BASE}/cds-services/../demo/token`,
    `${BASE}/cds-services/%2e%2e/demo`,
    `${BASE}/cds-services/x?y=1`,
    `${BASE}/cds-services#x`,
    'http://user:pw@cds.test:8080/cds-services',
    'http://cds.test:8081/cds-services',
    'not a url',
  ])('refuses a foreign audience: %s', async (aud) => {
    const res = await request(app).post('/demo/token').send({ aud });
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.token).toBeUndefined();
  });

  test.each([{}, { aud: 42 }, { aud: '' }, []])('rejects a malformed body %j', async (body) => {
    const res = await request(app).post('/demo/token').send(body as object);
    expect(res.status).toBe(400);
  });

  test('isCdsAudience compares parsed URLs', () => {
    expect(isCdsAudience(`${BASE}/cds-services`, BASE)).toBe(true);
    expect(isCdsAudience(`${BASE}/cds-services/x`, `${BASE}/`)).toBe(true);
    expect(isCdsAudience('HTTP://CDS.TEST:8080/cds-services', BASE)).toBe(false);
  });
});

describe('demo trusted client and config', () => {
  test('the trusted client is valid configuration with a public signing key only', () => {
    const client = parseTrustedClient(demo.trustedClient);
    expect(client.iss).toBe(`${BASE}/demo/ehr`);
    expect(client.fhirServers).toEqual([`${BASE}/demo/fhir`]);
    const key = client.jwks?.keys[0];
    expect(key).toMatchObject({ kty: 'RSA', alg: 'RS384', use: 'sig' });
    expect(key?.kid).toEqual(expect.any(String));
    expect(key).not.toHaveProperty('d');
    expect(demo.fhirBaseUrl).toBe(`${BASE}/demo/fhir`);
  });

  test('GET /demo/config gives the page what an EHR knows', async () => {
    const res = await request(app).get('/demo/config');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ fhirServer: `${BASE}/demo/fhir`, publicBaseUrl: BASE });
    expect(res.body.accessToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(Object.keys(res.body.scenarios as object)).toContain('demo-cirrhosis-decompensated');
  });

  test('each start has its own key and FHIR token', async () => {
    const other = await createDemo({ config: testConfig({ publicBaseUrl: BASE }) });
    expect(other.trustedClient.jwks?.keys[0]?.kid).not.toBe(demo.trustedClient.jwks?.keys[0]?.kid);
    const otherApp = express().use('/', other.router);
    const otherToken = (await request(otherApp).get('/demo/config')).body.accessToken as string;
    expect(otherToken).not.toBe(accessToken);
  });
});

describe('embedded FHIR server at /demo/fhir', () => {
  test('requires the demo access token', async () => {
    expect((await request(app).get('/demo/fhir/Patient')).status).toBe(401);
    expect((await request(app).get('/demo/fhir/Patient').set('Authorization', 'Bearer wrong')).status).toBe(401);
    expect((await fhir('Patient')).status).toBe(200);
  });

  test('its refusals are FHIR OperationOutcomes, as openapi.yaml documents them', async () => {
    const refusals = [
      ['get', await request(app).get('/demo/fhir/Patient'), 401],
      ['get', await fhir('Patient/no-such-patient'), 404],
      ['post', await request(app).post('/demo/fhir/RiskAssessment').set('Authorization', `Bearer ${accessToken}`)
        .set('Content-Type', 'application/fhir+json').send('{not json'), 400],
    ] as const;
    for (const [method, res, status] of refusals) {
      expect(res.status).toBe(status);
      expect(openApiProblems('/demo/fhir/{path}', method, res.status, String(res.headers['content-type']), res.body)).toEqual([]);
    }
  });

  test('holds every demo patient', async () => {
    const res = await fhir('Patient?_count=100');
    const ids = ((res.body as Bundle).entry ?? []).map((e) => (e.resource as Patient).id).sort();
    expect(ids).toEqual(demoPatients().map((p) => p.id).sort());
    expect(ids).toHaveLength(12);
  });

  const byCode: Array<[string, string, string]> = [
    ['demo-cirrhosis-decompensated', `${LOINC}|1751-7`, 'albumin'],
    ['demo-cirrhosis-decompensated', `${PROJECT_CODESYSTEM}|l3-smi`, 'l3-smi'],
    ['demo-cirrhosis-decompensated', `${PROJECT_CODESYSTEM}|hepatic-encephalopathy-grade`, 'encephalopathy'],
    ['demo-cirrhosis-compensated', `${LOINC}|1975-2`, 'bilirubin'],
    ['demo-cirrhosis-compensated', `${PROJECT_CODESYSTEM}|ascites-severity`, 'ascites-severity'],
    ['demo-stemi-high-risk', `${LOINC}|8811-2`, 'cmr-lvef'],
    ['demo-stemi-high-risk', `${PROJECT_CODESYSTEM}|killip-class`, 'killip'],
    ['demo-stemi-high-risk', `${PROJECT_CODESYSTEM}|mvo-segments`, 'cmr-mvo-segments'],
    ['demo-mass-malignant', `${PROJECT_CODESYSTEM}|mass-infiltration`, 'mass-infiltration'],
    ['demo-mass-thrombus', `${PROJECT_CODESYSTEM}|mass-ti-scout-thrombus-pattern`, 'mass-ti-scout'],
    // Issue 10: the thrombus T1 is the post-contrast T1 of the mass; the STEMI has an LVEF of unstated method.
    ['demo-mass-thrombus', `${PROJECT_CODESYSTEM}|mass-post-contrast-t1`, 'mass-post-contrast-t1'],
    ['demo-stemi-high-risk', `${LOINC}|10230-1`, 'echo-lvef'],
    ['demo-nstemi', `${PROJECT_CODESYSTEM}|killip-class`, 'killip'],
    ['demo-cirrhosis-pbc', `${LOINC}|1975-2`, 'bilirubin'],
  ];

  test.each(byCode)('%s: Observation?patient&code=%s', async (patientId, code, key) => {
    const res = await fhir(`Observation?patient=${patientId}&code=${encodeURIComponent(code)}`);
    expect(res.status).toBe(200);
    const ids = ((res.body as Bundle).entry ?? []).map((e) => e.resource?.id);
    expect(ids).toEqual([`${patientId}-${key}`]);
  });

  test('searches by code do not leak across patients', async () => {
    const res = await fhir(`Observation?patient=demo-no-liver-disease&code=${encodeURIComponent(`${PROJECT_CODESYSTEM}|l3-smi`)}`);
    expect((res.body as Bundle).entry ?? []).toHaveLength(0);
  });

  test('the most recent lab comes first with _sort=-date', async () => {
    const code = encodeURIComponent(`${LOINC}|14631-6`);
    const res = await fhir(`Observation?patient=demo-cirrhosis-decompensated&code=${code}&_sort=-date`);
    const values = ((res.body as Bundle).entry ?? []).map((e) => (e.resource as Observation).valueQuantity?.value);
    expect(values).toEqual([68, 51]);
  });

  test('Conditions and Procedures are searchable by patient and code', async () => {
    const cirrhosis = await fhir(`Condition?patient=demo-cirrhosis-compensated&code=${encodeURIComponent('http://hl7.org/fhir/sid/icd-10-cm|K74.60')}`);
    expect((cirrhosis.body as Bundle).entry).toHaveLength(1);
    const pci = await fhir(`Procedure?patient=demo-stemi-high-risk&code=${encodeURIComponent('http://snomed.info/sct|415070008')}`);
    expect((pci.body as Bundle).entry).toHaveLength(1);
    const pbc = await fhir(`Condition?patient=demo-cirrhosis-pbc&code=${encodeURIComponent('http://hl7.org/fhir/sid/icd-10-cm|K74.3')}`);
    expect((pbc.body as Bundle).entry).toHaveLength(1);
  });
});

describe('demo patient data', () => {
  const now = new Date('2026-03-15T10:00:00Z');
  const patients = demoPatients(now);
  const resources = patients.flatMap((p) => p.resources);
  const observations = resources.filter((r): r is Observation => r.resourceType === 'Observation');

  test('ids are unique, stable and valid FHIR ids', () => {
    const ids = resources.map((r) => `${r.resourceType}/${r.id}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of resources) expect(r.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    expect(demoPatients(new Date()).map((p) => p.id)).toEqual(patients.map((p) => p.id));
  });

  test('every Observation is final, categorised, dated, has a subject and a value or components', () => {
    for (const o of observations) {
      expect(o.status).toBe('final');
      expect(o.category?.[0]?.coding?.[0]?.system).toBe('http://terminology.hl7.org/CodeSystem/observation-category');
      expect(o.subject?.reference).toMatch(/^Patient\/demo-/);
      expect(Date.parse(o.effectiveDateTime ?? '')).toBeLessThanOrEqual(now.getTime());
      const values = [o.valueQuantity, o.valueBoolean, o.valueInteger, o.valueCodeableConcept].filter((v) => v !== undefined);
      expect(values.length + (o.component?.length ?? 0)).toBeGreaterThan(0);
      for (const q of [o.valueQuantity, ...(o.component ?? []).map((c) => c.valueQuantity)]) {
        if (q) expect(q).toMatchObject({ system: UCUM, code: expect.any(String), value: expect.any(Number) });
      }
    }
  });

  test('dates are relative to now: labs of the decompensated patient are 2–10 days old', () => {
    const p = patients.find((x) => x.id === 'demo-cirrhosis-decompensated')!;
    const labs = p.resources.filter((r): r is Observation => r.resourceType === 'Observation' && r.category?.[0]?.coding?.[0]?.code === 'laboratory');
    for (const o of labs) {
      const days = (now.getTime() - Date.parse(o.effectiveDateTime!)) / 86_400_000;
      expect(days).toBeGreaterThanOrEqual(2);
      expect(days).toBeLessThanOrEqual(10);
    }
  });

  test('the missing-labs patient has creatinine only outside the 30-day look-back and no INR or albumin', () => {
    const p = patients.find((x) => x.id === 'demo-cirrhosis-missing-labs')!;
    const obs = p.resources.filter((r): r is Observation => r.resourceType === 'Observation');
    const creat = obs.find((o) => o.code.coding?.[0]?.code === '14682-9')!;
    expect((now.getTime() - Date.parse(creat.effectiveDateTime!)) / 86_400_000).toBeGreaterThan(30);
    expect(obs.some((o) => ['6301-6', '1751-7'].includes(o.code.coding?.[0]?.code ?? ''))).toBe(false);
  });

  test('no real-looking identifiers: MRNs are DEMO- and names come from a fictional list', () => {
    for (const p of resources.filter((r): r is Patient => r.resourceType === 'Patient')) {
      expect(p.identifier?.[0]?.value).toMatch(/^DEMO-\d{4}$/);
    }
  });
});
