// Only the context patient's data is scored (issue 11, item 2): which references resolve to the
// context patient, and what happens to a key when nothing of the patient's is left.
import type { FhirResource } from 'fhir/r4.js';
import { droppedCount, keepPatientData } from '../../../src/hooks/patient-scope.ts';

const BASE = 'https://ehr.example/fhir';
const scope = { patientId: 'pat-1', bases: [BASE, 'https://ehr.example/other-tenant/fhir/'] };
const obs = (subject: unknown, extra: Record<string, unknown> = {}): FhirResource =>
  ({ resourceType: 'Observation', id: `o-${JSON.stringify(subject).length}`, status: 'final', code: { text: 'x' }, subject, ...extra }) as FhirResource;
const kept = (r: FhirResource): boolean => (keepPatientData({ k: [r] }, scope).data.k as FhirResource[] | null)?.length === 1;

describe('keepPatientData: which references are the context patient', () => {
  test.each([
    ['relative', { reference: 'Patient/pat-1' }],
    ['relative with a version', { reference: 'Patient/pat-1/_history/3' }],
    ['with type Patient', { reference: 'Patient/pat-1', type: 'Patient' }],
    ['absolute under the request base', { reference: `${BASE}/Patient/pat-1` }],
    ['absolute under another allowed base, versioned', { reference: 'https://ehr.example/other-tenant/fhir/Patient/pat-1/_history/1' }],
    ['absolute, host in capitals', { reference: 'https://EHR.example/fhir/Patient/pat-1' }],
  ])('keeps %s', (_name, subject) => {
    expect(kept(obs(subject))).toBe(true);
  });

  test.each([
    ['another patient', { reference: 'Patient/pat-2' }],
    ['a prefix of the id', { reference: 'Patient/pat-10' }],
    ['another case', { reference: 'Patient/PAT-1' }],
    ['another patient, versioned', { reference: 'Patient/pat-2/_history/1' }],
    ['absolute on another server', { reference: 'https://elsewhere.example/fhir/Patient/pat-1' }],
    ['absolute on a path beside the base', { reference: 'https://ehr.example/fhir-evil/Patient/pat-1' }],
    ['absolute over another scheme', { reference: 'http://ehr.example/fhir/Patient/pat-1' }],
    ['a relative path with a prefix', { reference: 'fhir/Patient/pat-1' }],
    ['contained', { reference: '#pat-1' }],
    ['bundle-local', { reference: 'urn:uuid:7f0b3c1e-4d5a-4c8e-9a7b-1e2d3c4b5a69' }],
    ['conditional', { reference: 'Patient?identifier=http://hospital.example|123' }],
    ['identifier only', { identifier: { system: 'http://hospital.example', value: 'pat-1' } }],
    ['display only', { display: 'Pat One' }],
    ['a Group', { reference: 'Group/pat-1' }],
    ['type says Group', { reference: 'Patient/pat-1', type: 'Group' }],
    ['a string', 'Patient/pat-1'],
    ['null', null],
    ['an array', [{ reference: 'Patient/pat-1' }]],
    ['a query after the id', { reference: 'Patient/pat-1?x=1' }],
  ])('drops %s', (_name, subject) => {
    expect(kept(obs(subject))).toBe(false);
  });

  test('a resource without subject or patient cannot be shown to be this patient\'s', () => {
    expect(kept({ resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' } } as FhirResource)).toBe(false);
    expect(kept({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: obs({ reference: 'Patient/pat-1' }) }] } as FhirResource)).toBe(false);
  });

  test('subject and patient must both be this patient when both are given', () => {
    expect(kept(obs({ reference: 'Patient/pat-1' }, { patient: { reference: 'Patient/pat-1' } }))).toBe(true);
    expect(kept(obs({ reference: 'Patient/pat-1' }, { patient: { reference: 'Patient/pat-2' } }))).toBe(false);
    expect(kept({ resourceType: 'AllergyIntolerance', id: 'a', patient: { reference: 'Patient/pat-1' } } as FhirResource)).toBe(true);
  });

  test('an Observation about someone else of record (focus: a fetus, a donor) is not this patient\'s', () => {
    expect(kept(obs({ reference: 'Patient/pat-1' }, { focus: [{ reference: 'Patient/pat-1' }] }))).toBe(true);
    expect(kept(obs({ reference: 'Patient/pat-1' }, { focus: [{ reference: 'Patient/fetus-1' }] }))).toBe(false);
    expect(kept(obs({ reference: 'Patient/pat-1' }, { focus: [{ display: 'donor' }] }))).toBe(false);
  });

  test('a Patient is this patient by its id only', () => {
    const data = keepPatientData({ a: { resourceType: 'Patient', id: 'pat-1' }, b: { resourceType: 'Patient', id: 'pat-2' }, c: { resourceType: 'Patient' } as FhirResource }, scope);
    expect(data.data).toEqual({ a: { resourceType: 'Patient', id: 'pat-1' }, b: null, c: null });
    expect(data.emptied).toEqual(['b', 'c']);
  });
});

describe('keepPatientData: keys, counts', () => {
  const mine = obs({ reference: 'Patient/pat-1' });
  const theirs = (n: number): FhirResource[] => Array.from({ length: n }, (_, i) => ({ ...obs({ reference: 'Patient/pat-2' }), id: `t${i}` }) as FhirResource);

  test('keeps the patient\'s resources of a key and counts the others by type', () => {
    const cond = { resourceType: 'Condition', id: 'c', subject: { reference: 'Patient/pat-2' } } as FhirResource;
    const r = keepPatientData({ obs: [mine, ...theirs(3)], cond: [cond], none: [], nothing: null }, scope);
    expect(r.data.obs).toEqual([mine]);
    expect(r.data.none).toEqual([]); // no data stays no data
    expect(r.data.nothing).toBeNull();
    expect(r.data.cond).toBeNull(); // had data, none of it this patient's: unavailable, not "none"
    expect(r.emptied).toEqual(['cond']);
    expect(Object.fromEntries(r.dropped)).toEqual({ Observation: 3, Condition: 1 });
    expect(droppedCount(r)).toBe(4);
  });

  test('types outside the metric\'s set, and garbage entries, count as "other" (bounded label values)', () => {
    const r = keepPatientData({ k: [mine, { resourceType: 'Zzz<script>', id: 'x' } as unknown as FhirResource, null as unknown as FhirResource, 'junk' as unknown as FhirResource] }, scope);
    expect(r.data.k).toEqual([mine]);
    expect(Object.fromEntries(r.dropped)).toEqual({ other: 3 });
  });

  test('nothing dropped: the same data, no counts', () => {
    const data = { obs: [mine], patient: { resourceType: 'Patient', id: 'pat-1' } as FhirResource };
    const r = keepPatientData(data, scope);
    expect(r.data).toEqual(data);
    expect(droppedCount(r)).toBe(0);
    expect(r.emptied).toEqual([]);
  });

  test('a resource without a valid id cannot be cited as a source: dropped, counted apart', () => {
    const noId = { ...mine } as Record<string, unknown>;
    delete noId.id;
    const r = keepPatientData({ k: [mine, noId as unknown as FhirResource, { ...mine, id: 'x y' } as FhirResource, { ...mine, id: 7 } as unknown as FhirResource], p: { resourceType: 'Patient', id: 'pat-1' } as FhirResource }, scope);
    expect(r.data.k).toEqual([mine]);
    expect(r.unidentified).toBe(3);
    expect(droppedCount(r)).toBe(0); // not known to be another patient's: no notice, no metric
    const bad = keepPatientData({ p: { resourceType: 'Patient', id: 'a b' } as FhirResource }, { patientId: 'a b', bases: [] });
    expect(bad.data.p).toBeNull();
    expect(bad.emptied).toEqual(['p']);
  });

  test('a context patient id that is not a FHIR id matches nothing', () => {
    const r = keepPatientData({ k: [obs({ reference: 'Patient/a b' })] }, { patientId: 'a b', bases: [] });
    expect(r.data.k).toBeNull();
  });
});
