// Small FHIR R4 builders for the synthetic demo patients. Every date is computed from `now`, so the
// demo never goes stale (labs a few days old, CMR last week, ...). Every Observation is `final`,
// categorised, has a subject and an effectiveDateTime, and quantities are UCUM-coded.
import type {
  CodeableConcept,
  FhirResource,
  Coding,
  Condition,
  Observation,
  Patient,
  Procedure,
  Quantity,
  Reference,
} from 'fhir/r4.js';
import { CANONICAL_BASE, ICD10CM, LOINC, PROJECT_CODESYSTEM, SNOMED, UCUM } from '../../fhir/canonical.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Identifier system of the demo's medical record numbers (fictional, example.org-based). */
export const DEMO_MRN_SYSTEM = `${CANONICAL_BASE}/demo/mrn`;

export type ObservationCategory = 'laboratory' | 'vital-signs' | 'imaging' | 'exam' | 'procedure';

const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

/** The demo's "now": every date is relative to it. */
export interface DemoClock {
  now: Date;
}

/** One synthetic patient: its resources and a one-line description of the scenario for the demo EHR. */
export interface DemoPatient {
  id: string;
  scenario: string;
  resources: FhirResource[];
}

export function daysAgo(clock: DemoClock, days: number): Date {
  return new Date(clock.now.getTime() - days * DAY_MS);
}

export function hoursAfter(t: Date, hours: number): Date {
  return new Date(t.getTime() + hours * HOUR_MS);
}

export const iso = (t: Date): string => t.toISOString();

/** A birth date that makes the patient `years` old today (birthday `extraDays` ago). */
export function birthDateForAge(clock: DemoClock, years: number, extraDays = 100): string {
  const d = new Date(clock.now.getTime() - extraDays * DAY_MS);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  return d.toISOString().slice(0, 10);
}

export const loinc = (code: string, text: string): CodeableConcept => ({ coding: [{ system: LOINC, code }], text });
export const snomed = (code: string, text: string, display?: string): CodeableConcept => ({
  coding: [display ? { system: SNOMED, code, display } : { system: SNOMED, code }],
  text,
});
export const icd10cm = (code: string, display: string): CodeableConcept => ({
  coding: [{ system: ICD10CM, code, display }],
  text: display,
});
export const project = (code: string, text: string): CodeableConcept => ({
  coding: [{ system: PROJECT_CODESYSTEM, code }],
  text,
});

export function ucum(value: number, code: string, unit: string = code): Quantity {
  return { value, unit, system: UCUM, code };
}

export type ObservationValue =
  | { quantity: Quantity }
  | { boolean: boolean }
  | { integer: number }
  | { concept: CodeableConcept };

export interface ObservationSpec {
  /** Suffix of the resource id: `<patientId>-<key>`. */
  key: string;
  code: CodeableConcept;
  category: ObservationCategory;
  at: Date;
  value?: ObservationValue;
  referenceHigh?: Quantity;
  interpretation?: 'H' | 'L' | 'N';
  bodySite?: CodeableConcept;
  note?: string;
}

/** Builders bound to one patient: ids are `<patientId>-<key>`, references are relative. */
export function forPatient(patientId: string) {
  const subject: Reference = { reference: `Patient/${patientId}` };
  const idOf = (key: string): string => `${patientId}-${key}`;

  function observation(spec: ObservationSpec): Observation {
    const obs: Observation = {
      resourceType: 'Observation',
      id: idOf(spec.key),
      status: 'final',
      category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: spec.category }] }],
      code: spec.code,
      subject,
      effectiveDateTime: iso(spec.at),
      issued: iso(spec.at),
    };
    const v = spec.value;
    if (v && 'quantity' in v) obs.valueQuantity = v.quantity;
    else if (v && 'boolean' in v) obs.valueBoolean = v.boolean;
    else if (v && 'integer' in v) obs.valueInteger = v.integer;
    else if (v && 'concept' in v) obs.valueCodeableConcept = v.concept;
    if (spec.bodySite) obs.bodySite = spec.bodySite;
    if (spec.interpretation) {
      obs.interpretation = [{ coding: [{ system: INTERPRETATION, code: spec.interpretation }] }];
    }
    if (spec.referenceHigh) obs.referenceRange = [{ high: spec.referenceHigh }];
    if (spec.note) obs.note = [{ text: spec.note }];
    return obs;
  }

  /** Shorthand for the common case: a numeric, UCUM-coded result. */
  const quantity = (
    key: string,
    code: CodeableConcept,
    category: ObservationCategory,
    at: Date,
    value: number,
    ucumCode: string,
    unit?: string,
  ): Observation => observation({ key, code, category, at, value: { quantity: ucum(value, ucumCode, unit) } });

  const flag = (key: string, code: CodeableConcept, category: ObservationCategory, at: Date, value: boolean): Observation =>
    observation({ key, code, category, at, value: { boolean: value } });

  /** A blood pressure panel (LOINC 85354-9) with systolic and diastolic components, as most EHRs send it. */
  function bloodPressure(key: string, at: Date, systolic: number, diastolic: number): Observation {
    const obs = observation({ key, code: loinc('85354-9', 'Blood pressure'), category: 'vital-signs', at });
    obs.component = [
      { code: loinc('8480-6', 'Systolic blood pressure'), valueQuantity: ucum(systolic, 'mm[Hg]', 'mmHg') },
      { code: loinc('8462-4', 'Diastolic blood pressure'), valueQuantity: ucum(diastolic, 'mm[Hg]', 'mmHg') },
    ];
    return obs;
  }

  function condition(spec: {
    key: string;
    code: CodeableConcept;
    onset: Date;
    status?: 'active' | 'resolved' | 'inactive';
    severity?: Coding;
    bodySite?: CodeableConcept;
    category?: 'problem-list-item' | 'encounter-diagnosis';
  }): Condition {
    const c: Condition = {
      resourceType: 'Condition',
      id: idOf(spec.key),
      clinicalStatus: { coding: [{ system: CONDITION_CLINICAL, code: spec.status ?? 'active' }] },
      verificationStatus: { coding: [{ system: CONDITION_VERIFICATION, code: 'confirmed' }] },
      category: [{ coding: [{ system: CONDITION_CATEGORY, code: spec.category ?? 'problem-list-item' }] }],
      code: spec.code,
      subject,
      onsetDateTime: iso(spec.onset),
      recordedDate: iso(spec.onset),
    };
    if (spec.severity) c.severity = { coding: [spec.severity], text: spec.severity.display ?? spec.severity.code ?? '' };
    if (spec.bodySite) c.bodySite = [spec.bodySite];
    return c;
  }

  function procedure(spec: { key: string; code: CodeableConcept; at: Date; reasonKey?: string }): Procedure {
    const p: Procedure = {
      resourceType: 'Procedure',
      id: idOf(spec.key),
      status: 'completed',
      code: spec.code,
      subject,
      performedDateTime: iso(spec.at),
    };
    if (spec.reasonKey) p.reasonReference = [{ reference: `Condition/${idOf(spec.reasonKey)}` }];
    return p;
  }

  function patient(spec: {
    given: string;
    family: string;
    gender: 'female' | 'male';
    birthDate: string;
    mrn: string;
  }): Patient {
    return {
      resourceType: 'Patient',
      id: patientId,
      identifier: [{ system: DEMO_MRN_SYSTEM, value: spec.mrn }],
      active: true,
      name: [{ use: 'official', family: spec.family, given: [spec.given] }],
      gender: spec.gender,
      birthDate: spec.birthDate,
    };
  }

  return { subject, idOf, observation, quantity, flag, bloodPressure, condition, procedure, patient };
}

/** Common codes of the demo data (MODELS.md §4 and the project CodeSystem). */
export const CODES = {
  // Labs (LOINC)
  bilirubinMass: loinc('1975-2', 'Bilirubin, total'),
  bilirubinMoles: loinc('14631-6', 'Bilirubin, total'),
  creatinineMass: loinc('2160-0', 'Creatinine'),
  creatinineMoles: loinc('14682-9', 'Creatinine'),
  albumin: loinc('1751-7', 'Albumin'),
  sodium: loinc('2951-2', 'Sodium'),
  inr: loinc('6301-6', 'INR'),
  troponinTHs: loinc('67151-1', 'Troponin T, high sensitivity'),
  troponinIHs: loinc('89579-7', 'Troponin I, high sensitivity'),
  // Vital signs (LOINC)
  height: loinc('8302-2', 'Body height'),
  weight: loinc('29463-7', 'Body weight'),
  heartRate: loinc('8867-4', 'Heart rate'),
  systolicBp: loinc('8480-6', 'Systolic blood pressure'),
  // CMR (LOINC, project codes)
  lvefMr: loinc('8811-2', 'Left ventricular ejection fraction (CMR)'),
  /** LVEF of unstated method (often echocardiography): never a CMR LVEF. */
  lvef: loinc('10230-1', 'Left ventricular ejection fraction'),
  infarctSize: project('infarct-size', 'Infarct size (LGE, % of LV mass)'),
  mvoExtent: project('mvo-extent', 'Microvascular obstruction (% of LV mass)'),
  mvoSegments: project('mvo-segments', 'Microvascular obstruction (AHA segments)'),
  lvGls: project('lv-gls', 'LV global longitudinal strain'),
  laReservoirStrain: project('la-reservoir-strain', 'LA reservoir strain'),
  nativeT1: project('native-t1', 'Native T1'),
  t2: project('t2', 'T2'),
  ecv: project('ecv', 'Extracellular volume fraction'),
  haemorrhage: project('intramyocardial-haemorrhage', 'Intramyocardial haemorrhage'),
  // Clinical (project codes)
  killip: project('killip-class', 'Killip class'),
  stDeviation: project('st-deviation', 'ST-segment deviation'),
  timeToReperfusion: project('time-to-reperfusion', 'Time from symptom onset to reperfusion'),
  cardiacArrest: project('cardiac-arrest-at-admission', 'Cardiac arrest at admission'),
  anteriorSteOrLbbb: project('anterior-ste-or-lbbb', 'Anterior ST elevation or LBBB'),
  // Liver
  ascitesSeverity: project('ascites-severity', 'Ascites severity'),
  encephalopathyGrade: project('hepatic-encephalopathy-grade', 'Hepatic encephalopathy grade (West Haven)'),
  l3MuscleArea: project('l3-skeletal-muscle-area', 'Skeletal muscle area at L3 (CT)'),
  l3Smi: project('l3-smi', 'Skeletal muscle index at L3 (CT)'),
  // Cardiac mass (project codes)
  cardiacMass: project('cardiac-mass', 'Cardiac mass'),
  massInfiltration: project('mass-infiltration', 'Mass: infiltration'),
  massFirstPass: project('mass-first-pass-perfusion', 'Mass: first-pass contrast perfusion'),
  massSessile: project('mass-sessile', 'Mass: sessile'),
  massPolylobate: project('mass-polylobate', 'Mass: polylobate'),
  massEffusion: project('mass-pericardial-effusion', 'Mass: pericardial effusion'),
  massHeterogeneous: project('mass-heterogeneous-enhancement', 'Mass: heterogeneous enhancement'),
  massTiScout: project('mass-ti-scout-thrombus-pattern', 'Mass: TI-scout thrombus pattern'),
  massLge: project('mass-lge', 'Mass: late gadolinium enhancement'),
  massHomogeneous: project('mass-homogeneous', 'Mass: homogeneous'),
  massArea: project('mass-area', 'Mass: area'),
  massDiameter: project('mass-diameter', 'Mass: maximal diameter'),
  massPostContrastT1: project('mass-post-contrast-t1', 'Mass: post-contrast T1'),
  massLocation: project('mass-location', 'Mass: location'),
  // Conditions and procedures (SNOMED CT)
  cirrhosis: snomed('19943007', 'Cirrhosis of liver', 'Cirrhosis of liver'),
  ascites: snomed('389026000', 'Ascites', 'Ascites'),
  hypertension: snomed('38341003', 'Hypertension', 'Hypertensive disorder, systemic arterial'),
  diabetes: snomed('73211009', 'Diabetes mellitus', 'Diabetes mellitus'),
  stemi: snomed('401303003', 'Acute ST segment elevation myocardial infarction', 'Acute ST segment elevation myocardial infarction'),
  nstemi: snomed('401314000', 'Acute non-ST segment elevation myocardial infarction', 'Acute non-ST segment elevation myocardial infarction'),
  mi: snomed('22298006', 'Myocardial infarction', 'Myocardial infarction'),
  ihd: snomed('414545008', 'Ischaemic heart disease', 'Ischemic heart disease'),
  thrombus: snomed('396339007', 'Left ventricular thrombus'),
  pci: snomed('415070008', 'Percutaneous coronary intervention', 'Percutaneous coronary intervention'),
  // Body sites (SNOMED CT body structures)
  rightAtrium: snomed('73829009', 'Right atrium', 'Right atrial structure'),
  leftAtrium: snomed('82471001', 'Left atrium', 'Left atrial structure'),
  leftVentricle: snomed('87878005', 'Left ventricle', 'Left ventricular structure'),
} as const;

export const SEVERITY_MODERATE: Coding = { system: SNOMED, code: '6736007', display: 'Moderate' };

/** Values of the project's mass-location concept (ValueSet mass-location-answers). */
export const massLocation = (code: 'left-atrium' | 'right-atrium' | 'left-ventricle'): CodeableConcept =>
  project(code, code === 'left-atrium' ? 'Left atrium' : code === 'right-atrium' ? 'Right atrium' : 'Left ventricle');

/** Values of the project's ascites-severity concept (none | slight | moderate-severe). */
export const ascitesSeverity = (code: 'none' | 'slight' | 'moderate-severe'): CodeableConcept =>
  project(code, code === 'moderate-severe' ? 'Moderate to severe' : code === 'slight' ? 'Slight' : 'None');
