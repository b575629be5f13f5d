// Typed, unit-normalised inputs of the cmr-ihd-macce service, read from the resolved prefetch.
// The record is asked once: age from the birth date (at the MI onset), enzymes from troponin and its
// reference range, time to reperfusion from the onset and the first PCI or fibrinolysis, admission
// values nearest the admission. Windows: windows.ts. Pure: no I/O.
import { ageInYears } from '../../fhir/patient.ts';
import type { Observation, Patient } from 'fhir/r4.js';
import type { Input, InputValue } from '../../models/types.ts';
import type { CmrMarkerInputs } from '../../models/cmr-markers.ts';
import type { Evaluation, ResolvedPrefetch } from '../types.ts';
import type { CmrImagingInputs } from '../../imaging/types.ts';
import { datedWithin, newerInput } from '../imaging-inputs.ts';
import { parseFhirDate, type Lookup, type ResourceSource } from '../../fhir/observations.ts';
import type { FhirReader } from '../../fhir/reader.ts';
import { INTEGER_UNITS, QUANTITIES, type QuantityKind } from '../../fhir/quantities.ts';
import { admissionAnchor, classify, type AcuteEvent, type Anchor, type Classification } from './event.ts';
import { readEnzymes } from './enzymes.ts';
import { reperfusionFromProcedures, formatHours } from './reperfusion.ts';
import {
  ADMISSION_AFTER_MS, ADMISSION_BEFORE_MS, ANY_AGE_DAYS, CMR_LOOKBACK_DAYS, CMR_TARGET_AFTER_ONSET_MS, DAY_MS,
  PRESENTATION_BEFORE_MS, WEIGHT_AFTER_MS, nearest, type Window,
} from './windows.ts';

export interface AcuteInputs {
  age?: Input<number>;
  heartRate?: Input<number>;
  systolicBp?: Input<number>;
  creatinine?: Input<number>; // mg/dL
  killipClass?: Input<number>;
  cardiacArrest?: Input<boolean>;
  stDeviation?: Input<boolean>;
  elevatedEnzymes?: Input<boolean>;
  diabetes?: Input<boolean>;
  hypertension?: Input<boolean>;
  angina?: Input<boolean>;
  weight?: Input<number>; // kg
  /** The TIMI item "anterior ST elevation or LBBB", as one finding. */
  anteriorSteOrLbbb?: Input<boolean>;
  timeToReperfusion?: Input<number>; // h
}

export interface CmrInputs extends CmrMarkerInputs {
  mvoSegments?: Input<number>;
  /**
   * An LVEF that is not a CMR LVEF (10230-1 without an MR method): shown as recorded, named
   * 'lvefMethodNotStated' or 'lvefOtherMethod', and never given to a CMR score or threshold.
   */
  lvefNotCmr?: Input<number>;
}

export interface MacceInputs extends Classification {
  anchor?: Anchor;
  acuteInputs: AcuteInputs;
  cmr: CmrInputs;
  /** 'after-onset' for an acute MI, 'lookback' for chronic disease. */
  cmrWindow: 'after-onset' | 'lookback';
  /** Input name -> why it is missing (shown on the card). */
  missingReasons: Record<string, string>;
  /** How derived inputs were obtained (shown under "How inputs were found"). */
  derivations: string[];
}

/**
 * Prefetch keys of the service (index.ts declares their templates). `bloodPressure`: blood pressure
 * is usually sent as a panel (LOINC 85354-9) holding systolic 8480-6 as a component, which a `code`
 * search does not find; `combo-code` (R4 Observation search parameter) matches code or component
 * code. `encounter`: the context encounter, whose start is the admission anchor when it began within
 * 24 h of the MI onset.
 */
export type MaccePrefetchKey = 'patient' | 'conditions' | 'observations' | 'bloodPressure' | 'procedures' | 'encounter';

export function gatherMacceInputs(data: ResolvedPrefetch, ev: Evaluation): MacceInputs {
  const { now } = ev.call;
  const { config } = ev.runtime;
  const fhir = ev.fhir;
  const classification = classify(fhir, data.conditions, now, config.acuteMiWindowDays);
  const out: MacceInputs = { ...classification, acuteInputs: {}, cmr: {}, cmrWindow: 'lookback', missingReasons: {}, derivations: [] };
  if (!classification.ihd) return out;

  const observations = [...fhir.resourcesOf(data.observations), ...fhir.resourcesOf(data.bloodPressure)];
  const event = classification.acute;
  if (event) {
    out.anchor = admissionAnchor(fhir, event, data.encounter);
    out.acuteInputs = acuteInputs(event, out.anchor, data, observations, ev, out);
    out.cmrWindow = 'after-onset';
  }
  out.cmr = cmrInputs(observations, ev, event, out.missingReasons);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Acute MI inputs (GRACE, TIMI, CMR risk score time item)

function acuteInputs(event: AcuteEvent, anchor: Anchor, data: ResolvedPrefetch, obs: ResourceSource, ev: Evaluation, out: MacceInputs): AcuteInputs {
  const fhir = ev.fhir;
  const ctx = { now: ev.call.now, config: ev.runtime.config };
  const reasons = out.missingReasons;
  const a: AcuteInputs = {};
  const onset = event.onset;
  const take = <V extends InputValue>(l: Lookup<V>): Input<V> | undefined => {
    if (l.found) return l.input;
    reasons[l.name] = l.reason;
    return undefined;
  };

  a.age = ageAtOnset(fhir, data.patient, event, reasons);

  const admission: Window = {
    from: onset.start - ADMISSION_BEFORE_MS,
    to: onset.end + ADMISSION_AFTER_MS,
    target: anchor.range,
    describe: `within 24 h of the MI onset (${onset.text})`,
  };
  const quantity = (valueSet: string, name: string, kind: QuantityKind) =>
    take(nearest(fhir, obs, valueSet, name, admission, (o) => fhir.latestQuantity([o], { valueSet, name, quantity: kind, now: ctx.now, lookbackDays: ANY_AGE_DAYS })));
  a.heartRate = quantity('heart-rate', 'heartRate', QUANTITIES.heartRate);
  a.systolicBp = quantity('systolic-bp', 'systolicBp', QUANTITIES.systolicBp);
  a.creatinine = quantity('creatinine', 'creatinine', QUANTITIES.creatinine);

  // Troponin → elevated enzymes: the nearest result that can be judged (enzymes.ts).
  const notes = new Map<Observation, string>();
  const enzymes = nearest(fhir, obs, 'troponin', 'elevatedEnzymes', admission, (o) => {
    const r = readEnzymes(o, fhir.units);
    if (r.note) notes.set(o, r.note);
    return r.lookup;
  });
  a.elevatedEnzymes = take(enzymes);
  if (enzymes.found) out.derivations.push(notes.get(enzymes.resource) ?? '');

  const presentation: Window = {
    from: onset.start - PRESENTATION_BEFORE_MS,
    to: onset.end + ctx.config.acuteMiWindowDays * DAY_MS,
    target: anchor.range,
    describe: `recorded for this MI (from 24 h before its onset ${onset.text})`,
  };
  const flag = (valueSet: string, name: string) =>
    take(nearest(fhir, obs, valueSet, name, presentation, (o) => fhir.latestBoolean([o], { valueSet, name, now: ctx.now, lookbackDays: ANY_AGE_DAYS })));
  a.killipClass = take(nearest(fhir, obs, 'killip-class', 'killipClass', presentation, (o) => fhir.latestInteger([o], { valueSet: 'killip-class', name: 'killipClass', units: INTEGER_UNITS.grade, now: ctx.now, lookbackDays: ANY_AGE_DAYS })));
  a.cardiacArrest = flag('cardiac-arrest-at-admission', 'cardiacArrest');
  a.stDeviation = flag('st-deviation', 'stDeviation');
  a.anteriorSteOrLbbb = anteriorSte(fhir, event, flag('anterior-ste-or-lbbb', 'anteriorSteOrLbbb'), out);

  const weightWindow: Window = {
    from: onset.start - ctx.config.bodyLookbackDays * DAY_MS,
    to: onset.end + WEIGHT_AFTER_MS,
    target: { start: onset.start, end: onset.end },
    describe: `from ${ctx.config.bodyLookbackDays} days before to 7 days after the MI onset`,
  };
  a.weight = take(nearest(fhir, obs, 'body-weight', 'weight', weightWindow, (o) => fhir.latestQuantity([o], { valueSet: 'body-weight', name: 'weight', quantity: QUANTITIES.weight, now: ctx.now, lookbackDays: ANY_AGE_DAYS })));

  const conditions = data.conditions;
  a.diabetes = history(fhir, conditions, 'diabetes', event, ctx.now, reasons);
  a.hypertension = history(fhir, conditions, 'hypertension', event, ctx.now, reasons);
  a.angina = history(fhir, conditions, 'angina', event, ctx.now, reasons);

  a.timeToReperfusion = timeToReperfusion(event, presentation, data, obs, ev, out);
  return a;
}

/** ICD-10-CM I21.0 (STEMI of the anterior wall) records anterior ST elevation (ValueSet anterior-stemi). */
function anteriorSte(fhir: FhirReader, event: AcuteEvent, recorded: Input<boolean> | undefined, out: MacceInputs): Input<boolean> | undefined {
  const anteriorCode = fhir.valueSetContains('anterior-stemi', event.condition.resource.code);
  // The recorded ECG finding is the item itself: it wins; a conflict with the diagnosis code is shown.
  if (recorded) {
    if (anteriorCode && !recorded.value) out.derivations.push(`Anterior ST elevation or LBBB recorded as absent (${recorded.source}), although the diagnosis code of ${event.condition.source} is a STEMI of the anterior wall: the recorded finding is used.`);
    return recorded;
  }
  if (anteriorCode) {
    delete out.missingReasons.anteriorSteOrLbbb;
    out.derivations.push(`Anterior ST elevation: the diagnosis code of ${event.condition.source} is a STEMI of the anterior wall.`);
    return { name: 'anteriorSteOrLbbb', value: true, source: event.condition.source, date: event.onset.text };
  }
  return recorded;
}

function timeToReperfusion(event: AcuteEvent, presentation: Window, data: ResolvedPrefetch, obs: ResourceSource, ev: Evaluation, out: MacceInputs): Input<number> | undefined {
  const fhir = ev.fhir;
  const procedures: MaccePrefetchKey = 'procedures';
  const proceduresUnavailable = ev.call.unavailable.includes(procedures);
  const derived = proceduresUnavailable
    ? { found: false as const, reason: 'procedures could not be retrieved' }
    : reperfusionFromProcedures(fhir, event, data.procedures, ev.call.now);
  if (derived.found) {
    out.derivations.push(derived.note);
    return derived.input;
  }
  // A recorded time to reperfusion (project code) may stand in when no procedure time qualifies.
  const recorded = nearest(fhir, obs, 'time-to-reperfusion', 'timeToReperfusion', presentation, (o) =>
    fhir.latestQuantity([o], { valueSet: 'time-to-reperfusion', name: 'timeToReperfusion', quantity: QUANTITIES.timeToReperfusion, now: ev.call.now, lookbackDays: ANY_AGE_DAYS }));
  if (recorded.found) {
    out.derivations.push(`Time to reperfusion ${formatHours(recorded.input.value)}: as recorded (${recorded.input.source}); not derived from a procedure because ${derived.reason}.`);
    return recorded.input;
  }
  out.missingReasons.timeToReperfusion = derived.reason;
  return undefined;
}

/** TIMI history items: a diagnosis with onset before the MI (or none recorded). Absent = unknown. */
function history(fhir: FhirReader, conditions: ResourceSource, valueSet: string, event: AcuteEvent, now: Date, reasons: Record<string, string>): Input<boolean> | undefined {
  const before = fhir.findConditions(conditions, valueSet, { now }).find((c) => {
    const onset = parseFhirDate(c.onset);
    return !onset || onset.start <= event.onset.end;
  });
  if (before) return { name: valueSet, value: true, source: before.source, ...(before.onset ?? before.recordedDate ? { date: before.onset ?? before.recordedDate } : {}) };
  reasons[valueSet] = `no ${valueSet} diagnosis before the MI in the record (absence is not taken as 'no')`;
  return undefined;
}

/** Age in whole years at the MI onset (GRACE and TIMI score the age at presentation). */
function ageAtOnset(fhir: FhirReader, patientSource: ResourceSource, event: AcuteEvent, reasons: Record<string, string>): Input<number> | undefined {
  const patient = fhir.resourcesOf(patientSource).find((r): r is Patient => r.resourceType === 'Patient');
  const age = patient?.birthDate ? ageInYears(patient.birthDate, new Date(event.onset.start)) : undefined;
  if (age === undefined) {
    reasons.age = 'no usable birth date on the Patient resource';
    return undefined;
  }
  return { name: 'age', value: age, unit: 'a', date: patient?.birthDate, source: patient?.id ? `Patient/${patient.id}` : 'Patient' };
}


// ---------------------------------------------------------------------------------------------------
// CMR measurements

function cmrInputs(obs: ResourceSource, ev: Evaluation, event: AcuteEvent | undefined, reasons: Record<string, string>): CmrInputs {
  const fhir = ev.fhir;
  const ctx = { now: ev.call.now };
  const nowMs = ctx.now.getTime();
  const window: Window = event
    ? {
        from: event.onset.start,
        to: nowMs,
        target: { start: event.onset.start + CMR_TARGET_AFTER_ONSET_MS, end: event.onset.start + CMR_TARGET_AFTER_ONSET_MS },
        describe: `after the MI onset (${event.onset.text})`,
      }
    : { from: nowMs - CMR_LOOKBACK_DAYS * DAY_MS, to: nowMs, target: { start: nowMs, end: nowMs }, describe: `in the last ${CMR_LOOKBACK_DAYS} days` };
  const take = <V extends InputValue>(l: Lookup<V>): Input<V> | undefined => {
    if (l.found) return l.input;
    reasons[l.name] = l.reason;
    return undefined;
  };
  const quantity = (valueSet: string, name: string, kind: QuantityKind) =>
    take(nearest(fhir, obs, valueSet, name, window, (o) => fhir.latestQuantity([o], { valueSet, name, quantity: kind, now: ctx.now, lookbackDays: ANY_AGE_DAYS })));

  const c: CmrInputs = {};
  // A CMR LVEF is one whose code (8811-2) or Observation.method says MR (MODELS.md 4, corrected). The
  // general code 10230-1 is often echocardiography: without an MR method it is shown as recorded and
  // never feeds the CMR risk score or a CMR threshold (derived with CMR LVEF).
  const byMr = (o: Observation): boolean => fhir.valueSetContains('lvef-mr', o.code) || fhir.valueSetContains('mr-method', o.method);
  const observations = fhir.resourcesOf(obs).filter((r): r is Observation => r.resourceType === 'Observation');
  const readLvef = (o: Observation): Lookup<number> => fhir.latestQuantity([o], { valueSet: 'lvef', name: 'lvef', quantity: QUANTITIES.lvef, now: ctx.now, lookbackDays: ANY_AGE_DAYS });
  const cmrLvef = nearest(fhir, observations.filter(byMr), 'lvef', 'lvef', window, readLvef);
  const other = nearest(fhir, observations.filter((o) => !byMr(o)), 'lvef', 'lvef', window, readLvef);
  if (other.found) {
    const stated = (other.resource.method?.coding ?? []).length > 0 || other.resource.method?.text !== undefined;
    c.lvefNotCmr = { ...other.input, name: stated ? 'lvefOtherMethod' : 'lvefMethodNotStated' };
  }
  if (cmrLvef.found) c.lvef = cmrLvef.input;
  else if (c.lvefNotCmr) {
    const o = c.lvefNotCmr;
    reasons.lvef = `an LVEF whose method is ${o.name === 'lvefMethodNotStated' ? 'not stated' : 'not MR'} (${o.value} %, ${(o.date ?? '').slice(0, 10)}) is not a CMR LVEF; ${cmrLvef.reason.replace(/^no result/, 'no CMR LVEF')}`;
  } else {
    reasons.lvef = cmrLvef.reason;
  }
  c.infarctSize = quantity('infarct-size', 'infarctSize', QUANTITIES.infarctSize);
  c.mvo = quantity('mvo-extent', 'mvo', QUANTITIES.mvo);
  c.mvoSegments = take(nearest(fhir, obs, 'mvo-segments', 'mvoSegments', window, (o) => fhir.latestInteger([o], { valueSet: 'mvo-segments', name: 'mvoSegments', units: INTEGER_UNITS.segments, now: ctx.now, lookbackDays: ANY_AGE_DAYS })));
  c.laReservoirStrain = quantity('la-reservoir-strain', 'laReservoirStrain', QUANTITIES.laReservoirStrain);
  c.lvGls = quantity('lv-gls', 'lvGls', QUANTITIES.lvGls);
  c.nativeT1 = quantity('native-t1', 'nativeT1', QUANTITIES.nativeT1);
  c.t2 = quantity('t2', 't2', QUANTITIES.t2);
  c.haemorrhage = take(nearest(fhir, obs, 'intramyocardial-haemorrhage', 'haemorrhage', window, (o) => fhir.latestBoolean([o], { valueSet: 'intramyocardial-haemorrhage', name: 'haemorrhage', now: ctx.now, lookbackDays: ANY_AGE_DAYS })));
  withDicom(c, ev.imaging?.cmr.inputs, window, reasons);
  return c;
}

/**
 * The archive's CMR report (imaging-reader.ts) beside the record: per input the newer, within the same
 * window as the FHIR values (imaging-inputs.ts). A DICOM LVEF is a CMR LVEF: it comes from an MR
 * study's report and its code says MR (sr-measurements.ts).
 */
function withDicom(c: CmrInputs, dicom: CmrImagingInputs | undefined, window: Window, reasons: Record<string, string>): void {
  if (!dicom) return;
  const inWindow = <V extends InputValue>(i: Input<V> | undefined): Input<V> | undefined => (i && datedWithin(i, window.from, window.to) ? i : undefined);
  const merged = <V extends InputValue>(name: string, fhir: Input<V> | undefined, fromDicom: Input<V> | undefined): Input<V> | undefined => {
    const chosen = newerInput(fhir, inWindow(fromDicom));
    if (chosen) delete reasons[name];
    return chosen;
  };
  for (const name of CMR_DICOM_NUMBERS) {
    const chosen = merged(name, c[name], dicom[name]);
    if (chosen) c[name] = chosen;
  }
  const haemorrhage = merged('haemorrhage', c.haemorrhage, dicom.haemorrhage);
  if (haemorrhage) c.haemorrhage = haemorrhage;
}

const CMR_DICOM_NUMBERS = ['lvef', 'infarctSize', 'mvo', 'mvoSegments', 'laReservoirStrain', 'lvGls', 'nativeT1', 't2'] as const;

/** Whether any CMR measurement was found. */
export function hasCmr(c: CmrInputs): boolean {
  // An LVEF that is not by CMR (lvefNotCmr) is not a CMR measurement.
  return [c.lvef, c.infarctSize, c.mvo, c.mvoSegments, c.laReservoirStrain, c.lvGls, c.nativeT1, c.t2, c.haemorrhage].some((i) => i !== undefined);
}
