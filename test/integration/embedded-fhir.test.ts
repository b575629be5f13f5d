// The embedded FHIR server (@medplum/fhir-router behind Express) over real HTTP: read, search with
// paging links built from the mount point, create/update, bearer check, errors as OperationOutcome.
import express from 'express';
import request from 'supertest';
import type { Bundle, FhirResource, Observation, RiskAssessment } from 'fhir/r4.js';
import { createEmbeddedFhirServer } from '../../src/fhir/embedded-server.ts';

const TOKEN = 'demo-token-123';
const LOINC = 'http://loinc.org';

function observation(id: string, patient: string, code: string, day: number): Observation {
  return {
    resourceType: 'Observation', id, status: 'final', subject: { reference: `Patient/${patient}` },
    code: { coding: [{ system: LOINC, code }] },
    effectiveDateTime: new Date(Date.UTC(2025, 0, day)).toISOString(),
    valueQuantity: { value: day, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
  };
}

const resources: FhirResource[] = [
  { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1960-01-01' },
  { resourceType: 'Patient', id: 'p2' },
  ...Array.from({ length: 12 }, (_, i) => observation(`cr${i + 1}`, 'p1', '2160-0', i + 1)),
  observation('bili1', 'p1', '1975-2', 3),
  observation('other1', 'p2', '2160-0', 5),
];

let app: express.Express;
let open: express.Express;

beforeAll(async () => {
  const secured = await createEmbeddedFhirServer({ resources, accessToken: TOKEN, defaultPageSize: 5 });
  app = express();
  app.use('/demo/fhir', secured.router);
  const unsecured = await createEmbeddedFhirServer({ resources: [{ resourceType: 'Patient', id: 'p9' }] });
  open = express();
  open.use('/fhir', unsecured.router);
});

const auth = { Authorization: `Bearer ${TOKEN}` };

describe('embedded FHIR server', () => {
  it('reads a resource as application/fhir+json', async () => {
    const res = await request(app).get('/demo/fhir/Patient/p1').set(auth);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(JSON.parse(res.text)).toMatchObject({ resourceType: 'Patient', id: 'p1', gender: 'female' });
  });

  it('answers 404 with an OperationOutcome for an unknown id', async () => {
    const res = await request(app).get('/demo/fhir/Patient/nope').set(auth);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.text)).toMatchObject({ resourceType: 'OperationOutcome' });
  });

  it('requires the bearer token (401 OperationOutcome with WWW-Authenticate)', async () => {
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: TOKEN }]) {
      const res = await request(app).get('/demo/fhir/Patient/p1').set(headers);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(JSON.parse(res.text)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'login' }] });
      expect(res.text).not.toContain('p1');
    }
  });

  it('serves the CapabilityStatement without a token', async () => {
    const res = await request(app).get('/demo/fhir/metadata');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1' });
  });

  it('searches by patient and code list, sorted, with absolute fullUrl and self/next links at the mount point', async () => {
    const res = await request(app)
      .get('/demo/fhir/Observation')
      .query({ patient: 'p1', code: `${LOINC}|2160-0,${LOINC}|1975-2`, _sort: '-date', _count: '4' })
      .set(auth)
      .set('Host', 'ehr.test:8080');
    expect(res.status).toBe(200);
    const b = JSON.parse(res.text) as Bundle;
    expect(b).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 13 });
    expect(b.entry!.map((e) => e.resource!.id)).toEqual(['cr12', 'cr11', 'cr10', 'cr9']);
    expect(b.entry![0]!.fullUrl).toBe('http://ehr.test:8080/demo/fhir/Observation/cr12');
    const next = b.link!.find((l) => l.relation === 'next')!.url;
    expect(next.startsWith('http://ehr.test:8080/demo/fhir/Observation?')).toBe(true);
    expect(new URL(next).searchParams.get('_offset')).toBe('4');
    expect(b.link!.find((l) => l.relation === 'self')!.url).toMatch(/^http:\/\/ehr\.test:8080\/demo\/fhir\/Observation\?/);
  });

  it('pages to the end: the last page has no next link; other patients never appear', async () => {
    const ids: string[] = [];
    let path: string | undefined = '/demo/fhir/Observation?patient=p1&code=http://loinc.org|2160-0&_sort=date';
    let pages = 0;
    while (path) {
      const res = await request(app).get(path).set(auth);
      expect(res.status).toBe(200);
      const b = JSON.parse(res.text) as Bundle;
      ids.push(...(b.entry ?? []).map((e) => e.resource!.id!));
      const next = b.link?.find((l) => l.relation === 'next')?.url;
      path = next ? new URL(next).pathname + new URL(next).search : undefined;
      pages++;
    }
    expect(pages).toBe(3); // default page size 5
    expect(ids).toEqual(Array.from({ length: 12 }, (_, i) => `cr${i + 1}`));
  });

  it('creates and updates resources (the demo EHR saves RiskAssessments)', async () => {
    const ra: RiskAssessment = { resourceType: 'RiskAssessment', status: 'final', subject: { reference: 'Patient/p1' }, prediction: [{ probabilityDecimal: 0.12 }] };
    const created = await request(app).post('/demo/fhir/RiskAssessment').set(auth).set('Content-Type', 'application/fhir+json').send(JSON.stringify(ra));
    expect(created.status).toBe(201);
    const body = JSON.parse(created.text) as RiskAssessment;
    expect(body.id).toBeTruthy();
    expect(created.headers.location).toMatch(new RegExp(`/demo/fhir/RiskAssessment/${body.id}/_history/`));

    const updated = await request(app).put(`/demo/fhir/RiskAssessment/${body.id}`).set(auth).set('Content-Type', 'application/fhir+json')
      .send(JSON.stringify({ ...body, status: 'amended' }));
    expect(updated.status).toBe(200);
    expect(JSON.parse(updated.text)).toMatchObject({ id: body.id, status: 'amended' });

    const found = await request(app).get('/demo/fhir/RiskAssessment').query({ patient: 'p1' }).set(auth);
    expect((JSON.parse(found.text) as Bundle).entry!.map((e) => e.resource!.id)).toContain(body.id);
  });

  it('rejects malformed JSON and unsupported methods with an OperationOutcome, no stack trace', async () => {
    const bad = await request(app).post('/demo/fhir/RiskAssessment').set(auth).set('Content-Type', 'application/fhir+json').send('{ nope');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ resourceType: 'OperationOutcome' });
    expect(bad.text).not.toMatch(/at .*\.js|SyntaxError/);
    const del = await request(app).delete('/demo/fhir/Patient/p1').set(auth);
    expect(del.status).toBe(405);
  });

  it('bounds _count', async () => {
    const res = await request(app).get('/demo/fhir/Observation').query({ patient: 'p1', _count: '100000' }).set(auth);
    expect((JSON.parse(res.text) as Bundle).entry).toHaveLength(13);
  });

  it('without accessToken, no Authorization is needed', async () => {
    const res = await request(open).get('/fhir/Patient/p9');
    expect(res.status).toBe(200);
  });
});
