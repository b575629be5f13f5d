// The demo's private Orthanc, loaded with the demo patients' studies: the imaging layer reads what the
// demo's FHIR data says (or a deliberately newer study), and the helper says why when it cannot start.
import { startDemoArchive, type DemoArchive } from '../../../src/demo/imaging/demo-archive.ts';
import { demoImagingPatients } from '../../../src/demo/imaging/demo-studies.ts';
import { demoPatients } from '../../../src/demo/patients/index.ts';
import { DEMO_MRN_SYSTEM } from '../../../src/demo/patients/builders.ts';
import { readImaging } from '../../../src/imaging/imaging-reader.ts';
import type { Patient } from 'fhir/r4.js';
import { testRuntime } from '../../support/orthanc-server.ts';

const clock = { now: new Date('2026-06-15T10:00:00Z') };
const demo = demoImagingPatients(clock);
let archive: DemoArchive;

beforeAll(async () => {
  archive = await startDemoArchive(clock);
}, 60_000);
afterAll(async () => {
  if (archive?.ok) await archive.stop();
});

const valuesOf = (inputs: object): Record<string, unknown> => Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value]));

describe('the demo archive', () => {
  it('starts and loads every demo patient\'s studies', () => {
    if (!archive.ok) throw new Error(`demo archive did not start: ${archive.reason}`);
    expect(archive.patientIdSystem).toBe(DEMO_MRN_SYSTEM);
    expect(archive.instances).toBe(demo.reduce((n, p) => n + p.files.length, 0));
  });

  it.each(demo.map((p) => [p.fhirId, p] as const))('%s: the layer reads the demo values through the MRN', async (fhirId, p) => {
    if (!archive.ok) throw new Error('no archive');
    const patient = demoPatients(clock.now).find((d) => d.id === fhirId)?.resources.find((r): r is Patient => r.resourceType === 'Patient');
    expect(patient?.identifier?.[0]).toEqual({ system: DEMO_MRN_SYSTEM, value: p.mrn });
    const { runtime } = testRuntime(archive.dicomWebUrl, { patientIdSystem: archive.patientIdSystem, authorization: undefined });
    const r = await readImaging(runtime, { patientId: fhirId, identifiers: patient?.identifier ?? [], signal: AbortSignal.timeout(10_000) });
    expect(r.unavailable).toBeUndefined();
    if (p.expected.cmr) expect(valuesOf(r.cmr.inputs)).toEqual(p.expected.cmr);
    if (p.expected.mass) expect(valuesOf(r.mass.inputs)).toEqual(p.expected.mass);
    if (p.expected.muscleAreaCm2 !== undefined) expect(r.ct.inputs.muscleArea?.value).toBe(p.expected.muscleAreaCm2);
    expect(r.stats.depth).toBeLessThanOrEqual(3);
  });

  it('matches the demo FHIR data, or is deliberately newer', () => {
    const byId = Object.fromEntries(demo.map((p) => [p.fhirId, p.expected]));
    expect(byId['demo-cirrhosis-decompensated']?.muscleAreaCm2).toBe(92.8); // = FHIR l3-muscle-area, same CT date
    expect(byId['demo-cirrhosis-compensated']?.muscleAreaCm2).toBe(168.96); // FHIR 171.7 cm² is 23 days older
    expect(byId['demo-stemi-high-risk']?.cmr?.lvef).toBe(35); // = FHIR
    expect(byId['demo-chronic-ihd']?.cmr?.lvef).toBe(49); // FHIR 52 % is 35 days older
  });

  it('says exactly why when Orthanc is not installed or cannot start', async () => {
    const missing = await startDemoArchive(clock, { missing: () => 'not installed: /usr/sbin/Orthanc (package orthanc). Install: apt-get …' });
    expect(missing).toEqual({
      ok: false,
      reason: 'Orthanc is not installed: /usr/sbin/Orthanc (package orthanc)',
      howToEnable: expect.stringContaining('apt-get install -y --no-install-recommends orthanc orthanc-dicomweb'),
    });
    const broken = await startDemoArchive(clock, { missing: () => undefined, start: () => Promise.reject(new Error('Orthanc exited during start-up:\nE0101 bad config')) });
    expect(broken).toEqual({ ok: false, reason: 'Orthanc could not be started: Orthanc exited during start-up:', howToEnable: expect.stringContaining('Orthanc --version') });
  });
});
