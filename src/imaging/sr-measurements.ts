// Measurements from one DICOM SR (Comprehensive SR 1.2.840.10008.5.1.4.1.1.88.33, Enhanced SR
// .88.22), read from its instance-level metadata: TID 1500 measurement reports (measurement groups
// TID 1501 with a Finding and a source series, numeric measurements TID 300) and TID 3900-style CMR
// content. A content item feeds an input when its concept name (or what the DICOM ConceptMap maps it
// to in its context) is in the ValueSet the FHIR path uses for that input, so both paths yield the
// same inputs (MODELS.md 4). Values are converted from the UCUM unit of MeasurementUnitsCodeSequence
// with src/fhir/units.ts; a unit that means another quantity does not make the input.
//
// Context rules:
//   - a measurement group whose Finding is the cardiac mass feeds only the mass inputs (a T1 measured
//     in the mass is never the myocardium's native T1);
//   - conflicting values for one input within one SR are not used (the card says why).
import type { Coding } from 'fhir/r4.js';
import type { Input, InputValue } from '../models/types.ts';
import type { Terminology } from '../fhir/terminology.ts';
import type { UnitConverter } from '../fhir/units.ts';
import { QUANTITIES, type QuantityKind } from '../fhir/quantities.ts';
import { codeIn, isoDateTime, items, num, str, TAG, type DicomDataset } from './dicom-json.ts';
import { booleanOf, isCardiacMassFinding, isFindingConcept, isSourceSeriesConcept, toCoding } from './dicom-codes.ts';
import { mapConcept, type DicomConceptMap, type ItemContext } from './dicom-concept-map.ts';
import type { SeriesClass } from './series-classifier.ts';
import type { CmrImagingInputs, MassImagingInputs } from './types.ts';

type KeysOf<T, V extends InputValue> = { [K in keyof T]-?: T[K] extends Input<V> | undefined ? K : never }[keyof T];
/**
 * `quantity`: the FHIR path's unit rules for the same input (src/fhir/quantities.ts): the recorded
 * unit must mean that quantity (an LVEF in '1' is a fraction, a strain only in %), not merely convert.
 */
type Range = { min?: number; max?: number; integer?: boolean; quantity?: QuantityKind };

type Target =
  | ({ kind: 'quantity'; part: 'cmr'; name: KeysOf<CmrImagingInputs, number>; valueSet: string; unit: string; indexed?: { name: KeysOf<CmrImagingInputs, number>; unit: string } } & Range)
  | ({ kind: 'quantity'; part: 'mass'; name: KeysOf<MassImagingInputs, number>; valueSet: string; unit: string } & Range)
  | { kind: 'boolean'; part: 'cmr'; name: KeysOf<CmrImagingInputs, boolean>; valueSet: string }
  | { kind: 'boolean'; part: 'mass'; name: KeysOf<MassImagingInputs, boolean>; valueSet: string }
  | { kind: 'code'; part: 'mass'; name: KeysOf<MassImagingInputs, string>; valueSet: string; answers: string };

/** Input ← ValueSet (profiles/), unit and range as in the imaging-cds CodeSystem properties. */
const TARGETS: readonly Target[] = [
  { kind: 'quantity', part: 'cmr', name: 'lvef', valueSet: 'lvef-mr', unit: '%', min: 0, max: 100, quantity: QUANTITIES.lvef },
  { kind: 'quantity', part: 'cmr', name: 'lvEdv', valueSet: 'lv-edv', unit: 'mL', min: 0, indexed: { name: 'lvEdvIndexed', unit: 'mL/m2' } },
  { kind: 'quantity', part: 'cmr', name: 'lvEsv', valueSet: 'lv-esv', unit: 'mL', min: 0, indexed: { name: 'lvEsvIndexed', unit: 'mL/m2' } },
  { kind: 'quantity', part: 'cmr', name: 'lvMass', valueSet: 'lv-mass', unit: 'g', min: 0, indexed: { name: 'lvMassIndexed', unit: 'g/m2' } },
  { kind: 'quantity', part: 'cmr', name: 'infarctSize', valueSet: 'infarct-size', unit: '%', min: 0, max: 100, quantity: QUANTITIES.infarctSize },
  { kind: 'quantity', part: 'cmr', name: 'mvo', valueSet: 'mvo-extent', unit: '%', min: 0, max: 100, quantity: QUANTITIES.mvo },
  { kind: 'quantity', part: 'cmr', name: 'mvoSegments', valueSet: 'mvo-segments', unit: '{segments}', min: 0, max: 17, integer: true },
  { kind: 'quantity', part: 'cmr', name: 'nativeT1', valueSet: 'native-t1', unit: 'ms', min: 0, quantity: QUANTITIES.nativeT1 },
  { kind: 'quantity', part: 'cmr', name: 't2', valueSet: 't2', unit: 'ms', min: 0, quantity: QUANTITIES.t2 },
  { kind: 'quantity', part: 'cmr', name: 'ecv', valueSet: 'ecv', unit: '%', min: 0, max: 100, quantity: QUANTITIES.ecv },
  { kind: 'quantity', part: 'cmr', name: 'lvGls', valueSet: 'lv-gls', unit: '%', quantity: QUANTITIES.lvGls },
  { kind: 'quantity', part: 'cmr', name: 'laReservoirStrain', valueSet: 'la-reservoir-strain', unit: '%', quantity: QUANTITIES.laReservoirStrain },
  { kind: 'boolean', part: 'cmr', name: 'haemorrhage', valueSet: 'intramyocardial-haemorrhage' },
  { kind: 'boolean', part: 'mass', name: 'finding', valueSet: 'cardiac-mass-finding' },
  { kind: 'boolean', part: 'mass', name: 'infiltration', valueSet: 'mass-infiltration' },
  { kind: 'boolean', part: 'mass', name: 'firstPassPerfusion', valueSet: 'mass-first-pass-perfusion' },
  { kind: 'boolean', part: 'mass', name: 'sessile', valueSet: 'mass-sessile' },
  { kind: 'boolean', part: 'mass', name: 'polylobate', valueSet: 'mass-polylobate' },
  { kind: 'boolean', part: 'mass', name: 'pericardialEffusion', valueSet: 'mass-pericardial-effusion' },
  { kind: 'boolean', part: 'mass', name: 'heterogeneousEnhancement', valueSet: 'mass-heterogeneous-enhancement' },
  { kind: 'boolean', part: 'mass', name: 'tiScoutTypical', valueSet: 'mass-ti-scout-thrombus-pattern' },
  { kind: 'boolean', part: 'mass', name: 'lgePresent', valueSet: 'mass-lge' },
  { kind: 'boolean', part: 'mass', name: 'homogeneous', valueSet: 'mass-homogeneous' },
  { kind: 'quantity', part: 'mass', name: 'areaCm2', valueSet: 'mass-area', unit: 'cm2', min: 0, quantity: QUANTITIES.massArea },
  { kind: 'quantity', part: 'mass', name: 'diameterCm', valueSet: 'mass-diameter', unit: 'cm', min: 0, quantity: QUANTITIES.massDiameter },
  { kind: 'quantity', part: 'mass', name: 'postContrastT1', valueSet: 'mass-post-contrast-t1', unit: 'ms', min: 0, quantity: QUANTITIES.postContrastT1 },
  { kind: 'code', part: 'mass', name: 'location', valueSet: 'mass-location', answers: 'mass-location-answers' },
  { kind: 'code', part: 'mass', name: 'diagnosis', valueSet: 'mass-diagnosis', answers: 'mass-diagnosis-answers' },
];

const MAX_DEPTH = 32;
const MAX_ITEMS = 20_000;

export interface SrReadingDeps {
  terminology: Pick<Terminology, 'valueSetContains'>;
  /** UCUM conversions (the runtime's converter and its cache). */
  units: Pick<UnitConverter, 'toUnit' | 'meansQuantity'>;
  conceptMap: DicomConceptMap;
  /** Classes of a series of the same study (from the series QIDO), by Series Instance UID. */
  seriesClasses(seriesUid: string): readonly SeriesClass[] | undefined;
}

export interface SrReading {
  sopInstanceUid: string;
  /** ISO content date-time of the report (falls back to the study date). */
  date?: string;
  cmr: CmrImagingInputs;
  mass: MassImagingInputs;
  /** Input name → why a value in this SR was not used. */
  reasons: { cmr: Record<string, string>; mass: Record<string, string> };
}

export function readSrMeasurements(sr: DicomDataset, deps: SrReadingDeps): SrReading {
  const sopInstanceUid = str(sr, TAG.SOPInstanceUID) ?? 'unknown';
  const date = isoDateTime(str(sr, TAG.ContentDate), str(sr, TAG.ContentTime)) ?? isoDateTime(str(sr, TAG.StudyDate), str(sr, TAG.StudyTime));
  const out: SrReading = { sopInstanceUid, ...(date ? { date } : {}), cmr: {}, mass: {}, reasons: { cmr: {}, mass: {} } };
  const source = `dicom:${sopInstanceUid}`;
  const conflicted = new Set<string>();
  let seen = 0;

  const base = (name: string): { name: string; source: string; date?: string } => ({ name, source, ...(date ? { date } : {}) });
  const keep = <T extends { value: unknown }>(part: 'cmr' | 'mass', name: string, current: T | undefined, next: T, set: (v: T | undefined) => void): void => {
    const key = `${part}.${name}`;
    if (conflicted.has(key)) return;
    if (current && current.value !== next.value) {
      conflicted.add(key);
      set(undefined);
      out.reasons[part][name] = `the report ${source} gives different values (${String(current.value)}, ${String(next.value)})`;
      return;
    }
    if (!current) set(next);
  };

  const targetsFor = (concept: Coding, ctx: ItemContext, inMassGroup: boolean): Target[] => {
    const codings = [concept, ...mapConcept(deps.conceptMap, concept, ctx)];
    return TARGETS.filter((t) => (!inMassGroup || t.part === 'mass') && deps.terminology.valueSetContains(t.valueSet, codings));
  };

  const visit = (node: DicomDataset, ctx: ItemContext, inMassGroup: boolean, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    const children = items(node, TAG.ContentSequence);
    // A container's own Finding and source series set the context of its children (TID 1501).
    let childCtx = ctx;
    let childInMass = inMassGroup;
    for (const c of children) {
      const concept = codeIn(c, TAG.ConceptNameCodeSequence);
      if (isFindingConcept(concept)) {
        const finding = codeIn(c, TAG.ConceptCodeSequence);
        const coding = finding ? toCoding(finding) : undefined;
        if (coding) childCtx = { ...childCtx, finding: coding };
        if (isCardiacMassFinding(finding)) childInMass = true;
      } else if (isSourceSeriesConcept(concept)) {
        const uid = str(c, TAG.UID);
        const classes = uid ? deps.seriesClasses(uid) : undefined;
        if (classes) childCtx = { ...childCtx, seriesClasses: classes };
      }
    }
    if (childInMass && !inMassGroup) {
      // "Finding: cardiac mass" states the mass is there.
      out.mass.finding ??= { ...base('finding'), value: true };
    }
    for (const c of children) {
      if (++seen > MAX_ITEMS) return;
      readItem(c, childCtx, childInMass);
      if (str(c, TAG.ValueType) === 'CONTAINER') visit(c, childCtx, childInMass, depth + 1);
    }
  };

  const readItem = (item: DicomDataset, ctx: ItemContext, inMassGroup: boolean): void => {
    const valueType = str(item, TAG.ValueType);
    const dicomConcept = codeIn(item, TAG.ConceptNameCodeSequence);
    const concept = dicomConcept ? toCoding(dicomConcept) : undefined;
    if (!concept || (valueType !== 'NUM' && valueType !== 'CODE')) return;
    const targets = targetsFor(concept, ctx, inMassGroup);
    if (targets.length === 0) {
      // LVEF coded 10230-1 states no method: never a CMR LVEF (MODELS.md 4).
      if (!inMassGroup && valueType === 'NUM' && deps.terminology.valueSetContains('lvef', [concept]) && !out.cmr.lvef) {
        out.reasons.cmr.lvef ??= `the report ${source} codes its LVEF as LOINC 10230-1, which does not state the method (not taken as a CMR LVEF)`;
      }
      return;
    }
    for (const t of targets) {
      if (valueType === 'NUM' && t.kind === 'quantity') readNumber(item, t);
      else if (valueType === 'CODE' && t.kind === 'boolean') readBoolean(item, t);
      else if (valueType === 'CODE' && t.kind === 'code') readCode(item, t);
    }
  };

  const readNumber = (item: DicomDataset, t: Extract<Target, { kind: 'quantity' }>): void => {
    const measured = items(item, TAG.MeasuredValueSequence)[0];
    const value = num(measured, TAG.NumericValue);
    const unitCode = codeIn(measured, TAG.MeasurementUnitsCodeSequence);
    const reasons = out.reasons[t.part];
    if (value === undefined) {
      reasons[t.name] ??= `the report ${source} has no numeric value for it`;
      return;
    }
    if (!unitCode || unitCode.scheme.toUpperCase() !== 'UCUM') {
      reasons[t.name] ??= `the report ${source} gives no UCUM unit for it`;
      return;
    }
    const kind = t.quantity;
    if (kind && !deps.units.meansQuantity(kind, unitCode.value)) {
      const other = kind.otherQuantities?.[unitCode.value as keyof typeof kind.otherQuantities];
      reasons[t.name] ??= `the report ${source} gives it in '${unitCode.value}'${other ? `: ${other}` : `, which is not a unit of ${kind.what}`}`;
      return;
    }
    let name: string = t.name;
    let unit = t.unit;
    let converted = deps.units.toUnit(value, unitCode.value, t.unit, kind?.analyte);
    if (converted === null && t.part === 'cmr' && t.indexed) {
      converted = deps.units.toUnit(value, unitCode.value, t.indexed.unit);
      name = t.indexed.name;
      unit = t.indexed.unit;
    }
    if (converted === null) {
      reasons[t.name] ??= `the report ${source} gives it in '${unitCode.value}', a unit of another quantity than ${t.unit}`;
      return;
    }
    if ((t.min !== undefined && converted < t.min) || (t.max !== undefined && converted > t.max) || (t.integer && !Number.isInteger(converted))) {
      reasons[name] ??= `the report ${source} gives ${converted} ${unit}, outside the possible range`;
      return;
    }
    const input: Input<number> = {
      ...base(name),
      value: converted,
      unit,
      ...(converted !== value || unitCode.value !== unit ? { original: { value, unit: unitCode.value } } : {}),
    };
    if (t.part === 'cmr') {
      const key = name === t.name ? t.name : (t.indexed?.name ?? t.name);
      keep('cmr', key, out.cmr[key], input, (v) => { out.cmr[key] = v; });
    } else {
      keep('mass', t.name, out.mass[t.name], input, (v) => { out.mass[t.name] = v; });
    }
  };

  const readBoolean = (item: DicomDataset, t: Extract<Target, { kind: 'boolean' }>): void => {
    const answer = codeIn(item, TAG.ConceptCodeSequence);
    const value = booleanOf(answer);
    if (value === undefined) {
      out.reasons[t.part][t.name] ??= `the report ${source} answers '${answer?.meaning ?? answer?.value ?? 'nothing'}', not present/absent`;
      return;
    }
    const input: Input<boolean> = { ...base(t.name), value };
    if (t.part === 'cmr') keep('cmr', t.name, out.cmr[t.name], input, (v) => { out.cmr[t.name] = v; });
    else keep('mass', t.name, out.mass[t.name], input, (v) => { out.mass[t.name] = v; });
  };

  const readCode = (item: DicomDataset, t: Extract<Target, { kind: 'code' }>): void => {
    const answer = codeIn(item, TAG.ConceptCodeSequence);
    const coding = answer ? toCoding(answer) : undefined;
    if (!coding?.code || !deps.terminology.valueSetContains(t.answers, [coding])) {
      out.reasons.mass[t.name] ??= `the report ${source} answers a code outside ValueSet ${t.answers}`;
      return;
    }
    const input: Input<string> = { ...base(t.name), value: coding.code };
    keep('mass', t.name, out.mass[t.name], input, (v) => { out.mass[t.name] = v; });
  };

  visit(sr, {}, false, 0);
  for (const part of ['cmr', 'mass'] as const) {
    for (const [name, value] of Object.entries(out[part])) {
      if (value === undefined) Reflect.deleteProperty(out[part], name);
      else delete out.reasons[part][name];
    }
  }
  return out;
}
