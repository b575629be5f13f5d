// What each numeric input is, and which recorded units mean that quantity (issue 10, item 1;
// MODELS.md "General rules": "a value whose unit means another quantity is not that input").
//
// UCUM converts between any two units of the same dimension, and every pure number is one dimension:
// 30 % converts to the INR unit '1' as 0.3, 45 % to 4500 cm²/m² (an SMI is an area per area). So an
// input does not only name the unit its model takes; it declares the units that mean its quantity:
//   - 'convertible': any unit UCUM converts to the target. Safe only where the target has a physical
//     dimension shared by no other quantity a site would send under these codes (a mass concentration,
//     a length, a pressure, a time); never for a pure-number target (test/unit/fhir/quantities.test.ts
//     enforces it).
//   - a list: exactly these UCUM codes ('' = no unit recorded).
// A value in another unit is skipped and named in the missing reason, with what that unit measures
// when it is a known confusion (`otherQuantities`). `range` is a definitional bound of the converted
// value (a percentage of the left ventricle lies in 0–100 %): outside it the unit cannot be right
// (an LVEF of 35 recorded with unit '1' would be 3500 %).
//
// The verdict for every input the three services read is listed in profiles/README.md ("Units").
import type { Analyte } from './units.ts';

export interface QuantityKind {
  /** The quantity in words, for missing reasons on the card ("an INR"). */
  what: string;
  /** UCUM unit the model takes; accepted values are converted to it. */
  unit: string;
  /** Substance facts for mole ↔ mass conversion (units.ts ANALYTES). */
  analyte?: Analyte;
  accepts: 'convertible' | readonly string[];
  /** Recorded units (UCUM, normalised) known to mean another quantity, and what they measure. */
  otherQuantities?: Readonly<Record<string, string>>;
  /** Definitional bounds of the converted value. */
  range?: { min: number; max: number };
}

/** 0–100 % of a whole (the left ventricle): a fraction in '1' is the same quantity, × 100. */
const PERCENT_OF_LV = { accepts: ['%', '1'], range: { min: 0, max: 100 } } as const;

export const QUANTITIES = {
  // Laboratory (MODELS.md 3a–3d, 1b). Mass and molar concentrations; the analyte lets UCUM cross them.
  bilirubin: { what: 'a total bilirubin concentration', unit: 'mg/dL', analyte: 'bilirubin', accepts: 'convertible' },
  creatinine: { what: 'a creatinine concentration', unit: 'mg/dL', analyte: 'creatinine', accepts: 'convertible' },
  sodium: { what: 'a sodium concentration', unit: 'mmol/L', analyte: 'sodium', accepts: 'convertible' },
  albumin: {
    what: 'an albumin concentration', unit: 'g/dL', accepts: 'convertible',
    // Serum protein electrophoresis reports albumin as a share of total protein.
    otherQuantities: { '%': 'a fraction of total protein (electrophoresis), not an albumin concentration' },
  },
  // INR is a ratio (MODELS.md 3c): only '1', {INR}, {ratio} or no unit. A % is prothrombin activity
  // (Quick), which falls as the INR rises; UCUM would turn 30 % into 0.3.
  inr: {
    what: 'an INR', unit: '1', accepts: ['', '1', '{INR}', '{ratio}'],
    otherQuantities: { '%': 'prothrombin activity (Quick), not an INR', s: 'a prothrombin time in seconds, not an INR' },
  },
  // Body measurements.
  height: { what: 'a body height', unit: 'm', accepts: 'convertible' },
  weight: { what: 'a body weight', unit: 'kg', accepts: 'convertible' },
  bmi: { what: 'a body mass index', unit: 'kg/m2', accepts: 'convertible' },
  // CT L3 muscle. An SMI is an area per body surface (cm²/m²), a pure number to UCUM: only that unit.
  muscleArea: { what: 'a skeletal muscle area', unit: 'cm2', accepts: 'convertible' },
  smi: { what: 'a skeletal muscle index', unit: 'cm2/m2', accepts: ['cm2/m2'] },
  // Vital signs at admission (GRACE, TIMI).
  heartRate: { what: 'a heart rate', unit: '/min', accepts: 'convertible' },
  systolicBp: { what: 'a systolic blood pressure', unit: 'mm[Hg]', accepts: 'convertible' },
  timeToReperfusion: { what: 'a time to reperfusion', unit: 'h', accepts: 'convertible' },
  // CMR (MODELS.md 1a, 1d). Percentages of the left ventricle; strain only in %.
  lvef: { what: 'an ejection fraction', unit: '%', ...PERCENT_OF_LV },
  infarctSize: { what: 'an infarct size in % of the LV', unit: '%', ...PERCENT_OF_LV, otherQuantities: { g: 'an infarct mass, not a percentage of the LV' } },
  mvo: { what: 'a microvascular obstruction in % of the LV', unit: '%', ...PERCENT_OF_LV, otherQuantities: { g: 'an obstruction mass, not a percentage of the LV' } },
  laReservoirStrain: { what: 'a strain in %', unit: '%', accepts: ['%'] },
  lvGls: { what: 'a strain in %', unit: '%', accepts: ['%'] },
  // Relaxation times: seconds convert to ms exactly (a T1 of 1.012 s is 1012 ms).
  nativeT1: { what: 'a T1 relaxation time', unit: 'ms', accepts: 'convertible' },
  t2: { what: 'a T2 relaxation time', unit: 'ms', accepts: 'convertible' },
  postContrastT1: { what: 'a T1 relaxation time', unit: 'ms', accepts: 'convertible' },
  // Extracellular volume: a percentage of the myocardium, like the LV shares above.
  ecv: { what: 'an extracellular volume fraction in %', unit: '%', ...PERCENT_OF_LV },
  // Cardiac mass size (MODELS.md 2b).
  massArea: { what: 'an area', unit: 'cm2', accepts: 'convertible' },
  massDiameter: { what: 'a length', unit: 'cm', accepts: 'convertible' },
} as const satisfies Record<string, QuantityKind>;

export type QuantityName = keyof typeof QUANTITIES;

/** Integer inputs read as a unitless quantity: the units that mean a count or a grade. */
export const INTEGER_UNITS = {
  grade: ['', '1'],
  segments: ['', '1', '{segments}'],
} as const satisfies Record<string, readonly string[]>;

export type IntegerUnitsName = keyof typeof INTEGER_UNITS;
