// Typed, unit-normalised inputs of the cirrhosis-sarcopenia service, read from the resolved prefetch.
// Pure: no I/O. Look-backs from config (MODELS.md "Time windows": labs 30 days by default).
import type { Patient } from 'fhir/r4.js';
import { ageInYears } from '../../fhir/patient.ts';
import type { Input } from '../../models/types.ts';
import type { ResolvedPrefetch, Evaluation } from '../types.ts';
import type { ConditionMatch } from '../../fhir/conditions.ts';
import { arrayOf, stringOf, type Lookup, type ResourceSource } from '../../fhir/observations.ts';
import { SNOMED } from '../../fhir/canonical.ts';
import { INTEGER_UNITS, QUANTITIES } from '../../fhir/quantities.ts';
import type { CtImagingInputs, ImagingPart } from '../../imaging/types.ts';
import { newerInput, withinLookback } from '../imaging-inputs.ts';
import { fill } from '../card-wording.ts';
import type { CirrhosisWording } from './wording.ts';

export interface CirrhosisInputs {
  /** Cirrhosis recorded and not refuted: the service applies. */
  cirrhosis?: ConditionMatch;
  /** An active condition stating PBC or PSC (ValueSet cholestatic-liver-disease): Child-Pugh's cholestatic bilirubin bands. */
  cholestaticDisease?: Input<string>;
  sex?: Input<string>;
  age?: Input<number>;
  bilirubin?: Input<number>; // mg/dL
  creatinine?: Input<number>; // mg/dL
  sodium?: Input<number>; // mmol/L
  albumin?: Input<number>; // g/dL
  inr?: Input<number>;
  /** undefined = procedures could not be read; false = read, none qualifying. */
  dialysis?: Input<boolean>;
  /** Dialysis procedures found in the 7-day look-back (undefined when procedures could not be read). */
  dialysisSessions?: number;
  ascites?: Input<string>;
  encephalopathy?: Input<string>;
  height?: Input<number>; // m
  weight?: Input<number>; // kg
  bmi?: Input<number>; // kg/m2
  smi?: Input<number>; // cm2/m2
  muscleArea?: Input<number>; // cm2
  /** Input name -> why it is missing (shown on the card). */
  missingReasons: Record<string, string>;
}

/** MELD 3.0 and OPTN policy 9.1.D: dialysis "in the prior 7 days" (MODELS.md 3a, 3b). */
const DIALYSIS_WINDOW_DAYS = 7;
const DIALYSIS_TREATMENTS = 2;
const CVVHD_HOURS = 24;

// SNOMED CT severity qualifiers (Condition.severity): mild 255604002, moderate 6736007, severe 24484000.
const SEVERITY_TO_ASCITES: Record<string, string> = {
  '255604002': 'slight',
  '6736007': 'moderate-severe',
  '24484000': 'moderate-severe',
};

/** Prefetch keys of the service (index.ts declares their templates). */
export type CirrhosisPrefetchKey = 'patient' | 'conditions' | 'observations' | 'procedures';

export function gatherCirrhosisInputs(data: ResolvedPrefetch, ev: Evaluation & { wording: CirrhosisWording }): CirrhosisInputs {
  const { now } = ev.call;
  const { config } = ev.runtime;
  const fhir = ev.fhir;
  const conditions = data.conditions;
  const observations = data.observations;
  const missingReasons: Record<string, string> = {};
  const out: CirrhosisInputs = { missingReasons };

  out.cirrhosis = fhir.findConditions(conditions, 'cirrhosis', { now }).find((c) => c.active);
  if (!out.cirrhosis) return out;
  const cholestatic = fhir.findConditions(conditions, 'cholestatic-liver-disease', { now }).find((c) => c.active);
  if (cholestatic) out.cholestaticDisease = conditionNamed('cholestaticDisease', cholestatic);

  const patient = fhir.resourcesOf(data.patient).find((r): r is Patient => r.resourceType === 'Patient');
  Object.assign(out, patientFacts(patient, now, missingReasons));

  const labs = { now, lookbackDays: config.labLookbackDays };
  const take = <V extends number | string>(lookup: Lookup<V>): Input<V> | undefined => {
    if (lookup.found) return lookup.input;
    missingReasons[lookup.name] = lookup.reason;
    return undefined;
  };
  out.bilirubin = take(fhir.latestQuantity(observations, { ...labs, valueSet: 'bilirubin-total', name: 'bilirubin', quantity: QUANTITIES.bilirubin }));
  out.creatinine = take(fhir.latestQuantity(observations, { ...labs, valueSet: 'creatinine', name: 'creatinine', quantity: QUANTITIES.creatinine }));
  out.sodium = take(fhir.latestQuantity(observations, { ...labs, valueSet: 'sodium', name: 'sodium', quantity: QUANTITIES.sodium }));
  out.albumin = take(fhir.latestQuantity(observations, { ...labs, valueSet: 'albumin', name: 'albumin', quantity: QUANTITIES.albumin }));
  out.inr = take(fhir.latestQuantity(observations, { ...labs, valueSet: 'inr', name: 'inr', quantity: QUANTITIES.inr }));

  const body = { now, lookbackDays: config.bodyLookbackDays };
  out.height = take(fhir.latestQuantity(observations, { ...body, valueSet: 'body-height', name: 'height', quantity: QUANTITIES.height }));
  out.weight = take(fhir.latestQuantity(observations, { ...body, valueSet: 'body-weight', name: 'weight', quantity: QUANTITIES.weight }));
  out.bmi = take(fhir.latestQuantity(observations, { ...body, valueSet: 'bmi', name: 'bmi', quantity: QUANTITIES.bmi })) ?? derivedBmi(out.weight, out.height);
  if (out.bmi) delete missingReasons.bmi;
  out.smi = take(fhir.latestQuantity(observations, { ...body, valueSet: 'l3-smi', name: 'smi', quantity: QUANTITIES.smi }));
  out.muscleArea = take(fhir.latestQuantity(observations, { ...body, valueSet: 'l3-skeletal-muscle-area', name: 'muscleArea', quantity: QUANTITIES.muscleArea }));
  if (ev.imaging) withCtImaging(out, ev.imaging.ct, ev, missingReasons);

  out.ascites = ascites(conditions, observations, ev, missingReasons);
  out.encephalopathy = encephalopathy(conditions, observations, ev, missingReasons);
  const d = dialysis(data, ev, missingReasons);
  if (d) {
    out.dialysis = d.input;
    out.dialysisSessions = d.sessions;
  }
  return out;
}

/**
 * The L3 muscle area the archive's CT SEG gave (imaging/seg-muscle.ts), beside the record's SMI or
 * muscle area: the newer measurement wins (imaging-inputs.ts), within the same look-back. A DICOM area
 * replaces a recorded SMI too, so that the SMI is its area / height² (MODELS.md 3e). Without one, the
 * card says why and what would provide it (cards/cirrhosis-sarcopenia.yaml).
 */
function withCtImaging(out: CirrhosisInputs, ct: ImagingPart<CtImagingInputs>, ev: Evaluation & { wording: CirrhosisWording }, reasons: Record<string, string>): void {
  const area = ct.inputs.muscleArea;
  const usable = area && withinLookback(area, ev.call.now, ev.runtime.config.bodyLookbackDays) ? area : undefined;
  if (usable) {
    const recorded = newerInput(out.smi, out.muscleArea);
    if (newerInput(recorded, usable) === usable) {
      out.muscleArea = usable;
      delete out.smi;
      delete reasons.muscleArea;
      delete reasons.smi;
    }
    return;
  }
  if (out.smi || out.muscleArea || ct.unavailable) return;
  const t = ev.wording.text;
  if (ct.absent === 'no-study') reasons.muscleArea = t.imagingNoSeg;
  else if (ct.absent === 'nothing-usable') reasons.muscleArea = fill(t.imagingSegUnusable, { reason: ct.missingReasons.muscleArea ?? '—' });
}

function patientFacts(patient: Patient | undefined, now: Date, reasons: Record<string, string>): Pick<CirrhosisInputs, 'sex' | 'age'> {
  const source = patient?.id ? `Patient/${patient.id}` : 'Patient';
  const facts: Pick<CirrhosisInputs, 'sex' | 'age'> = {};
  // Administrative gender stands in for sex; 'other'/'unknown' are passed on and the models list sex as missing.
  if (typeof patient?.gender === 'string' && patient.gender.length > 0) facts.sex = { name: 'sex', value: patient.gender, source };
  else reasons.sex = 'not recorded on the Patient resource';
  const age = patient?.birthDate ? ageInYears(patient.birthDate, now) : undefined;
  if (age !== undefined) facts.age = { name: 'age', value: age, unit: 'a', source, date: patient?.birthDate };
  else reasons.age = 'no usable birth date';
  return facts;
}


function derivedBmi(weight?: Input<number>, height?: Input<number>): Input<number> | undefined {
  if (!weight || !height || height.value <= 0) return undefined;
  const bmi = weight.value / (height.value * height.value);
  // A height so small that the quotient overflows is no BMI (JSON cannot carry Infinity; fuzzing tests).
  if (!Number.isFinite(bmi)) return undefined;
  return { name: 'bmi', value: bmi, unit: 'kg/m2', source: 'derived', date: weight.date };
}

/**
 * Ascites for Child-Pugh: the newest of a coded assessment (project code ascites-severity) and an
 * ascites Condition. Absent from the record = missing, never "none" (MODELS.md 3c).
 */
function ascites(conditions: ResourceSource, observations: ResourceSource, ev: Evaluation, reasons: Record<string, string>): Input<string> | undefined {
  const now = ev.call.now;
  const assessed = ev.fhir.latestCode(observations, { valueSet: 'ascites-severity', name: 'ascites', now, lookbackDays: ev.runtime.config.labLookbackDays });
  const condition = ev.fhir.findConditions(conditions, 'ascites', { now })[0];
  const fromCondition = condition ? conditionFinding('ascites', condition, (sev) => (sev ? SEVERITY_TO_ASCITES[sev] : undefined) ?? 'present-severity-unknown', 'none') : undefined;
  return newest(assessed.found ? assessed.input : undefined, fromCondition, reasons, 'ascites', 'no ascites assessment or diagnosis in the record');
}

/** Encephalopathy: a West Haven grade (project code) or a Condition (grade unknown). */
function encephalopathy(conditions: ResourceSource, observations: ResourceSource, ev: Evaluation, reasons: Record<string, string>): Input<string> | undefined {
  const now = ev.call.now;
  const graded = ev.fhir.latestInteger(observations, { valueSet: 'hepatic-encephalopathy-grade', name: 'encephalopathy', units: INTEGER_UNITS.grade, now, lookbackDays: ev.runtime.config.labLookbackDays });
  const fromGrade: Input<string> | undefined = graded.found && graded.input.value >= 0 && graded.input.value <= 4
    ? { ...graded.input, value: graded.input.value === 0 ? 'none' : graded.input.value <= 2 ? 'grade-1-2' : 'grade-3-4', unit: undefined }
    : undefined;
  const condition = ev.fhir.findConditions(conditions, 'hepatic-encephalopathy', { now })[0];
  const fromCondition = condition ? conditionFinding('encephalopathy', condition, () => 'present-grade-unknown', 'none') : undefined;
  return newest(fromGrade, fromCondition, reasons, 'encephalopathy', 'no encephalopathy grade or diagnosis in the record');
}

/** A Condition as a named input whose value is the condition as recorded (text, display or code). */
function conditionNamed(name: string, c: ConditionMatch): Input<string> {
  const code = c.resource.code;
  // FHIR JSON from outside may hold anything: only strings are words (fuzzing tests).
  const coding = arrayOf(code?.coding).find((x) => x && (x.display || x.code));
  const date = c.onset ?? c.recordedDate;
  const value = stringOf(code?.text) ?? stringOf(coding?.display) ?? stringOf(coding?.code) ?? 'recorded';
  return { name, value, source: c.source, ...(date ? { date } : {}) };
}

/** A Condition as a finding: active → present (severity-specific when coded); resolved → none. */
function conditionFinding(name: string, c: ConditionMatch, present: (severity?: string) => string, resolved: string): Input<string> {
  const severity = c.severity?.system === SNOMED ? c.severity.code : undefined;
  return {
    name,
    value: c.active ? present(severity) : resolved,
    source: c.source,
    date: c.active ? (c.recordedDate ?? c.onset) : (c.abatement ?? c.recordedDate ?? c.onset),
  };
}

function newest(a: Input<string> | undefined, b: Input<string> | undefined, reasons: Record<string, string>, name: string, reason: string): Input<string> | undefined {
  if (a && b) return (Date.parse(b.date ?? '') || 0) > (Date.parse(a.date ?? '') || 0) ? b : a;
  const found = a ?? b;
  if (!found) reasons[name] = reason;
  return found;
}

/**
 * "≥ 2 dialysis treatments or 24 h of CVVHD in the prior 7 days" (MELD 3.0, OPTN 9.1.D). When the
 * procedures could not be read the answer is unknown (undefined), not "no".
 */
function dialysis(data: ResolvedPrefetch, ev: Evaluation, reasons: Record<string, string>): { input: Input<boolean>; sessions: number } | undefined {
  const procedures: CirrhosisPrefetchKey = 'procedures';
  if (ev.call.unavailable.includes(procedures)) {
    reasons.dialysis = 'procedures could not be retrieved';
    return undefined;
  }
  const now = ev.call.now;
  const runs = ev.fhir.proceduresWithin(data.procedures, 'dialysis', { now, days: DIALYSIS_WINDOW_DAYS });
  const longRun = runs.find((p) => {
    const end = p.end ? Date.parse(p.end) : p.status === 'in-progress' ? now.getTime() : NaN;
    return Number.isFinite(end) && (end - Date.parse(p.date)) / 3_600_000 >= CVVHD_HOURS;
  });
  const qualifies = runs.length >= DIALYSIS_TREATMENTS || longRun !== undefined;
  const newestRun = runs[0];
  // None recorded is not "none performed": the card says "none recorded" (issue 10, item 8).
  return {
    input: {
      name: 'dialysis',
      value: qualifies,
      source: qualifies && newestRun ? newestRun.source : 'derived',
      ...(newestRun ? { date: newestRun.date } : {}),
    },
    sessions: runs.length,
  };
}
