// Only this patient's data is scored (issue 11, item 2), over HTTP against the real app: a prefetch
// for patient A holding patient B's resources, and a FHIR server answering A's searches and reads
// with B's resources (a real loopback server on the client's allowlist).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import type { Bundle, FhirResource, Observation } from 'fhir/r4.js';
import type { Card, CdsServiceDescription } from '../../src/hooks/types.ts';
import { cirrhosisSarcopenia } from '../../src/services/cirrhosis-sarcopenia/index.ts';
import { DEFAULT_PROFILES_DIR } from '../../src/fhir/terminology.ts';
import { demoPatients, demoResources } from '../../src/demo/patients/index.ts';
import { buildPrefetch, FHIR_TOKEN, hookRequest, startHarness, type Harness } from '../support/harness.ts';
import { openApiProblems } from '../support/openapi.ts';

const A = 'demo-cirrhosis-decompensated';
const SERVICE = 'cirrhosis-sarcopenia';
const NOTICE = cirrhosisSarcopenia.loadWording({ profilesDir: DEFAULT_PROFILES_DIR }).text.otherPatientDataIgnored;
const now = new Date();
const all = demoResources(demoPatients(now));

/** A's Observations copied onto patient B, one hour old (newer than A's) and with tripled values. */
function othersObservations(of: FhirResource[], other: string): Observation[] {
  return of.filter((r): r is Observation => r.resourceType === 'Observation').map((o, i) => ({
    ...o,
    id: `${other}-copy-${i}`,
    subject: { reference: `Patient/${other}` },
    effectiveDateTime: new Date(now.getTime() - 3_600_000).toISOString(),
    ...(o.valueQuantity?.value !== undefined ? { valueQuantity: { ...o.valueQuantity, value: o.valueQuantity.value * 3 } } : {}),
  }));
}
const searchset = (resources: FhirResource[]): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });
const subjectOf = (r: FhirResource): string | undefined => (r as { subject?: { reference?: string } }).subject?.reference;

let rogue: Server;
let rogueBase: string;
let h: Harness;
let templates: Record<string, string>;
let reference: Card[];

beforeAll(async () => {
  // A FHIR server that answers patient A's Observation search with A's and B's Observations, and a
  // read of patient 'ghost' with another patient's Patient resource.
  const app = express();
  app.get('/fhir/Patient/:id', (req, res) => {
    const id = req.params.id === 'ghost' ? A : req.params.id;
    const p = all.find((r) => r.resourceType === 'Patient' && r.id === id);
    if (!p) return void res.status(404).json({ resourceType: 'OperationOutcome', issue: [] });
    res.type('application/fhir+json').send(JSON.stringify(p));
  });
  app.get('/fhir/:type', (req, res) => {
    const mine = all.filter((r) => r.resourceType === req.params.type && subjectOf(r) === `Patient/${A}`);
    const extra = req.params.type === 'Observation' ? othersObservations(mine, 'demo-someone-else') : [];
    res.type('application/fhir+json').send(JSON.stringify(searchset([...mine, ...extra])));
  });
  rogue = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  rogueBase = `http://127.0.0.1:${(rogue.address() as AddressInfo).port}/fhir`;
  h = await startHarness({ now, extraFhirServers: [rogueBase] });
  const disco = await request(h.app).get('/cds-services').set('authorization', `Bearer ${await h.sign('/cds-services')}`);
  templates = (disco.body as { services: CdsServiceDescription[] }).services.find((s) => s.id === SERVICE)!.prefetch!;
  const prefetch = await buildPrefetch(h, templates, A);
  reference = ((await call(hookRequest(A, { prefetch }))).body as { cards: Card[] }).cards;
  expect(reference.length).toBeGreaterThan(0);
});
afterAll(async () => {
  await h.close();
  await new Promise((r) => rogue.close(r));
});

async function call(body: unknown) {
  const path = `/cds-services/${SERVICE}`;
  return request(h.app).post(path).set('authorization', `Bearer ${await h.sign(path)}`).send(body as object);
}
const rogueAccess = () => ({
  fhirServer: rogueBase,
  fhirAuthorization: { access_token: FHIR_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.rs', subject: 'test' },
});
const droppedMetric = async (type: string): Promise<number> => {
  const text = (await request(h.app).get('/metrics')).text;
  const m = new RegExp(`cds_other_patient_resources_dropped_total\\{service="${SERVICE}",resource_type="${type}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
};

test('a prefetch for patient A holding only patient B\'s Conditions and Observations: 412, no card from B\'s data', async () => {
  const mine = await buildPrefetch(h, templates, 'demo-no-liver-disease');
  const theirs = await buildPrefetch(h, templates, A);
  const before = await droppedMetric('Condition');
  const res = await call(hookRequest('demo-no-liver-disease', { prefetch: { ...mine, conditions: theirs.conditions, observations: theirs.observations } }));
  expect(res.status).toBe(412);
  expect(openApiProblems('/cds-services/{id}', 'post', res.status, String(res.headers['content-type']), res.body)).toEqual([]);
  const diagnostics = (res.body as { issue: Array<{ diagnostics: string }> }).issue[0]!.diagnostics;
  expect(diagnostics).toMatch(/conditions, observations/);
  expect(diagnostics).toMatch(/was not shown to be this patient's and was ignored/);
  expect(diagnostics).not.toMatch(/demo-/); // no patient id
  expect(await droppedMetric('Condition')).toBeGreaterThan(before);
});

test('patient B\'s Observations mixed into A\'s prefetch are ignored; every card says some data was ignored', async () => {
  const prefetch = await buildPrefetch(h, templates, A);
  const own = ((prefetch.observations as Bundle).entry ?? []).map((e) => e.resource as FhirResource);
  const intruders = othersObservations(own, 'demo-someone-else');
  const before = await droppedMetric('Observation');
  const res = await call(hookRequest(A, { prefetch: { ...prefetch, observations: searchset([...own, ...intruders]) } }));
  expect(res.status).toBe(200);
  const cards = (res.body as { cards: Card[] }).cards;
  // The same scores as from A's data alone (B's newer, tripled labs would change every one).
  expect(cards.map((c) => c.summary)).toEqual(reference.map((c) => c.summary));
  expect(cards.map((c) => c.extension)).toEqual(reference.map((c) => c.extension));
  for (const c of cards) {
    expect(c.detail!.startsWith(`_${NOTICE}_`)).toBe(true);
    expect(c.detail).not.toMatch(/someone-else/);
  }
  expect(await droppedMetric('Observation')).toBe(before + intruders.length);
  // Without intruders, no notice.
  expect(reference.every((c) => !c.detail?.includes(NOTICE))).toBe(true);
});

test('a FHIR server answering A\'s search with B\'s Observations too: only A\'s are scored', async () => {
  const before = await droppedMetric('Observation');
  const res = await call(hookRequest(A, rogueAccess()));
  expect(res.status).toBe(200);
  const cards = (res.body as { cards: Card[] }).cards;
  expect(cards.map((c) => c.summary)).toEqual(reference.map((c) => c.summary));
  for (const c of cards) expect(c.detail!.startsWith(`_${NOTICE}_`)).toBe(true);
  expect(await droppedMetric('Observation')).toBeGreaterThan(before);
});

test('a FHIR server answering the read of the patient with another patient: the patient is unavailable, 412', async () => {
  const res = await call(hookRequest('ghost', rogueAccess()));
  expect(res.status).toBe(412);
  // The server answers ghost's searches with A's resources as well: nothing of ghost's is left anywhere.
  expect((res.body as { issue: Array<{ diagnostics: string }> }).issue[0]!.diagnostics).toMatch(/received for patient, conditions, observations was not shown to be this patient's/);
});
