// Input extraction from Observations: look-back, status, units, components, dataAbsentReason, ties.
import { fileURLToPath } from 'node:url';
import type { Bundle, Observation, OperationOutcome } from 'fhir/r4.js';
import { loadTerminology, type Terminology } from '../../../src/fhir/terminology.ts';
import {
  inWindow,
  parseFhirDate,
  resourcesOf as flatten,
  type CodeOptions,
  type IntegerOptions,
  type LatestOptions,
  type Lookup,
  type QuantityOptions,
  type ResourceSource,
} from '../../../src/fhir/observations.ts';
import { createFhirReader, type FhirReader } from '../../../src/fhir/reader.ts';
import { createUnitConverter } from '../../../src/fhir/units.ts';
import type { InputValue } from '../../../src/models/types.ts';
import { INTEGER_UNITS, QUANTITIES } from '../../../src/fhir/quantities.ts';

const terminology = loadTerminology([fileURLToPath(new URL('../../fixtures/terminology/', import.meta.url))]);
const units = createUnitConverter();

// The pickers as an evaluation has them (fhir/reader.ts), with the terminology each test names. Outside
// an evaluation (withEvaluationCache below) each call gets a reader of its own: nothing is cached.
type Named = { terminology: Terminology };
let scope: FhirReader | undefined;
const reader = (o: Named): FhirReader => scope ?? createFhirReader({ terminology: o.terminology, units });
const latestQuantity = (s: ResourceSource, o: QuantityOptions & Named): Lookup<number> => reader(o).latestQuantity(s, o);
const latestBoolean = (s: ResourceSource, o: LatestOptions & Named): Lookup<boolean> => reader(o).latestBoolean(s, o);
const latestInteger = (s: ResourceSource, o: IntegerOptions & Named): Lookup<number> => reader(o).latestInteger(s, o);
const latestCode = (s: ResourceSource, o: CodeOptions & Named): Lookup<string> => reader(o).latestCode(s, o);
const resourcesOf = (s: ResourceSource) => (scope ? scope.resourcesOf(s) : flatten(s));
/** One evaluation: one reader, whose views live until the evaluation ends (also by a throw). */
function withEvaluationCache<T>(fn: () => T): T {
  if (scope) return fn();
  scope = createFhirReader({ terminology, units });
  try {
    return fn();
  } finally {
    scope = undefined;
  }
}
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const PROJ = 'https://fhir.imaging-cds.example.org/CodeSystem/imaging-cds';
const NOW = new Date('2025-03-31T12:00:00Z');
const DAY = 86_400_000;
const iso = (msBeforeNow: number) => new Date(NOW.getTime() - msBeforeNow).toISOString();

let seq = 0;
function obs(code: string, value: Partial<Observation> & { v?: number; unit?: string }, extra: Partial<Observation> = {}): Observation {
  const { v, unit, ...rest } = value;
  const o: Observation = {
    resourceType: 'Observation',
    id: `o${++seq}`,
    status: 'final',
    code: { coding: [{ system: LOINC, code }] },
    effectiveDateTime: iso(DAY),
    ...rest,
    ...extra,
  };
  if (v !== undefined) o.valueQuantity = { value: v, ...(unit !== undefined ? { unit, system: UCUM, code: unit } : {}) };
  return o;
}

function found<V extends InputValue>(r: Lookup<V>) {
  if (!r.found) throw new Error(`expected a value, got: ${r.reason}`);
  return r;
}
function missing<V extends InputValue>(r: Lookup<V>) {
  if (r.found) throw new Error(`expected missing, got ${String(r.input.value)}`);
  return r;
}

const creat = { valueSet: 'creatinine', name: 'creatinine', quantity: QUANTITIES.creatinine, now: NOW, lookbackDays: 30, terminology };
const bili = { valueSet: 'bilirubin', name: 'bilirubin', quantity: QUANTITIES.bilirubin, now: NOW, lookbackDays: 30, terminology };

describe('latestQuantity: selection', () => {
  it('returns the most recent value within the look-back with provenance', () => {
    const older = obs('2160-0', { v: 1.1, unit: 'mg/dL', effectiveDateTime: iso(10 * DAY) });
    const newer = obs('2160-0', { v: 1.4, unit: 'mg/dL', effectiveDateTime: iso(2 * DAY) });
    const r = found(latestQuantity([older, newer, obs('1975-2', { v: 9, unit: 'mg/dL' })], creat));
    expect(r.input).toEqual({ name: 'creatinine', value: 1.4, unit: 'mg/dL', date: newer.effectiveDateTime, source: `Observation/${newer.id}` });
    expect(r.resource).toBe(newer);
  });

  it('includes a value exactly lookbackDays old and excludes one 1 ms older', () => {
    const edge = obs('2160-0', { v: 1.2, unit: 'mg/dL', effectiveDateTime: iso(30 * DAY) });
    expect(found(latestQuantity([edge], creat)).input.value).toBe(1.2);
    const past = obs('2160-0', { v: 1.2, unit: 'mg/dL', effectiveDateTime: iso(30 * DAY + 1) });
    const r = missing(latestQuantity([past], creat));
    expect(r.name).toBe('creatinine');
    expect(r.reason).toBe(`no result within 30 days (latest ${past.effectiveDateTime})`);
  });

  it('counts a date-only value when its day overlaps the window', () => {
    // 30 days before NOW is 2025-03-01T12:00Z: the day 2025-03-01 overlaps, 2025-02-28 does not.
    expect(found(latestQuantity([obs('2160-0', { v: 1, unit: 'mg/dL', effectiveDateTime: '2025-03-01' })], creat)).input.date).toBe('2025-03-01');
    missing(latestQuantity([obs('2160-0', { v: 1, unit: 'mg/dL', effectiveDateTime: '2025-02-28' })], creat));
  });

  it('ignores future-dated results beyond clock skew', () => {
    const future = obs('2160-0', { v: 2, unit: 'mg/dL', effectiveDateTime: new Date(NOW.getTime() + 3600_000).toISOString() });
    const skew = obs('2160-0', { v: 3, unit: 'mg/dL', effectiveDateTime: new Date(NOW.getTime() + 60_000).toISOString() });
    expect(found(latestQuantity([future, skew], creat)).input.value).toBe(3);
    expect(missing(latestQuantity([future], creat)).reason).toMatch(/1 future-dated/);
  });

  it('uses effectivePeriod.end, then .start, effectiveInstant, then issued', () => {
    const period = obs('2160-0', { v: 1, unit: 'mg/dL', effectiveDateTime: undefined, effectivePeriod: { start: iso(5 * DAY), end: iso(1 * DAY) } });
    const start = obs('2160-0', { v: 2, unit: 'mg/dL', effectiveDateTime: undefined, effectivePeriod: { start: iso(3 * DAY) } });
    expect(found(latestQuantity([period, start], creat)).input.value).toBe(1);
    const instant = obs('2160-0', { v: 3, unit: 'mg/dL', effectiveDateTime: undefined, effectiveInstant: iso(DAY / 2) });
    expect(found(latestQuantity([period, instant], creat)).input.value).toBe(3);
    const issued = obs('2160-0', { v: 4, unit: 'mg/dL', effectiveDateTime: undefined, issued: iso(DAY / 4) });
    expect(found(latestQuantity([instant, issued], creat)).input).toMatchObject({ value: 4, date: issued.issued });
    const undated = obs('2160-0', { v: 5, unit: 'mg/dL', effectiveDateTime: undefined });
    expect(missing(latestQuantity([undated], creat)).reason).toMatch(/1 result\(s\) without a date/);
  });

  it('accepts final, amended, corrected; ignores preliminary, entered-in-error, cancelled', () => {
    for (const status of ['final', 'amended', 'corrected'] as const) {
      expect(found(latestQuantity([obs('2160-0', { v: 1, unit: 'mg/dL', status })], creat)).input.value).toBe(1);
    }
    const newerBad = ['preliminary', 'entered-in-error', 'cancelled', 'registered', 'unknown'].map((status) =>
      obs('2160-0', { v: 9, unit: 'mg/dL', status: status as Observation['status'], effectiveDateTime: iso(1000) }),
    );
    const good = obs('2160-0', { v: 1.3, unit: 'mg/dL', effectiveDateTime: iso(5 * DAY) });
    expect(found(latestQuantity([...newerBad, good], creat)).input.value).toBe(1.3);
    const r = missing(latestQuantity(newerBad, creat));
    expect(r.reason).toContain('no usable result within 30 days');
    // In words, not FHIR status codes (issue 10, item 9).
    expect(r.reason).toContain('1 preliminary result(s) ignored (not final)');
    expect(r.reason).toContain('1 result(s) entered in error');
    expect(r.reason).toContain('1 cancelled result(s)');
    expect(r.reason).toContain('1 result(s) registered without a value yet');
    expect(r.reason).toContain('1 result(s) of unknown status');
  });

  it('skips dataAbsentReason', () => {
    const absent = obs('2160-0', { dataAbsentReason: { coding: [{ code: 'not-performed' }] }, effectiveDateTime: iso(1000) });
    const good = obs('2160-0', { v: 0.9, unit: 'mg/dL', effectiveDateTime: iso(3 * DAY) });
    expect(found(latestQuantity([absent, good], creat)).input.value).toBe(0.9);
    expect(missing(latestQuantity([absent], creat)).reason).toMatch(/data-absent reason/);
  });

  it('reads components (systolic 8480-6 inside a BP panel 85354-9)', () => {
    const panel: Observation = {
      resourceType: 'Observation', id: 'bp1', status: 'final', effectiveDateTime: iso(DAY),
      code: { coding: [{ system: LOINC, code: '85354-9' }] },
      component: [
        { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 118, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
        { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: 76, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
      ],
    };
    const r = found(latestQuantity([panel], { valueSet: 'systolic-bp', name: 'sbp', quantity: QUANTITIES.systolicBp, now: NOW, lookbackDays: 1, terminology }));
    expect(r.input).toEqual({ name: 'sbp', value: 118, unit: 'mm[Hg]', date: panel.effectiveDateTime, source: 'Observation/bp1' });
    // a component's own dataAbsentReason
    const noSys = { ...panel, id: 'bp2', component: [{ code: panel.component![0]!.code, dataAbsentReason: { text: 'x' } }] };
    missing(latestQuantity([noSys], { valueSet: 'systolic-bp', name: 'sbp', quantity: QUANTITIES.systolicBp, now: NOW, lookbackDays: 1, terminology }));
  });

  it('breaks ties deterministically: corrected/amended, then later issued, then lastUpdated, then id', () => {
    const at = iso(DAY);
    const a = obs('2160-0', { id: 'b', v: 1.0, unit: 'mg/dL', effectiveDateTime: at });
    const b = obs('2160-0', { id: 'a', v: 2.0, unit: 'mg/dL', effectiveDateTime: at, status: 'corrected' });
    expect(found(latestQuantity([a, b], creat)).input.value).toBe(2);
    expect(found(latestQuantity([b, a], creat)).input.value).toBe(2);
    const c = obs('2160-0', { id: 'c', v: 3.0, unit: 'mg/dL', effectiveDateTime: at, issued: iso(1000) });
    const d = obs('2160-0', { id: 'd', v: 4.0, unit: 'mg/dL', effectiveDateTime: at, issued: iso(2000) });
    expect(found(latestQuantity([d, c], creat)).input.value).toBe(3);
    const e = obs('2160-0', { id: 'e', v: 5.0, unit: 'mg/dL', effectiveDateTime: at, meta: { lastUpdated: iso(10) } });
    const f = obs('2160-0', { id: 'f', v: 6.0, unit: 'mg/dL', effectiveDateTime: at, meta: { lastUpdated: iso(20) } });
    expect(found(latestQuantity([f, e], creat)).input.value).toBe(5);
    const g = obs('2160-0', { id: 'g', v: 7.0, unit: 'mg/dL', effectiveDateTime: at });
    const h = obs('2160-0', { id: 'h', v: 8.0, unit: 'mg/dL', effectiveDateTime: at });
    expect(found(latestQuantity([h, g], creat)).input.value).toBe(7);
    expect(found(latestQuantity([g, h], creat)).input.value).toBe(7);
  });

  it('accepts a Bundle, nested lists, nulls, and ignores other resource types and outcome entries', () => {
    const o = obs('2160-0', { v: 1.5, unit: 'mg/dL' });
    const bundle: Bundle = {
      resourceType: 'Bundle', type: 'searchset',
      entry: [{ resource: { resourceType: 'OperationOutcome', issue: [] } as OperationOutcome, search: { mode: 'outcome' } }, { resource: o }, { resource: { resourceType: 'Patient', id: 'p' } }],
    };
    expect(found(latestQuantity(bundle, creat)).input.value).toBe(1.5);
    expect(found(latestQuantity([null, undefined, bundle], creat)).input.value).toBe(1.5);
    expect(resourcesOf([bundle, null]).map((r) => r.resourceType)).toEqual(['Observation', 'Patient']);
    expect(missing(latestQuantity(null, creat)).reason).toBe('no result in the record');
  });

  it('caches the flattened resources for one evaluation only', () => {
    const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: obs('2160-0', { v: 1.5, unit: 'mg/dL' }) }] };
    // Outside a scope nothing is kept: each call builds its own list.
    expect(resourcesOf(bundle)).not.toBe(resourcesOf(bundle));
    const inside = withEvaluationCache(() => {
      const first = resourcesOf(bundle);
      expect(resourcesOf(bundle)).toBe(first);
      expect(withEvaluationCache(() => resourcesOf(bundle))).toBe(first); // nested: the same scope
      return first;
    });
    // A new evaluation does not see the last one's views, also after a throw.
    expect(withEvaluationCache(() => resourcesOf(bundle))).not.toBe(inside);
    expect(() => withEvaluationCache(() => { resourcesOf(bundle); throw new Error('boom'); })).toThrow('boom');
    expect(resourcesOf(bundle)).not.toBe(resourcesOf(bundle));
  });

  it('matches site codes through the ConceptMap', () => {
    const site = obs('x', { v: 97, unit: 'umol/L' }, { code: { coding: [{ system: 'urn:oid:1.2.3.4.5.site-lab', code: 'CREA' }] } });
    expect(found(latestQuantity([site], creat)).input.value).toBeCloseTo(97 / 88.42, 10);
  });
});

describe('latestQuantity: units', () => {
  it('converts creatinine µmol/L → mg/dL (÷ 88.42) and keeps the original', () => {
    const o = obs('2160-0', {}, { valueQuantity: { value: 176.84, unit: 'µmol/L' } });
    expect(found(latestQuantity([o], creat)).input).toMatchObject({ value: 2, unit: 'mg/dL', original: { value: 176.84, unit: 'µmol/L' } });
  });

  it('converts bilirubin µmol/L → mg/dL (÷ 17.1) exactly at band edges', () => {
    const o = obs('1975-2', { v: 34.2, unit: 'umol/L' });
    expect(found(latestQuantity([o], bili)).input).toMatchObject({ value: 2, unit: 'mg/dL', original: { value: 34.2, unit: 'umol/L' } });
  });

  it('reads sodium in mEq/L as mmol/L', () => {
    const o = obs('2951-2', {}, { valueQuantity: { value: 131, unit: 'mEq/L' } });
    const r = found(latestQuantity([o], { valueSet: 'sodium', name: 'sodium', quantity: QUANTITIES.sodium, now: NOW, lookbackDays: 30, terminology }));
    expect(r.input).toMatchObject({ value: 131, unit: 'mmol/L', original: { value: 131, unit: 'mEq/L' } });
  });

  it('converts albumin g/L → g/dL', () => {
    const o = obs('1751-7', { v: 28, unit: 'g/L' });
    const r = found(latestQuantity([o], { valueSet: 'albumin', name: 'albumin', quantity: QUANTITIES.albumin, now: NOW, lookbackDays: 30, terminology }));
    expect(r.input).toMatchObject({ value: 2.8, unit: 'g/dL', original: { value: 28, unit: 'g/L' } });
  });

  it('converts height in [in_i] → m', () => {
    const o = obs('8302-2', { v: 70, unit: '[in_i]' });
    const r = found(latestQuantity([o], { valueSet: 'height', name: 'height', quantity: QUANTITIES.height, now: NOW, lookbackDays: 365, terminology }));
    expect(r.input).toMatchObject({ value: 1.778, unit: 'm', original: { value: 70, unit: '[in_i]' } });
  });

  it('prefers the UCUM code over the display unit, and uses the display unit for non-UCUM systems', () => {
    const a = obs('2160-0', {}, { valueQuantity: { value: 88.42, unit: 'micromoles per litre', system: UCUM, code: 'umol/L' } });
    expect(found(latestQuantity([a], creat)).input.value).toBe(1);
    const b = obs('2160-0', {}, { valueQuantity: { value: 88.42, unit: 'µmol/L', system: 'urn:lab-units', code: 'UMOLL' } });
    expect(found(latestQuantity([b], creat)).input.value).toBe(1);
  });

  it('does not record an original when nothing was converted', () => {
    const o = obs('2160-0', { v: 1.1, unit: 'mg/dL' });
    expect(found(latestQuantity([o], creat)).input.original).toBeUndefined();
  });

  it('skips a missing or unconvertible unit, falls back to an older usable value, and says why', () => {
    const noUnit = obs('2160-0', {}, { valueQuantity: { value: 1.2 }, effectiveDateTime: iso(1000) });
    const bad = obs('2160-0', { v: 1.2, unit: 'mmol/h', effectiveDateTime: iso(2000) });
    const ok = obs('2160-0', { v: 1.0, unit: 'mg/dL', effectiveDateTime: iso(20 * DAY) });
    expect(found(latestQuantity([noUnit, bad, ok], creat)).input.value).toBe(1);
    const r = missing(latestQuantity([noUnit, bad], creat));
    expect(r.reason).toContain('1 result(s) without a unit');
    expect(r.reason).toContain("1 result(s) in 'mmol/h', which is not a unit of a creatinine concentration");
  });

  it('never converts mole ↔ mass without an analyte', () => {
    const o = obs('2160-0', { v: 88.42, unit: 'umol/L' });
    missing(latestQuantity([o], { ...creat, quantity: { ...QUANTITIES.creatinine, analyte: undefined } }));
  });

  it('treats INR with {INR}, {ratio}, 1 or no unit as unitless', () => {
    const opts = { valueSet: 'inr', name: 'inr', quantity: QUANTITIES.inr, now: NOW, lookbackDays: 30, terminology };
    for (const unit of ['{INR}', '{ratio}', '1', undefined]) {
      const o = obs('34714-6', {}, { valueQuantity: unit ? { value: 1.7, unit } : { value: 1.7 } });
      const r = found(latestQuantity([o], opts));
      expect(r.input).toMatchObject({ value: 1.7, unit: '1' });
      expect(r.input.original).toBeUndefined();
    }
  });

  it('skips values with a comparator (not a number)', () => {
    const o = obs('1975-2', {}, { valueQuantity: { value: 0.2, comparator: '<', unit: 'mg/dL' } });
    expect(missing(latestQuantity([o], bili)).reason).toContain("reported as a limit ('< 0.2')");
  });
});

describe('latestQuantity: a unit that converts but means another quantity is not the input (issue 10)', () => {
  const inr = { valueSet: 'inr', name: 'inr', quantity: QUANTITIES.inr, now: NOW, lookbackDays: 30, terminology };
  // The fixture terminology has few project codes: 'infarct-size' (ValueSet project-all) stands for any
  // project-coded quantity here; what matters is the quantity the picker is told to read.
  const proj = (_code: string, v: number, unit: string, code = 'infarct-size'): Observation => ({
    resourceType: 'Observation', id: `q${++seq}`, status: 'final', effectiveDateTime: iso(DAY),
    code: { coding: [{ system: PROJ, code }] }, valueQuantity: { value: v, unit, system: UCUM, code: unit },
  });

  it('never reads a prothrombin activity (Quick %) as an INR, and says so in words', () => {
    // UCUM converts 30 % to 0.3: the old picker returned INR 0.3 (floored to 1.0 by the models).
    const r = missing(latestQuantity([obs('6301-6', { v: 30, unit: '%' })], inr));
    expect(r.reason).toBe("no usable result within 30 days; 1 result(s) in '%': prothrombin activity (Quick), not an INR");
    // An older INR in a ratio unit is then used instead of the newer Quick.
    const older = obs('6301-6', { v: 1.4, unit: '{INR}', effectiveDateTime: iso(5 * DAY) });
    expect(found(latestQuantity([obs('6301-6', { v: 30, unit: '%' }), older], inr)).input.value).toBe(1.4);
  });

  it('accepts only 1, {INR}, {ratio} or no unit for an INR: a prothrombin time in s or an arbitrary annotation is not one', () => {
    expect(missing(latestQuantity([obs('6301-6', { v: 14, unit: 's' })], inr)).reason).toContain('a prothrombin time in seconds, not an INR');
    expect(missing(latestQuantity([obs('6301-6', { v: 1.4, unit: '{score}' })], inr)).reason).toContain("in '{score}', which is not a unit of an INR");
  });

  it('never reads an albumin share of total protein (%) as a concentration', () => {
    const r = missing(latestQuantity([obs('1751-7', { v: 55, unit: '%' })], { valueSet: 'albumin', name: 'albumin', quantity: QUANTITIES.albumin, now: NOW, lookbackDays: 30, terminology }));
    expect(r.reason).toContain('a fraction of total protein (electrophoresis), not an albumin concentration');
  });

  it('reads an SMI only in cm2/m2: UCUM would turn 45 % into 4500 cm2/m2', () => {
    const opts = { valueSet: 'project-all', name: 'smi', quantity: QUANTITIES.smi, now: NOW, lookbackDays: 30, terminology };
    expect(found(latestQuantity([proj('l3-smi', 45, 'cm2/m2')], opts)).input.value).toBe(45);
    for (const unit of ['%', '1', '{ratio}']) expect(missing(latestQuantity([proj('l3-smi', 45, unit)], opts)).reason).toContain('which is not a unit of a skeletal muscle index');
  });

  it('reads an LVEF in % or as a fraction (1), and refuses a percentage recorded with unit 1 (3500 %)', () => {
    const opts = { valueSet: 'lvef', name: 'lvef', quantity: QUANTITIES.lvef, now: NOW, lookbackDays: 30, terminology };
    expect(found(latestQuantity([obs('10230-1', { v: 35, unit: '%' })], opts)).input.value).toBe(35);
    expect(found(latestQuantity([obs('10230-1', { v: 0.35, unit: '1' })], opts)).input).toMatchObject({ value: 35, unit: '%', original: { value: 0.35, unit: '1' } });
    expect(missing(latestQuantity([obs('10230-1', { v: 35, unit: '1' })], opts)).reason).toContain('outside 0–100 % once converted');
    expect(missing(latestQuantity([obs('10230-1', {}, { valueQuantity: { value: 35 } })], opts)).reason).toContain('without a unit');
  });

  it('reads strain only in %, and a T1 in s as ms (the same quantity, converted exactly)', () => {
    const strain = { valueSet: 'project-all', name: 'laReservoirStrain', quantity: QUANTITIES.laReservoirStrain, now: NOW, lookbackDays: 30, terminology };
    expect(missing(latestQuantity([proj('la-reservoir-strain', 0.18, '1')], strain)).reason).toContain('which is not a unit of a strain in %');
    const t1 = { valueSet: 'project-all', name: 'nativeT1', quantity: QUANTITIES.nativeT1, now: NOW, lookbackDays: 30, terminology };
    expect(found(latestQuantity([proj('native-t1', 1.012, 's')], t1)).input.value).toBe(1012);
    expect(missing(latestQuantity([proj('native-t1', 1, '/s')], t1)).reason).toContain('which is not a unit of a T1 relaxation time');
  });

  it('reads an integer grade only without a unit or in 1', () => {
    const opts = { valueSet: 'project-all', name: 'killipClass', units: INTEGER_UNITS.grade, now: NOW, lookbackDays: 30, terminology };
    expect(found(latestInteger([proj('killip-class', 2, '1')], opts)).input.value).toBe(2);
    missing(latestInteger([proj('killip-class', 2, '{segments}')], opts));
    missing(latestInteger([proj('killip-class', 2, '%')], opts));
  });
});

describe('latestBoolean / latestInteger / latestCode', () => {
  const base = { now: NOW, lookbackDays: 365, terminology };
  const proj = (code: string, extra: Partial<Observation>): Observation => ({
    resourceType: 'Observation', id: `p${++seq}`, status: 'final', effectiveDateTime: iso(DAY), code: { coding: [{ system: PROJ, code }] }, ...extra,
  });

  it('latestBoolean reads valueBoolean and coded yes/no', () => {
    expect(found(latestBoolean([proj('mvo-present', { valueBoolean: true })], { ...base, valueSet: 'mvo-present', name: 'mvo' })).input).toMatchObject({ name: 'mvo', value: true });
    const coded = proj('mvo-present', { valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '373067005' }] } });
    expect(found(latestBoolean([coded], { ...base, valueSet: 'mvo-present', name: 'mvo' })).input.value).toBe(false);
    const junk = proj('mvo-present', { valueString: 'yes' });
    expect(missing(latestBoolean([junk], { ...base, valueSet: 'mvo-present', name: 'mvo' })).reason).toContain('without a yes/no value');
  });

  it('latestInteger reads valueInteger or a unitless integer quantity', () => {
    const opts = { ...base, valueSet: 'mvo-present', name: 'segments', units: INTEGER_UNITS.segments };
    expect(found(latestInteger([proj('mvo-present', { valueInteger: 3 })], opts)).input.value).toBe(3);
    expect(found(latestInteger([proj('mvo-present', { valueQuantity: { value: 2, unit: '{segments}' } })], opts)).input.value).toBe(2);
    missing(latestInteger([proj('mvo-present', { valueQuantity: { value: 2.5 } })], opts));
    missing(latestInteger([proj('mvo-present', { valueQuantity: { value: 2, unit: 'mg' } })], opts));
  });

  it('latestCode maps answers through ValueSets, or returns the first coded value', () => {
    const answers = { none: 'ascites-none', slight: 'ascites-slight', moderate: 'ascites-moderate' };
    const o = proj('ascites-grade', { valueCodeableConcept: { coding: [{ system: PROJ, code: 'ascites-slight' }] } });
    const r = found(latestCode([o], { ...base, valueSet: 'ascites', name: 'ascites', answers }));
    expect(r.input).toMatchObject({ name: 'ascites', value: 'slight' });
    expect(r.coding).toEqual({ system: PROJ, code: 'ascites-slight' });
    const sct = proj('ascites-grade', { valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '260413007' }] } });
    expect(found(latestCode([sct], { ...base, valueSet: 'ascites', name: 'ascites', answers })).input.value).toBe('none');
    const unknown = proj('ascites-grade', { valueCodeableConcept: { coding: [{ system: PROJ, code: 'ascites-huge' }] } });
    expect(missing(latestCode([unknown], { ...base, valueSet: 'ascites', name: 'ascites', answers })).reason).toContain('unrecognised answer');
    expect(found(latestCode([unknown], { ...base, valueSet: 'ascites', name: 'ascites' })).input.value).toBe('ascites-huge');
  });
});

describe('hostile or malformed resources', () => {
  it('never throws, and never yields a value from garbage', () => {
    const garbage = [
      { resourceType: 'Observation' },
      { resourceType: 'Observation', status: 'final', code: { coding: 'x' } },
      { resourceType: 'Observation', status: 'final', code: { coding: [null, 7, { system: 1, code: {} }] } },
      { resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code: '2160-0' }] }, effectiveDateTime: 123, valueQuantity: { value: 1, unit: 'mg/dL' } },
      { resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code: '2160-0' }] }, effectiveDateTime: iso(DAY), valueQuantity: { value: '1', unit: 'mg/dL' } },
      { resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code: '2160-0' }] }, effectiveDateTime: iso(DAY), valueQuantity: { value: 1, unit: '__proto__' } },
      { resourceType: 'Observation', status: '__proto__', code: { coding: [{ system: LOINC, code: '2160-0' }] }, effectiveDateTime: iso(DAY), valueQuantity: { value: 1, unit: 'mg/dL' } },
      { resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code: '2160-0' }] }, effectiveDateTime: 'not a date', valueQuantity: { value: 1, unit: 'mg/dL' } },
      { resourceType: 'Observation', status: 'final', code: { text: 'panel' }, component: 5, effectiveDateTime: iso(DAY) },
      { resourceType: 'Observation', status: 'final', code: { text: 'panel' }, component: [null], effectiveDateTime: iso(DAY) },
      { resourceType: 'Bundle', type: 'searchset', entry: { not: 'an array' } },
      { resourceType: 'Bundle', type: 'searchset', entry: [null] },
    ] as unknown as Observation[];
    const r = latestQuantity(garbage, creat);
    expect(r.found).toBe(false);
    expect(latestBoolean(garbage, { ...creat })).toMatchObject({ found: false });
    expect(latestCode(garbage, { ...creat })).toMatchObject({ found: false });
  });
});

describe('dates', () => {
  it('parses partial dates as UTC ranges', () => {
    expect(parseFhirDate('2024')).toMatchObject({ start: Date.UTC(2024, 0, 1), end: Date.UTC(2025, 0, 1) - 1, partial: true });
    expect(parseFhirDate('2024-02')).toMatchObject({ start: Date.UTC(2024, 1, 1), end: Date.UTC(2024, 2, 1) - 1 });
    expect(parseFhirDate('2024-02-29')).toMatchObject({ start: Date.UTC(2024, 1, 29), end: Date.UTC(2024, 2, 1) - 1 });
    expect(parseFhirDate('2024-02-29T10:00:00+02:00')).toMatchObject({ start: Date.UTC(2024, 1, 29, 8), partial: false });
    expect(parseFhirDate('garbage')).toBeUndefined();
    expect(parseFhirDate(undefined)).toBeUndefined();
  });
  it('window boundaries', () => {
    const at = (ms: number) => parseFhirDate(new Date(NOW.getTime() - ms).toISOString())!;
    expect(inWindow(at(7 * DAY), NOW, 7)).toBe('in');
    expect(inWindow(at(7 * DAY + 1), NOW, 7)).toBe('old');
    expect(inWindow(at(-10 * 60_000), NOW, 7)).toBe('future');
  });
});

describe('unit conversion cost', () => {
  it('resolves each unit pair with UCUM once, not once per value', () => {
    // ~100 observations × 10 inputs: resolving UCUM per value (the slow path this guards against)
    // would make thousands of UCUM calls; the converter's cache resolves each (unit, target, analyte)
    // once, so after the first selection of each input no further UCUM call is made.
    const counted = createUnitConverter();
    const r = createFhirReader({ terminology, units: counted });
    const list: Observation[] = [];
    for (let i = 0; i < 100; i++) list.push(obs(['2160-0', '1975-2', '2951-2', '1751-7', '6301-6'][i % 5]!, { v: 50 + i, unit: 'umol/L', effectiveDateTime: iso(i * 3600_000) }));
    r.latestQuantity(list, creat);
    r.latestQuantity(list, bili);
    const afterFirst = counted.stats().ucumCalls;
    expect(afterFirst).toBeGreaterThan(0);
    for (let k = 0; k < 100; k++) for (let j = 0; j < 10; j++) r.latestQuantity(list, j % 2 ? creat : bili);
    expect(counted.stats().ucumCalls).toBe(afterFirst);
  });
});
