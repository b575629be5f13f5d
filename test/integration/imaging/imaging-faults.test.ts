// The archive misbehaving: stopped, hanging, 500, 401, garbage, too much. Each gives `unavailable` as
// a value within the caller's budget, and exactly one log line without URL or patient identifier.
import dcmjs from 'dcmjs';
import { buildCmrStudy } from '../../../src/demo/imaging/cmr-study.ts';
import { buildCtPhantom } from '../../../src/demo/imaging/ct-phantom.ts';
import { uidFor } from '../../../src/demo/imaging/dicom-builders.ts';
import { readImaging } from '../../../src/imaging/imaging-reader.ts';
import type { ImagingResult } from '../../../src/imaging/types.ts';
import { startFaultyProxy, type FaultyProxy, type ProxyMode } from '../../support/faulty-proxy.ts';
import { startTestOrthanc, testRuntime, TEST_USER, type LogLine, type OrthancProcess } from '../../support/orthanc-server.ts';

dcmjs.log.setLevel('silent');
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');
const PATIENT = { patientId: 'FAULT-1', patientName: 'Fault^Test' };
const cmr = buildCmrStudy({
  patient: { ...PATIENT, studyUid: uidFor('fault/cmr'), studyDate: '20260201', studyDescription: 'CMR' },
  seed: 'fault/cmr', series: [{ description: 'trufi_cine', instances: 1 }],
  report: { contentDate: '20260201', measurements: { lvef: 41 } },
});
const ct = buildCtPhantom({
  patient: { ...PATIENT, studyUid: uidFor('fault/ct'), studyDate: '20260110', studyDescription: 'CT' },
  seed: 'fault/ct', rows: 64, columns: 64, pixelSpacing: [0.8, 0.8], slices: 1, l3Slice: 0, musclePixels: 900, l3Segment: false,
});

let orthanc: OrthancProcess;
let proxy: FaultyProxy;

beforeAll(async () => {
  orthanc = await startTestOrthanc({ users: { [TEST_USER.name]: TEST_USER.password } });
  const auth = `Basic ${Buffer.from(`${TEST_USER.name}:${TEST_USER.password}`).toString('base64')}`;
  for (const f of [...cmr.files, ...ct.files]) {
    const res = await fetch(`${orthanc.baseUrl}/instances`, { method: 'POST', headers: { authorization: auth }, body: new Uint8Array(f) });
    if (!res.ok) throw new Error(`upload failed: ${res.status}`);
  }
  proxy = await startFaultyProxy(orthanc.dicomWebUrl);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await orthanc?.stop();
});

// The budget of the reads that must give up; reads that must succeed get a generous one, so a loaded
// CI machine cannot turn a slow Orthanc into a failed test. The hang tests check that the read stops
// at its budget (a stalled archive never answers), with slack for a loaded machine.
const BUDGET_MS = 1500;
const SUCCESS_BUDGET_MS = 15_000;
const SLACK_MS = 2000;

async function readVia(mode: ProxyMode, overrides: Parameters<typeof testRuntime>[1] = {}, budgetMs = mode === 'pass' ? SUCCESS_BUDGET_MS : BUDGET_MS): Promise<{ r: ImagingResult; logs: LogLine[]; ms: number }> {
  proxy.mode = mode;
  try {
    const { runtime, logs } = testRuntime(proxy.url, overrides);
    const t0 = performance.now();
    const r = await readImaging(runtime, { patientId: PATIENT.patientId, signal: AbortSignal.timeout(budgetMs) });
    return { r, logs, ms: performance.now() - t0 };
  } finally {
    proxy.mode = 'pass';
  }
}

function expectOneSafeLogLine(logs: LogLine[], reason: string): void {
  expect(logs).toHaveLength(1);
  expect(logs[0]?.message).toBe('imaging unavailable');
  expect(logs[0]?.fields.reason).toBe(reason);
  const text = JSON.stringify(logs);
  expect(text).not.toContain(PATIENT.patientId);
  expect(text).not.toMatch(/127\.0\.0\.1|http:|dicom-web|Basic /);
}

describe('an archive that misbehaves gives "imaging unavailable" as a value', () => {
  it('works through the proxy when nothing is wrong (the faults below are the proxy\'s)', async () => {
    const { r, logs } = await readVia('pass');
    expect(r.unavailable).toBeUndefined();
    expect(r.cmr.inputs.lvef?.value).toBe(41);
    expect(r.ct.inputs.muscleArea?.value).toBe(ct.expectedAreaCm2);
    expect(logs).toEqual([]);
  });

  it('archive stopped: unreachable', async () => {
    const other = await startTestOrthanc();
    const url = other.dicomWebUrl;
    await other.stop();
    const { runtime, logs } = testRuntime(url);
    const t0 = performance.now();
    const r = await readImaging(runtime, { patientId: PATIENT.patientId, signal: AbortSignal.timeout(BUDGET_MS) });
    expect(performance.now() - t0).toBeLessThan(BUDGET_MS + SLACK_MS);
    expect(r.unavailable).toEqual({ reason: 'unreachable', message: 'the imaging archive could not be reached' });
    expectOneSafeLogLine(logs, 'unreachable');
  });

  it('archive hanging: timeout within the caller\'s budget', async () => {
    const { r, logs, ms } = await readVia('stall');
    expect(r.unavailable?.reason).toBe('timeout');
    expect(ms).toBeGreaterThanOrEqual(BUDGET_MS - 50);
    expect(ms).toBeLessThan(BUDGET_MS + SLACK_MS);
    expectOneSafeLogLine(logs, 'timeout');
  });

  it('archive hanging on pixel frames only: the CT part is unavailable, the CMR part is read', async () => {
    // Long enough for the CMR part on a loaded machine; the frames still hang past it.
    const budget = 5000;
    const { r, logs, ms } = await readVia('stall-frames', {}, budget);
    expect(r.unavailable).toBeUndefined();
    expect(r.cmr.inputs.lvef?.value).toBe(41);
    expect(r.ct.inputs).toEqual({});
    expect(r.ct.unavailable?.reason).toBe('timeout');
    expect(ms).toBeLessThan(budget + SLACK_MS);
    expectOneSafeLogLine(logs, 'timeout');
    expect(logs[0]?.fields.parts).toEqual(['ct']);
  });

  it('per-request timeout shorter than the budget', async () => {
    const { r, ms } = await readVia('stall', { requestTimeoutMs: 300 }, 10_000);
    expect(r.unavailable?.reason).toBe('timeout');
    expect(ms).toBeLessThan(300 + SLACK_MS);
  });

  it('HTTP 500: archive-error', async () => {
    const { r, logs } = await readVia('status-500');
    expect(r.unavailable).toEqual({ reason: 'archive-error', message: 'the imaging archive answered with an error' });
    expectOneSafeLogLine(logs, 'archive-error');
  });

  it('HTTP 401 (Orthanc itself, no credentials): unauthorized', async () => {
    const { r, logs } = await readVia('pass', { authorization: undefined });
    expect(r.unavailable?.reason).toBe('unauthorized');
    expectOneSafeLogLine(logs, 'unauthorized');
    const wrong = await readVia('pass', { authorization: 'Basic d3Jvbmc6d3Jvbmc=' });
    expect(wrong.r.unavailable?.reason).toBe('unauthorized');
  });

  it('garbage body: malformed-response', async () => {
    const { r, logs } = await readVia('garbage');
    expect(r.unavailable?.reason).toBe('malformed-response');
    expectOneSafeLogLine(logs, 'malformed-response');
  });

  it('oversized body: oversized-response, reading stops at the cap', async () => {
    const { r, logs } = await readVia('oversized', { maxResponseBytes: 1024 * 1024 });
    expect(r.unavailable?.reason).toBe('oversized-response');
    expect(r.stats.bytes).toBeLessThan(3 * 1024 * 1024);
    expectOneSafeLogLine(logs, 'oversized-response');
  });

  it('a SEG larger than the cap: the CT part is unavailable, nothing else', async () => {
    const { r } = await readVia('pass', { maxResponseBytes: 8 * 1024 });
    expect(r.cmr.inputs.lvef?.value).toBe(41);
    expect(r.ct.unavailable?.reason).toBe('oversized-response');
  });

  it('the caller gives up (aborted signal): aborted, no request sent', async () => {
    const { runtime, logs } = testRuntime(orthanc.dicomWebUrl);
    const controller = new AbortController();
    controller.abort();
    const r = await readImaging(runtime, { patientId: PATIENT.patientId, signal: controller.signal });
    expect(r.unavailable?.reason).toBe('aborted');
    expect(r.stats.requests).toBe(0);
    expectOneSafeLogLine(logs, 'aborted');
  });

  it('no archive configured: not-configured, not logged', async () => {
    const { runtime, logs } = testRuntime(undefined);
    const r = await readImaging(runtime, { patientId: PATIENT.patientId, signal: AbortSignal.timeout(BUDGET_MS) });
    expect(r.unavailable?.reason).toBe('not-configured');
    expect(logs).toEqual([]);
  });
});
