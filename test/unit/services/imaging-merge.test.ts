// The services' gather with an imaging read beside the FHIR data (one boundary: the ImagingResult is
// built here; the archive itself is exercised in test/integration/imaging): the newer of FHIR and
// DICOM wins, by day, within the same windows; the cardiac mass takes one study whole; the CT without
// a SEG is named from the card file; an unavailable archive is one line.
import type { Card } from '../../../src/hooks/types.ts';
import type { Input } from '../../../src/models/types.ts';
import type { ImagingPart, ImagingResult, ImagingStudy } from '../../../src/imaging/types.ts';
import { createEvaluation } from '../../../src/services/evaluation.ts';
import { compareDates, newerInput, withinLookback } from '../../../src/services/imaging-inputs.ts';
import { demoPatients } from '../../../src/demo/patients/index.ts';
import { chartData, serviceOf, testRuntime } from '../../support/runtime.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
const DAY = 86_400_000;
const daysAgo = (d: number): string => new Date(NOW.getTime() - d * DAY).toISOString().slice(0, 10);
const patients = demoPatients(NOW);
const chart = (id: string) => chartData(patients.find((p) => p.id === id)?.resources ?? []);

const SR = '1.2.3.4.5.100';
const STUDY: ImagingStudy = { studyInstanceUid: '1.2.3.4.5', date: daysAgo(10), description: 'CMR TEST', modalities: ['MR', 'SR'], viewerUrl: 'https://viewer.test/?s=1.2.3.4.5' };

function part<I extends object>(inputs: I, extra: Partial<ImagingPart<I>> = {}): ImagingPart<I> {
  return { inputs, studiesFound: 0, missingReasons: {}, derivations: [], ...extra };
}

function imaging(over: Partial<ImagingResult>): ImagingResult {
  return {
    cmr: part({}), mass: part({}), ct: part({}), objects: {},
    stats: { requests: 0, bytes: 0, depth: 0, cacheHits: 0, elapsedMs: 0, byKind: { qido: { requests: 0, bytes: 0 }, metadata: { requests: 0, bytes: 0 }, instance: { requests: 0, bytes: 0 }, frames: { requests: 0, bytes: 0 } } },
    ...over,
  };
}

const dicom = <V extends number | boolean | string>(name: string, value: V, date: string, unit?: string): Input<V> => ({ name, value, date, source: `dicom:${SR}`, ...(unit ? { unit } : {}) });
const objects = { [SR]: { studyInstanceUid: STUDY.studyInstanceUid, seriesInstanceUid: '1.2.3.4.5.9', modality: 'SR' } };

function cards(serviceId: string, patientId: string, read: ImagingResult | undefined): Card[] {
  const runtime = testRuntime();
  const call = { hookInstance: 'h', patientId, userId: 'Practitioner/t', now: NOW, unavailable: [] };
  return serviceOf(runtime, serviceId).evaluate(chart(patientId), createEvaluation(runtime, call, read));
}
const text = (cs: Card[]): string => JSON.stringify(cs);

describe('newer of FHIR and DICOM', () => {
  it('compares calendar days; on the same day the DICOM value; a dated input beats an undated one', () => {
    const f = { name: 'x', value: 1, source: 'Observation/a', date: '2026-06-10T23:00:00Z' };
    const d = { name: 'x', value: 2, source: 'dicom:1', date: '2026-06-10T08:00:00' };
    expect(newerInput(f, d)).toBe(d);
    const nextDay = { ...f, date: '2026-06-11' };
    expect(newerInput(nextDay, d)).toBe(nextDay);
    expect(newerInput({ ...f, date: undefined }, d)).toBe(d);
    expect(newerInput(f, { ...d, date: undefined })).toBe(f);
    expect(newerInput(undefined, d)).toBe(d);
    expect(compareDates('2026-06-10', 'garbage')).toBe(1);
  });

  it('a look-back counts whole days back from now; a date-only value stands for its whole day; undated is out', () => {
    const now = new Date('2026-06-10T12:00:00Z');
    const at = (date?: string) => ({ name: 'x', value: 1, source: 'dicom:1', ...(date ? { date } : {}) });
    expect(withinLookback(at('2026-05-11T12:00:00Z'), now, 30)).toBe(true);
    expect(withinLookback(at('2026-05-11T11:59:59Z'), now, 30)).toBe(false);
    expect(withinLookback(at('2026-05-11'), now, 30)).toBe(true);
    expect(withinLookback(at('2026-06-11T00:00:00Z'), now, 30)).toBe(false);
    expect(withinLookback(at(), now, 30)).toBe(false);
  });
});

describe('cmr-ihd-macce with the archive\'s CMR report', () => {
  const markers = (cs: Card[]) => cs.find((c) => c.source.topic?.code === 'cmr-markers')?.detail ?? '';
  it('a newer report wins over the record (FHIR LVEF 52 % 45 days ago), named with its study and link', () => {
    const cs = cards('cmr-ihd-macce', 'demo-chronic-ihd', imaging({ cmr: part({ lvef: dicom('lvef', 40, daysAgo(10), '%') }, { study: STUDY, studiesFound: 2 }), objects }));
    expect(markers(cs)).toContain(`| 40 % | ${daysAgo(10)} | dicom:${SR} |`);
    expect(markers(cs)).toContain('Imaging: CMR TEST (MR) of');
    expect(markers(cs)).toContain('the newest of 2 MR studies');
    expect(cs.flatMap((c) => c.links ?? [])).toContainEqual({ label: 'Open images', url: STUDY.viewerUrl, type: 'absolute' });
  });
  it('an older report loses, and the card says the record\'s results were used', () => {
    const cs = cards('cmr-ihd-macce', 'demo-chronic-ihd', imaging({ cmr: part({ lvef: dicom('lvef', 40, daysAgo(60), '%') }, { study: { ...STUDY, date: daysAgo(60) }, studiesFound: 1 }), objects }));
    expect(markers(cs)).toMatch(/\| 52 % \| [0-9-]+ \| Observation\//);
    expect(text(cs)).not.toContain(`dicom:${SR}`);
    expect(markers(cs)).toContain('The record holds newer results for its measurements, and those were used');
  });
  it('a report outside the markers\' one-year window is not used even without a FHIR value', () => {
    const cs = cards('cmr-ihd-macce', 'demo-chronic-ihd', imaging({ cmr: part({ t2: dicom('t2', 70, daysAgo(400), 'ms') }), objects }));
    expect(text(cs)).not.toContain(`dicom:${SR}`);
  });
});

describe('cmr-cardiac-mass: one study, whole', () => {
  const features = { finding: dicom('finding', true, daysAgo(1)), infiltration: dicom('infiltration', false, daysAgo(1)), sessile: dicom('sessile', true, daysAgo(1)) };
  it('a newer DICOM mass report gives every feature; what it does not state is unknown', () => {
    const cs = cards('cmr-cardiac-mass', 'demo-mass-malignant', imaging({ mass: part(features, { study: { ...STUDY, date: daysAgo(1) }, studiesFound: 1 }), objects }));
    const scoreInputs = (cs[0]?.extension as { scores?: Array<{ inputs: Array<{ name: string; source: string }> }> } | undefined)?.scores?.[0]?.inputs ?? [];
    expect(scoreInputs.length).toBeGreaterThan(0);
    for (const i of scoreInputs) expect(i.source).toBe(`dicom:${SR}`);
    expect(cs[0]?.detail).toContain(`not reported in the DICOM SR of the CMR of ${daysAgo(1)}`);
  });
  it('an older DICOM report leaves the record\'s study untouched', () => {
    const old = Object.fromEntries(Object.entries(features).map(([k, v]) => [k, { ...v, date: daysAgo(200) }]));
    const cs = cards('cmr-cardiac-mass', 'demo-mass-malignant', imaging({ mass: part(old, { study: { ...STUDY, date: daysAgo(200) }, studiesFound: 1 }), objects }));
    expect(text(cs)).not.toContain(`dicom:${SR}`);
    expect(text(cs)).toContain('Observation/demo-mass-malignant');
  });
});

describe('cirrhosis-sarcopenia: the CT part', () => {
  it('no CT with a SEG: the card file\'s words, naming TotalSegmentator', () => {
    const d = text(cards('cirrhosis-sarcopenia', 'demo-cirrhosis-pbc', imaging({ ct: part({}, { absent: 'no-study', missingReasons: { muscleArea: 'code text' } }) })));
    expect(d).toContain('no CT with a skeletal muscle segmentation in the imaging archive');
    expect(d).toContain('TotalSegmentator');
    expect(d).not.toContain('code text');
  });
  it('SEGs that cannot be used: said with the reader\'s reason', () => {
    const d = text(cards('cirrhosis-sarcopenia', 'demo-cirrhosis-pbc', imaging({ ct: part({}, { absent: 'nothing-usable', missingReasons: { muscleArea: 'the SEG has no L3 segment' } }) })));
    expect(d).toContain('the CT segmentations in the imaging archive could not be used (the SEG has no L3 segment)');
  });
  it('an unavailable archive: one line on every card, no "no SEG" claim', () => {
    const cs = cards('cirrhosis-sarcopenia', 'demo-cirrhosis-pbc', imaging({ unavailable: { reason: 'timeout', message: 'x' } }));
    for (const c of cs) expect(c.detail).toContain("Imaging was unavailable for this request: these results use the record's data alone.");
    expect(text(cs)).not.toContain('TotalSegmentator');
  });
  it('no imaging read at all (no archive configured): nothing said about imaging', () => {
    const d = text(cards('cirrhosis-sarcopenia', 'demo-cirrhosis-pbc', undefined));
    expect(d).not.toMatch(/Imaging|TotalSegmentator|imaging archive/);
  });
});
