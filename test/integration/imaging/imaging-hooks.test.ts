// Imaging end to end: CDS Hooks calls over HTTP to the real app (supertest), its FHIR data in the
// embedded FHIR server and its imaging in a real Orthanc loaded with the demo studies
// (demo/imaging/demo-archive.ts). The cards must carry the SR values and the SEG's muscle area
// exactly, with `dicom:` sources; the newer of FHIR and DICOM wins; a CT without a SEG is named; and an
// archive that is stopped, stalled or erroring leaves FHIR-only cards within the time budget, one line
// on the card and one log line without archive detail or patient identifier.
import { Writable } from 'node:stream';
import request from 'supertest';
import type { FhirResource, Observation } from 'fhir/r4.js';
import { testConfig, type AppConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/logger.ts';
import { startDemoArchive, type DemoArchive } from '../../../src/demo/imaging/demo-archive.ts';
import { demoImagingPatients } from '../../../src/demo/imaging/demo-studies.ts';
import { uidFor } from '../../../src/demo/imaging/dicom-builders.ts';
import { DEMO_MRN_SYSTEM } from '../../../src/demo/patients/builders.ts';
import { demoPatients, demoResources } from '../../../src/demo/patients/index.ts';
import type { Card } from '../../../src/hooks/types.ts';
import type { ServiceDetail } from '../../../src/services/detail-schema.ts';
import { startFaultyProxy, type FaultyProxy } from '../../support/faulty-proxy.ts';
import { buildPrefetch, fhirAccess, hookRequest, startHarness, type Harness } from '../../support/harness.ts';

const clock = { now: new Date() };
const demo = demoImagingPatients(clock);
const expected = Object.fromEntries(demo.map((p) => [p.fhirId, p.expected]));
const VIEWER = 'https://viewer.test/ohif/viewer?StudyInstanceUIDs={StudyInstanceUID}';
const DAY_MS = 86_400_000;

// demo-cirrhosis-decompensated: the record gets an SMI measured after the archive's CT (12 days ago).
const NEWER_SMI_ID = 'test-newer-smi';
function withNewerFhirSmi(resources: FhirResource[]): FhirResource[] {
  const smi = resources.find((r): r is Observation => r.resourceType === 'Observation' &&
    r.subject?.reference === 'Patient/demo-cirrhosis-decompensated' && r.valueQuantity?.code === 'cm2/m2');
  if (!smi) throw new Error('the demo patient has no recorded SMI');
  const newer: Observation = { ...smi, id: NEWER_SMI_ID, effectiveDateTime: new Date(clock.now.getTime() - 2 * DAY_MS).toISOString(), valueQuantity: { ...smi.valueQuantity, value: 36.5 } };
  return [...resources, newer];
}

let archive: DemoArchive;
let h: Harness;
const lines: string[] = [];
const sink = new Writable({ write(chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });

function imagingConfig(url: string, over: Partial<AppConfig['imaging']> = {}): AppConfig['imaging'] {
  return { ...testConfig().imaging, dicomWebUrl: url, patientIdSystem: DEMO_MRN_SYSTEM, viewerUrlTemplate: VIEWER, ...over };
}

beforeAll(async () => {
  archive = await startDemoArchive(clock);
  if (!archive.ok) throw new Error(`The imaging tests need Orthanc: ${archive.reason}`);
  h = await startHarness({
    resources: withNewerFhirSmi(demoResources(demoPatients(clock.now))),
    now: clock.now,
    config: { imaging: imagingConfig(archive.dicomWebUrl) },
    logger: createLogger('info', sink),
  });
}, 90_000);

afterAll(async () => {
  await h?.close();
  if (archive?.ok) await archive.stop();
});

async function call(harness: Harness, service: string, patientId: string, body: Record<string, unknown> = fhirAccess(harness)): Promise<{ cards: Card[]; ms: number }> {
  const path = `/cds-services/${service}`;
  const t0 = performance.now();
  const res = await request(harness.app).post(path).set('authorization', `Bearer ${await harness.sign(path)}`).send(hookRequest(patientId, body));
  const ms = performance.now() - t0;
  expect(res.status).toBe(200);
  return { cards: (res.body as { cards: Card[] }).cards, ms };
}

type ScoreInput = { name: string; value: unknown; source: string; date?: string };
const scoreInputs = (cards: Card[]): ScoreInput[] =>
  cards.flatMap((c) => ((c.extension as { scores?: Array<{ inputs: ScoreInput[] }> } | undefined)?.scores ?? []).flatMap((s) => s.inputs));
const openImages = (cards: Card[]) => cards.flatMap((c) => c.links ?? []).filter((l) => l.type === 'absolute');
const viewerUrlOf = (key: string): string => VIEWER.replace('{StudyInstanceUID}', uidFor(`demo/${key}`));

describe('cards from the FHIR record and the DICOMweb archive', () => {
  it('CMR: the SR values come back exactly on the cards, with dicom: sources and the study named', async () => {
    const { cards } = await call(h, 'cmr-ihd-macce', 'demo-stemi-high-risk');
    const want = expected['demo-stemi-high-risk']?.cmr ?? {};
    const fromDicom = scoreInputs(cards).filter((i) => i.source.startsWith('dicom:'));
    expect(fromDicom.map((i) => i.name)).toEqual(expect.arrayContaining(['lvef', 'mvoSegments']));
    for (const i of fromDicom) {
      expect(i.source).toMatch(/^dicom:[0-9.]+$/);
      expect(i.value).toBe(want[i.name]);
    }
    const detail = cards.map((c) => c.detail ?? '').join('\n');
    // The markers card's inputs table: infarct size and MVO from the same report.
    expect(detail).toMatch(/\| 28 % \| [0-9-]{10} \| dicom:[0-9.]+ \|/);
    expect(detail).toMatch(/\| 2\.1 % \| [0-9-]{10} \| dicom:[0-9.]+ \|/);
    expect(detail).toMatch(/Imaging: CMR VIABILITY \(MR\) of \d{4}-\d{2}-\d{2}, the only MR study with a measurement report/);
    expect(openImages(cards)).toContainEqual({ label: 'Open images', url: viewerUrlOf('stemi-cmr'), type: 'absolute' });
    expect(detail).not.toMatch(/Imaging was unavailable/);
  });

  it('the newer of FHIR and DICOM wins: a newer CMR in the archive (LVEF 49 %) over the record\'s (52 %)', async () => {
    const { cards } = await call(h, 'cmr-ihd-macce', 'demo-chronic-ihd');
    const markers = cards.find((c) => c.source.topic?.code === 'cmr-markers');
    expect(markers?.detail).toMatch(/\| 49 % \| [0-9-]{10} \| dicom:[0-9.]+ \|/);
    expect(markers?.detail).not.toMatch(/\| 52 % \|/);
    expect(markers?.links).toContainEqual({ label: 'Open images', url: viewerUrlOf('chronic-cmr'), type: 'absolute' });
  });

  it('CT: the SEG\'s L3 muscle area gives the SMI exactly (area / height²)', async () => {
    // demo-cirrhosis-compensated: the archive's CT (7 days ago) is newer than the record's (30 days).
    const { cards } = await call(h, 'cirrhosis-sarcopenia', 'demo-cirrhosis-compensated');
    const scores = cards.flatMap((c) => (c.extension as { scores: Array<{ model: string; value: number; inputs: ScoreInput[] }> } | undefined)?.scores ?? []);
    const smi = scores.find((s) => s.model === 'smi');
    const area = smi?.inputs.find((i) => i.name === 'muscleArea');
    const height = smi?.inputs.find((i) => i.name === 'height');
    expect(area).toMatchObject({ value: expected['demo-cirrhosis-compensated']?.muscleAreaCm2, source: expect.stringMatching(/^dicom:[0-9.]+$/) });
    expect(typeof height?.value).toBe('number');
    expect(smi?.value).toBe(168.96 / (height?.value as number) ** 2);
    expect(smi?.inputs.filter((i) => i.source.startsWith('Observation/')).map((i) => i.name)).toEqual(['height']); // the record's older SMI and area are not used
    const detail = cards.map((c) => c.detail ?? '').join('\n');
    expect(detail).toMatch(/Imaging: CT ABDOMEN \(CT\) of \d{4}-\d{2}-\d{2}, the only CT study with a skeletal muscle segmentation/);
    expect(openImages(cards)).toContainEqual({ label: 'Open images', url: viewerUrlOf('compensated-ct'), type: 'absolute' });
  });

  it('a newer SMI in the record wins over the archive\'s CT, and the card says the study was not used', async () => {
    const { cards } = await call(h, 'cirrhosis-sarcopenia', 'demo-cirrhosis-decompensated');
    const smi = cards.flatMap((c) => (c.extension as { scores: Array<{ model: string; value: number; inputs: ScoreInput[] }> } | undefined)?.scores ?? []).find((s) => s.model === 'smi');
    expect(smi?.value).toBe(36.5);
    expect(smi?.inputs.find((i) => i.name === 'smi')?.source).toBe(`Observation/${NEWER_SMI_ID}`);
    expect(JSON.stringify(cards)).not.toContain('dicom:');
    expect(cards.map((c) => c.detail ?? '').join('\n')).toContain('The record holds a newer L3 muscle measurement, and that was used');
  });

  it('no CT with a SEG: the card says so and names what would produce one', async () => {
    const { cards } = await call(h, 'cirrhosis-sarcopenia', 'demo-cirrhosis-pbc');
    const detail = cards.map((c) => c.detail ?? '').join('\n');
    expect(detail).toContain('no CT with a skeletal muscle segmentation in the imaging archive');
    expect(detail).toContain('TotalSegmentator');
    expect(openImages(cards)).toEqual([]);
  });

  it('reads the imaging as soon as the EHR-sent Patient names the archive\'s PatientID (prefetch)', async () => {
    const service = (await request(h.app).get('/cds-services').set('authorization', `Bearer ${await h.sign('/cds-services')}`)).body.services
      .find((s: { id: string }) => s.id === 'cmr-cardiac-mass') as { prefetch: Record<string, string> };
    const prefetch = await buildPrefetch(h, service.prefetch, 'demo-mass-malignant');
    const { cards } = await call(h, 'cmr-cardiac-mass', 'demo-mass-malignant', { prefetch });
    const inputs = scoreInputs(cards);
    const want = expected['demo-mass-malignant']?.mass ?? {};
    expect(inputs.length).toBeGreaterThan(0);
    for (const i of inputs) {
      expect(i.source).toMatch(/^dicom:/);
      expect(i.value).toBe(want[i.name]);
    }
  });

  it('the SMART detail view names the DICOM study and series of an input read from the archive', async () => {
    const { computeDetailFor } = await detailComputer();
    const detail = await computeDetailFor('cirrhosis-sarcopenia', 'demo-cirrhosis-compensated');
    const area = detail.results.find((r) => r.model === 'smi')?.inputs.find((i) => i.name === 'muscleArea');
    expect(area?.origin).toMatchObject({
      kind: 'dicom',
      studyInstanceUid: uidFor('demo/compensated-ct'),
      studyDescription: 'CT ABDOMEN',
      modality: 'SEG',
      studyDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}/),
      seriesInstanceUid: expect.stringMatching(/^[0-9.]+$/),
    });
    expect(area?.origin.kind === 'dicom' && `dicom:${area.origin.sopInstanceUid}`).toBe(area?.source);
    // The LVEF trend: the record's CMR LVEFs (47 %, 52 %) and the archive's newer report (49 %).
    const ihd = await computeDetailFor('cmr-ihd-macce', 'demo-chronic-ihd');
    const lvef = ihd.trends.find((t) => t.id === 'lvef')?.points ?? [];
    expect(lvef.map((p) => p.value)).toEqual([47, 52, 49]);
    expect(lvef.at(-1)?.sources[0]).toMatch(/^dicom:[0-9.]+$/);
  });
});

/** The detail use case of the harness's app, called with the harness's FHIR server as `iss`. */
async function detailComputer(): Promise<{ computeDetailFor(serviceId: string, patientId: string): Promise<ServiceDetail> }> {
  const { createDetailComputer } = await import('../../../src/smart/detail.ts');
  const { createRuntime } = await import('../../../src/runtime.ts');
  const { loadDetailWording, loadReportTemplate } = await import('../../../src/services/detail-wording.ts');
  const runtime = createRuntime(h.config);
  const compute = createDetailComputer({
    config: h.config, logger: createLogger('silent'), now: () => new Date(), services: runtime.services, runtime,
    wording: loadDetailWording(), report: loadReportTemplate(),
  });
  const { FHIR_TOKEN } = await import('../../support/harness.ts');
  return { computeDetailFor: (serviceId, patientId) => compute({ iss: h.fhirBaseUrl, accessToken: FHIR_TOKEN, patientId, serviceId }) };
}

describe('an archive that is stopped, stalled or erroring', () => {
  const BUDGET_MS = 2500;
  const SLACK_MS = 2500;
  let proxy: FaultyProxy;
  let faulty: Harness;
  const faultLines: string[] = [];
  const faultSink = new Writable({ write(chunk, _enc, done) { faultLines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });

  beforeAll(async () => {
    if (!archive.ok) throw new Error('no archive');
    proxy = await startFaultyProxy(archive.dicomWebUrl);
    faulty = await startHarness({
      now: clock.now,
      config: { fetchBudgetMs: BUDGET_MS, imaging: imagingConfig(proxy.url, { qidoCacheTtlS: 0, requestTimeoutMs: 1500 }) },
      logger: createLogger('info', faultSink),
    });
  }, 60_000);
  afterAll(async () => {
    await faulty?.close();
    await proxy?.stop();
  });

  it.each([['status-500'], ['garbage'], ['stall'], ['stopped']] as const)('%s: FHIR-only cards within the budget, one line on the card, one safe log line', async (mode) => {
    if (mode === 'stopped') await proxy.stop();
    else proxy.mode = mode;
    faultLines.length = 0;
    const { cards, ms } = await call(faulty, 'cirrhosis-sarcopenia', 'demo-cirrhosis-decompensated');
    expect(ms).toBeLessThan(BUDGET_MS + SLACK_MS);
    // The record's own SMI (34.1) and MELD family: the cards as without imaging.
    const smi = cards.flatMap((c) => (c.extension as { scores: Array<{ model: string; value: number; inputs: ScoreInput[] }> } | undefined)?.scores ?? []).find((s) => s.model === 'smi');
    expect(smi?.value).toBe(34.1);
    expect(cards.some((c) => c.source.topic?.code === 'liver-prognosis')).toBe(true);
    expect(JSON.stringify(cards)).not.toContain('dicom:');
    for (const c of cards) expect(c.detail).toContain("Imaging was unavailable for this request: these results use the record's data alone.");
    expect(openImages(cards)).toEqual([]);
    const imagingLines = faultLines.filter((l) => l.includes('imaging unavailable'));
    expect(imagingLines).toHaveLength(1);
    for (const secret of ['DEMO-0001', 'demo-cirrhosis-decompensated', '127.0.0.1', 'dicom-web', 'Basic ']) expect(imagingLines[0]).not.toContain(secret);
  }, 30_000);

  it('counts the reads by outcome in /metrics', async () => {
    const text = (await request(faulty.app).get('/metrics')).text;
    for (const outcome of ['archive-error', 'malformed-response', 'timeout', 'unreachable']) {
      expect(text).toContain(`cds_imaging_read_duration_seconds_count{service="cirrhosis-sarcopenia",outcome="${outcome}"} 1`);
    }
  });
});

test('the healthy archive\'s log holds no imaging line and no patient identifier', () => {
  expect(lines.filter((l) => l.includes('imaging unavailable'))).toEqual([]);
  for (const l of lines) for (const secret of ['DEMO-0005', 'DEMO-0002']) expect(l).not.toContain(secret);
});
