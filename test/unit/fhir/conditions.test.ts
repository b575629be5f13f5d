// Conditions and Procedures as inputs: verification status, clinical status, onset, windows.
import { fileURLToPath } from 'node:url';
import type { Condition, Procedure } from 'fhir/r4.js';
import { loadTerminology, type Terminology } from '../../../src/fhir/terminology.ts';
import type { ConditionOptions, ProcedureOptions } from '../../../src/fhir/conditions.ts';
import type { ResourceSource } from '../../../src/fhir/observations.ts';
import { createFhirReader } from '../../../src/fhir/reader.ts';
import { createUnitConverter } from '../../../src/fhir/units.ts';

const terminology = loadTerminology([fileURLToPath(new URL('../../fixtures/terminology/', import.meta.url))]);
// The readers as an evaluation has them (fhir/reader.ts), with the terminology each test names.
type Named = { terminology: Terminology };
const reader = (o: Named) => createFhirReader({ terminology: o.terminology, units: createUnitConverter() });
const findConditions = (s: ResourceSource, vs: string, o: ConditionOptions & Named) => reader(o).findConditions(s, vs, o);
const proceduresWithin = (s: ResourceSource, vs: string, o: ProcedureOptions & Named) => reader(o).proceduresWithin(s, vs, o);
const NOW = new Date('2025-03-31T12:00:00Z');
const DAY = 86_400_000;
const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
const SCT = 'http://snomed.info/sct';
const CLIN = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const VER = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';

function cond(id: string, code: string, system: string, extra: Partial<Condition> = {}): Condition {
  return {
    resourceType: 'Condition', id, subject: { reference: 'Patient/p' },
    code: { coding: [{ system, code }] },
    clinicalStatus: { coding: [{ system: CLIN, code: 'active' }] },
    verificationStatus: { coding: [{ system: VER, code: 'confirmed' }] },
    ...extra,
  };
}
const status = (code: string) => ({ coding: [{ system: CLIN, code }] });
const ver = (code: string) => ({ coding: [{ system: VER, code }] });

describe('findConditions', () => {
  it('finds matching conditions with status, onset, severity and provenance', () => {
    const stemi = cond('c1', 'I21.09', ICD, { onsetDateTime: '2025-03-20', severity: { coding: [{ system: SCT, code: '24484000', display: 'Severe' }] } });
    const other = cond('c2', 'K74.60', ICD);
    const r = findConditions([stemi, other, { resourceType: 'Patient', id: 'p' }], 'acute-mi', { now: NOW, terminology });
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({
      source: 'Condition/c1', clinicalStatus: 'active', verificationStatus: 'confirmed', active: true,
      onset: '2025-03-20', onsetDaysAgo: 11, severity: { code: '24484000' },
    });
    expect(r[0]!.resource).toBe(stemi);
  });

  it('excludes refuted and entered-in-error, keeps provisional with its status', () => {
    const list = [
      cond('a', '57054005', SCT, { verificationStatus: ver('refuted') }),
      cond('b', '57054005', SCT, { verificationStatus: ver('entered-in-error'), clinicalStatus: undefined }),
      cond('c', '57054005', SCT, { verificationStatus: ver('provisional') }),
    ];
    const r = findConditions(list, 'acute-mi', { now: NOW, terminology });
    expect(r.map((m) => [m.source, m.verificationStatus])).toEqual([['Condition/c', 'provisional']]);
  });

  it('reports resolved/inactive ones as not active, and infers from abatement without clinicalStatus', () => {
    const list = [
      cond('r', 'I21.4', ICD, { clinicalStatus: status('resolved'), onsetDateTime: '2020-01-01' }),
      cond('x', 'I21.4', ICD, { clinicalStatus: status('recurrence'), onsetDateTime: '2024-01-01' }),
      cond('n', 'I21.4', ICD, { clinicalStatus: undefined, onsetDateTime: '2023-01-01' }),
      cond('m', 'I21.4', ICD, { clinicalStatus: undefined, abatementDateTime: '2023-06-01', onsetDateTime: '2022-01-01' }),
    ];
    const r = findConditions(list, 'acute-mi', { now: NOW, terminology });
    expect(r.map((m) => [m.source, m.active])).toEqual([
      ['Condition/x', true], ['Condition/n', true], ['Condition/m', false], ['Condition/r', false],
    ]);
    expect(r[2]!.abatement).toBe('2023-06-01');
  });

  it('sorts by onset (newest first), unknown onset last, and uses onsetPeriod.start', () => {
    const list = [
      cond('u', 'I21.4', ICD),
      cond('p', 'I21.4', ICD, { onsetPeriod: { start: '2025-01-01' } }),
      cond('d', 'I21.4', ICD, { onsetDateTime: '2024-01-01T10:00:00Z' }),
    ];
    expect(findConditions(list, 'acute-mi', { now: NOW, terminology }).map((m) => m.source)).toEqual(['Condition/p', 'Condition/d', 'Condition/u']);
  });

  it('matches through ConceptMap and referenced ValueSets', () => {
    const site = cond('s', 'LOCAL-STEMI', 'urn:oid:1.2.3.4.5.site-dx');
    expect(findConditions([site], 'mi-any', { now: NOW, terminology })).toHaveLength(1);
  });
});

describe('proceduresWithin', () => {
  const proc = (id: string, extra: Partial<Procedure>): Procedure => ({
    resourceType: 'Procedure', id, status: 'completed', subject: { reference: 'Patient/p' },
    code: { coding: [{ system: SCT, code: '302497006' }] }, ...extra,
  });
  const iso = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

  it('returns completed procedures in the window, newest first, with the boundary inclusive', () => {
    const list = [
      proc('a', { performedDateTime: iso(2 * DAY) }),
      proc('b', { performedDateTime: iso(7 * DAY) }),
      proc('c', { performedDateTime: iso(7 * DAY + 1) }),
      proc('d', { performedDateTime: iso(1 * DAY), code: { coding: [{ system: SCT, code: '1' }] } }),
    ];
    expect(proceduresWithin(list, 'dialysis', { now: NOW, days: 7, terminology }).map((p) => p.source)).toEqual(['Procedure/a', 'Procedure/b']);
  });

  it('ignores not-done, entered-in-error, stopped, preparation', () => {
    const list = (['not-done', 'entered-in-error', 'stopped', 'preparation', 'on-hold', 'unknown'] as const).map((s, i) =>
      proc(`x${i}`, { status: s, performedDateTime: iso(DAY) }),
    );
    expect(proceduresWithin(list, 'dialysis', { now: NOW, days: 7, terminology })).toEqual([]);
  });

  it('counts a period overlapping the window, and an in-progress run', () => {
    const list = [
      proc('long', { performedPeriod: { start: iso(10 * DAY), end: iso(6 * DAY) } }),
      proc('old', { performedPeriod: { start: iso(10 * DAY), end: iso(8 * DAY) } }),
      proc('running', { status: 'in-progress', performedPeriod: { start: iso(20 * DAY) } }),
      proc('future', { performedDateTime: new Date(NOW.getTime() + DAY).toISOString() }),
    ];
    const r = proceduresWithin(list, 'dialysis', { now: NOW, days: 7, terminology });
    expect(r.map((p) => p.source)).toEqual(['Procedure/long', 'Procedure/running']);
    expect(r[0]).toMatchObject({ status: 'completed', date: iso(10 * DAY), end: iso(6 * DAY) });
  });
});
