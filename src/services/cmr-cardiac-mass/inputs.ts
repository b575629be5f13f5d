// Typed inputs of the cmr-cardiac-mass service, read from the resolved prefetch. Pure: no I/O.
//
// When the service applies (MODELS.md 2, issue cmr-cardiac-mass):
//   - an active, non-refuted Condition coded in ValueSet cardiac-mass that names the heart (project
//     code cardiac-mass, ICD-10-CM D15.1, C38.0). SNOMED CT 396339007 |Thrombus| does not name the
//     heart (profiles/README.md): a thrombus Condition alone never makes the service apply;
//   - or the most recent CMR `cardiac-mass` finding within the look-back is true.
//
// CMR diagnosis category for the Shenoy 2022 prognosis (never derived from the score):
//   1. a `mass-diagnosis` Observation (answer in ValueSet mass-diagnosis-answers), the latest within
//      the look-back and not older than the CMR study used for the features;
//   2. otherwise an active Condition with verificationStatus confirmed (or none recorded) that states
//      the category: ValueSet mass-diagnosis-malignant-conditions (C38.0) → malignant,
//      mass-diagnosis-benign-conditions (D15.1) → benign, mass-diagnosis-thrombus-conditions
//      (396339007) → thrombus, the last only when a true CMR cardiac-mass finding within the
//      look-back confirms the cardiac site. Conditions stating different categories → none.
import type { Observation } from 'fhir/r4.js';
import type { Input } from '../../models/types.ts';
import type { CmrMassScoreInputs } from '../../models/cmr-mass-score.ts';
import type { ThrombusFeatureInputs } from '../../models/thrombus-features.ts';
import { DIAGNOSES } from '../../models/mass-prognosis.ts';
import type { Evaluation, ResolvedPrefetch } from '../types.ts';
import type { ConditionMatch } from '../../fhir/conditions.ts';
import { arrayOf, inWindow, observationDate, stringOf, type DateRange, type Lookup } from '../../fhir/observations.ts';
import type { FhirReader } from '../../fhir/reader.ts';
import { QUANTITIES } from '../../fhir/quantities.ts';
import { chooseStudy, dayOf, type MassStudy, type StudyChoice } from './study.ts';
import type { MassImagingInputs } from '../../imaging/types.ts';
import { compareDates, withinLookback } from '../imaging-inputs.ts';

export interface CardiacMassInputs {
  applies: boolean;
  /** Active Conditions that state a cardiac mass (heart-specific codes). */
  massConditions: Array<Input<string>>;
  /** The most recent cardiac-mass CMR finding within the look-back. */
  finding?: Input<boolean>;
  study?: Omit<MassStudy, 'observations'>;
  noMassOnLatestCmr: boolean;
  score: CmrMassScoreInputs;
  thrombus: ThrombusFeatureInputs;
  location?: Input<string>;
  /** Shenoy 2022 category (one of DIAGNOSES), with its source. */
  diagnosis?: Input<string>;
  diagnosisFrom?: 'observation' | 'condition';
  /** Conditions stating different categories: no category is used. */
  diagnosisConflict?: string[];
  lookbackDays: number;
  /** Input name -> why it is missing (shown on the card). */
  missingReasons: Record<string, string>;
}

const BOOLEAN_FEATURES = {
  infiltration: 'mass-infiltration',
  firstPassPerfusion: 'mass-first-pass-perfusion',
  sessile: 'mass-sessile',
  polylobate: 'mass-polylobate',
  pericardialEffusion: 'mass-pericardial-effusion',
  heterogeneousEnhancement: 'mass-heterogeneous-enhancement',
  tiScoutTypical: 'mass-ti-scout-thrombus-pattern',
  lgePresent: 'mass-lge',
  homogeneous: 'mass-homogeneous',
} as const;

const CATEGORY_CONDITIONS = [
  ['malignant', 'mass-diagnosis-malignant-conditions'],
  ['benign', 'mass-diagnosis-benign-conditions'],
  ['thrombus', 'mass-diagnosis-thrombus-conditions'],
] as const;

const isObservation = (r: { resourceType: string }): r is Observation => r.resourceType === 'Observation';

/** Prefetch keys of the service (index.ts declares their templates). */
export type MassPrefetchKey = 'patient' | 'conditions' | 'observations';

export function gatherCardiacMassInputs(data: ResolvedPrefetch, ev: Evaluation): CardiacMassInputs {
  const { now } = ev.call;
  const fhir = ev.fhir;
  const lookbackDays = ev.runtime.config.bodyLookbackDays;
  const observations = fhir.resourcesOf(data.observations).filter(isObservation);
  const conditions = fhir.findConditions(data.conditions, 'cardiac-mass', { now }).filter((c) => c.active);
  const heartSpecific = conditions.filter((c) => !fhir.valueSetContains('mass-diagnosis-thrombus-conditions', c.resource.code));

  const fhirChoice = chooseStudy(fhir, observations, now, lookbackDays);
  // The archive's CMR report of a mass, when its study is at least as new as the record's (one study
  // only, study.ts): then every feature comes from that report.
  const dicom = dicomMassStudy(ev, fhirChoice, now, lookbackDays);
  const choice: StudyChoice = dicom?.choice ?? fhirChoice;
  const massFinding = choice.finding?.value === true;
  const missingReasons: Record<string, string> = {};
  const out: CardiacMassInputs = {
    applies: heartSpecific.length > 0 || massFinding,
    massConditions: heartSpecific.map(conditionInput),
    noMassOnLatestCmr: choice.noMassOnLatestCmr,
    score: {},
    thrombus: {},
    lookbackDays,
    missingReasons,
  };
  if (!out.applies) return out;
  if (choice.finding) out.finding = choice.finding;
  const study = choice.study;
  if (study) out.study = { day: study.day, linked: study.linked, ...(study.report ? { report: study.report } : {}) };

  if (dicom && study) {
    Object.assign(out, dicomFeatures(dicom.inputs, study.day, missingReasons));
    Object.assign(out, dicom.inputs.diagnosis && (DIAGNOSES as readonly string[]).includes(dicom.inputs.diagnosis.value)
      ? { diagnosis: dicom.inputs.diagnosis, diagnosisFrom: 'observation' as const }
      : diagnosisOf(fhir, observations, conditions, { now, lookbackDays, studyDay: study.day, massFinding }, missingReasons));
    return out;
  }

  // Features: from the chosen study only; a missing feature is unknown, never absent (MODELS.md 2).
  const pool = study?.observations ?? [];
  const window = { now, lookbackDays };
  const why = (vs: string, lookup: Lookup<boolean | number | string>): string => {
    if (lookup.found) return '';
    if (choice.noMassOnLatestCmr) return 'the most recent CMR records no mass';
    if (!study) return reasonWithoutStudy(fhir, observations, vs, lookbackDays, now);
    return pool.some((o) => fhir.valueSetContains(vs, o.code)) ? lookup.reason : `not reported in the CMR of ${study.day}`;
  };
  const take = <V extends boolean | number | string>(name: string, vs: string, lookup: Lookup<V>): Input<V> | undefined => {
    if (lookup.found) return { ...lookup.input, name };
    missingReasons[name] = why(vs, lookup);
    return undefined;
  };
  const flags: Partial<Record<keyof typeof BOOLEAN_FEATURES, Input<boolean>>> = {};
  for (const [name, vs] of Object.entries(BOOLEAN_FEATURES) as Array<[keyof typeof BOOLEAN_FEATURES, string]>) {
    const input = take(name, vs, fhir.latestBoolean(pool, { ...window, valueSet: vs, name }));
    if (input) flags[name] = input;
  }
  const area = take('areaCm2', 'mass-area', fhir.latestQuantity(pool, { ...window, valueSet: 'mass-area', name: 'areaCm2', quantity: QUANTITIES.massArea }));
  const diameter = take('diameterCm', 'mass-diameter', fhir.latestQuantity(pool, { ...window, valueSet: 'mass-diameter', name: 'diameterCm', quantity: QUANTITIES.massDiameter }));
  // T1 ≥ 422 ms is a post-contrast value of the mass (MODELS.md 2b): only its own code, never a native T1.
  const postContrastT1 = take('postContrastT1', 'mass-post-contrast-t1', fhir.latestQuantity(pool, { ...window, valueSet: 'mass-post-contrast-t1', name: 'postContrastT1', quantity: QUANTITIES.postContrastT1 }));
  const location = fhir.latestCode(pool, { ...window, valueSet: 'mass-location', name: 'location' });
  if (location.found) out.location = location.input;

  Object.assign(out, featureInputs(flags, { areaCm2: area, diameterCm: diameter, postContrastT1 }));

  Object.assign(out, diagnosisOf(fhir, observations, conditions, { ...window, studyDay: study?.day, massFinding }, missingReasons));
  return out;
}

/**
 * The mass report of the archive's newest CMR study with one (imaging-reader.ts), as the study of the
 * features, when it is within the look-back and not older than the record's study (imaging-inputs.ts:
 * the newer wins; on the same day the DICOM report).
 */
function dicomMassStudy(ev: Evaluation, fhirChoice: StudyChoice, now: Date, lookbackDays: number): { choice: StudyChoice; inputs: MassImagingInputs } | undefined {
  const part = ev.imaging?.mass;
  const finding = part?.inputs.finding;
  const date = finding?.date ?? part?.study?.date;
  if (!part || !finding || !date) return undefined;
  if (!withinLookback({ ...finding, date }, now, lookbackDays)) return undefined;
  const fhirDate = fhirChoice.finding?.date ?? fhirChoice.study?.day;
  if (fhirDate !== undefined && compareDates(date, fhirDate) < 0) return undefined;
  const day = date.slice(0, 10);
  return {
    inputs: part.inputs,
    choice: {
      finding,
      noMassOnLatestCmr: finding.value === false,
      ...(finding.value ? { study: { day, observations: [], linked: true, report: finding.source } } : {}),
    },
  };
}

/** The features of the archive's report: what it does not state is unknown, never absent. */
function dicomFeatures(d: MassImagingInputs, day: string, reasons: Record<string, string>): Pick<CardiacMassInputs, 'score' | 'thrombus' | 'location'> {
  const notReported = `not reported in the DICOM SR of the CMR of ${day}`;
  const pick = <V extends boolean | number | string>(name: string, i: Input<V> | undefined): Input<V> | undefined => {
    if (i === undefined) reasons[name] = notReported;
    return i;
  };
  const flags = Object.fromEntries(Object.keys(BOOLEAN_FEATURES).map((name) => [name, pick(name, d[name as keyof typeof BOOLEAN_FEATURES])])) as
    Partial<Record<keyof typeof BOOLEAN_FEATURES, Input<boolean>>>;
  return {
    ...featureInputs(flags, { areaCm2: pick('areaCm2', d.areaCm2), diameterCm: pick('diameterCm', d.diameterCm), postContrastT1: pick('postContrastT1', d.postContrastT1) }),
    ...(d.location ? { location: d.location } : {}),
  };
}

/** The features of one study as the models take them (CMR Mass Score, thrombus features). */
function featureInputs(
  flags: Partial<Record<keyof typeof BOOLEAN_FEATURES, Input<boolean>>>,
  size: { areaCm2?: Input<number>; diameterCm?: Input<number>; postContrastT1?: Input<number> },
): Pick<CardiacMassInputs, 'score' | 'thrombus'> {
  return {
    score: pickDefined({
      infiltration: flags.infiltration,
      firstPassPerfusion: flags.firstPassPerfusion,
      sessile: flags.sessile,
      polylobate: flags.polylobate,
      pericardialEffusion: flags.pericardialEffusion,
      heterogeneousEnhancement: flags.heterogeneousEnhancement,
    }),
    thrombus: pickDefined({
      tiScoutTypical: flags.tiScoutTypical,
      lgePresent: flags.lgePresent,
      firstPassPerfusionPresent: flags.firstPassPerfusion,
      areaCm2: size.areaCm2,
      diameterCm: size.diameterCm,
      homogeneous: flags.homogeneous,
      postContrastT1: size.postContrastT1,
    }),
  };
}

function conditionInput(c: ConditionMatch): Input<string> {
  const code = c.resource.code;
  // FHIR JSON from outside may hold anything: only strings are words (fuzzing tests).
  const coding = arrayOf(code?.coding).find((x) => x && (x.display || x.code));
  const text = stringOf(code?.text) ?? stringOf(coding?.display) ?? stringOf(coding?.code) ?? 'cardiac mass';
  const date = c.onset ?? c.recordedDate;
  return { name: 'massCondition', value: text, source: c.source, ...(date ? { date } : {}) };
}

/** Why a feature is missing when no CMR study qualified: never recorded, or only older results. */
function reasonWithoutStudy(fhir: FhirReader, observations: Observation[], vs: string, lookbackDays: number, now: Date): string {
  let newest: DateRange | undefined;
  let matched = false;
  for (const o of observations) {
    if (!fhir.valueSetContains(vs, o.code)) continue;
    matched = true;
    const d = observationDate(o);
    if (d && (!newest || d.start > newest.start)) newest = d;
  }
  if (!matched) return 'not recorded';
  if (newest && inWindow(newest, now, lookbackDays) === 'old') return `no result within ${lookbackDays} days (latest ${newest.text})`;
  return `no usable result within ${lookbackDays} days`;
}

function diagnosisOf(
  fhir: FhirReader,
  observations: Observation[],
  conditions: ConditionMatch[],
  opts: { now: Date; lookbackDays: number; studyDay?: string; massFinding: boolean },
  reasons: Record<string, string>,
): Pick<CardiacMassInputs, 'diagnosis' | 'diagnosisFrom' | 'diagnosisConflict'> {
  const recorded = fhir.latestCode(observations, { valueSet: 'mass-diagnosis', name: 'diagnosis', now: opts.now, lookbackDays: opts.lookbackDays });
  if (recorded.found) {
    const day = dayOf(recorded.resource);
    const known = recorded.coding !== undefined && fhir.valueSetContains('mass-diagnosis-answers', [recorded.coding]) &&
      (DIAGNOSES as readonly string[]).includes(recorded.input.value);
    if (!known) reasons.diagnosis = 'the recorded CMR diagnosis is not one of the categories (no mass, pseudomass, benign, thrombus, malignant)';
    else if (opts.studyDay !== undefined && day !== undefined && day < opts.studyDay) reasons.diagnosis = `the recorded CMR diagnosis (${day}) is older than the CMR of ${opts.studyDay}`;
    else return { diagnosis: recorded.input, diagnosisFrom: 'observation' };
  }
  const stated = new Map<string, Input<string>>();
  for (const [category, vs] of CATEGORY_CONDITIONS) {
    if (category === 'thrombus' && !opts.massFinding) continue; // site not confirmed by CMR
    const c = conditions.find((x) => confirmed(x) && fhir.valueSetContains(vs, x.resource.code));
    if (!c) continue;
    const date = c.onset ?? c.recordedDate;
    stated.set(category, { name: 'diagnosis', value: category, source: c.source, ...(date ? { date } : {}) });
  }
  if (stated.size > 1) {
    reasons.diagnosis ??= 'conditions state different categories';
    return { diagnosisConflict: [...stated.keys()] };
  }
  const only = [...stated.values()][0];
  if (only) {
    delete reasons.diagnosis;
    return { diagnosis: only, diagnosisFrom: 'condition' };
  }
  reasons.diagnosis ??= 'no CMR diagnosis of the mass recorded';
  return {};
}

/** Confirmed, or no verification status recorded (R4 allows it); provisional/differential are not a diagnosis. */
const confirmed = (c: ConditionMatch): boolean => c.verificationStatus === undefined || c.verificationStatus === 'confirmed';

function pickDefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
