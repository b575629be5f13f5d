// DESIGN.md, Security: no JWT, access token, patient identifier or name in any log line, even at
// debug level and on every error path.
import { Writable } from 'node:stream';
import request from 'supertest';
import { createLogger } from '../../src/logger.ts';
import type { CdsServiceDescription } from '../../src/hooks/types.ts';
import { FHIR_TOKEN, buildPrefetch, fhirAccess, hookRequest, startHarness, type Harness } from '../support/harness.ts';
import { demoPatients } from '../../src/demo/patients/index.ts';

const lines: string[] = [];
const sink = new Writable({ write(chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ logger: createLogger('trace', sink) });
});
afterAll(async () => { await h.close(); });

test('a full session of calls logs no token, JWT, patient id or name', async () => {
  const tokens: string[] = [];
  const signed = async (path: string): Promise<string> => { const t = await h.sign(path); tokens.push(t); return t; };
  const discovery = await request(h.app).get('/cds-services').set('authorization', `Bearer ${await signed('/cds-services')}`);
  const services = (discovery.body as { services: CdsServiceDescription[] }).services;
  const patients = demoPatients();
  for (const p of patients) {
    for (const s of services) {
      const path = `/cds-services/${s.id}`;
      // with prefetch, without (FHIR fetch), and without any data (412)
      const prefetch = await buildPrefetch(h, s.prefetch!, p.id);
      await request(h.app).post(path).set('authorization', `Bearer ${await signed(path)}`).send(hookRequest(p.id, { prefetch }));
      await request(h.app).post(path).set('authorization', `Bearer ${await signed(path)}`).send(hookRequest(p.id, fhirAccess(h)));
      await request(h.app).post(path).set('authorization', `Bearer ${await signed(path)}`).send(hookRequest(p.id));
    }
  }
  // Error paths: a replayed JWT, a wrong audience, garbage, a schema error echoing a patient id.
  const path = '/cds-services/cirrhosis-sarcopenia';
  const replay = await signed(path);
  await request(h.app).post(path).set('authorization', `Bearer ${replay}`).send(hookRequest('demo-cirrhosis-decompensated'));
  await request(h.app).post(path).set('authorization', `Bearer ${replay}`).send(hookRequest('demo-cirrhosis-decompensated'));
  await request(h.app).post(path).set('authorization', `Bearer ${await signed('/cds-services/other')}`).send({});
  await request(h.app).post(path).set('authorization', 'Bearer not.a.jwt').send({});
  await request(h.app).post(path).set('authorization', `Bearer ${await signed(path)}`).send({ hook: 'patient-view', context: { patientId: 'demo-cirrhosis-decompensated' } });

  expect(lines.length).toBeGreaterThan(50);
  const log = lines.join('\n');
  expect(log).not.toContain(FHIR_TOKEN);
  expect(log).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // any JWT
  for (const t of tokens) expect(log).not.toContain(t.split('.')[2]!);
  for (const p of patients) {
    expect(log).not.toContain(p.id);
    const patient = p.resources.find((r) => r.resourceType === 'Patient') as { name?: Array<{ family?: string; given?: string[] }>; identifier?: Array<{ value?: string }> } | undefined;
    for (const n of patient?.name ?? []) {
      if (n.family) expect(log).not.toContain(n.family);
      for (const g of n.given ?? []) expect(log).not.toContain(g);
    }
    for (const id of patient?.identifier ?? []) if (id.value) expect(log).not.toContain(id.value);
  }
});
