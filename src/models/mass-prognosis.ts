// Prognosis by CMR diagnosis of a suspected cardiac mass: Shenoy C et al., Eur Heart J 2022;43:71–80,
// doi:10.1093/eurheartj/ehab635 (MODELS.md 2c) [P]. A lookup of the cohort's observed outcomes.
import { noteMaker, type Input, type ModelMetadata, type ModelNote, type ModelResult, type NoteSpec } from './types.ts';

export const metadata: ModelMetadata = {
  id: 'mass-prognosis-shenoy-2022',
  version: '1.0.0',
  title: '5-year all-cause mortality by CMR diagnosis of a cardiac mass',
  citation: 'Shenoy C et al., Eur Heart J 2022;43:71–80, doi:10.1093/eurheartj/ehab635',
  url: 'https://doi.org/10.1093/eurheartj/ehab635',
  evidence: 'primary',
  population: 'Patients referred for CMR for a suspected cardiac mass',
  notes: ['Cohort-level observed mortality for the CMR diagnosis, not an individual prediction.'],
};

export const DIAGNOSES = ['no-mass', 'pseudomass', 'benign', 'thrombus', 'malignant'] as const;
export type MassDiagnosis = (typeof DIAGNOSES)[number];

/** MODELS.md 2c: 5-year all-cause mortality (%) and mortality HR vs no mass where reported. */
export const MASS_PROGNOSIS: Readonly<Record<MassDiagnosis, { fiveYearMortalityPercent: number; hrVsNoMass?: number }>> = {
  'no-mass': { fiveYearMortalityPercent: 22 },
  pseudomass: { fiveYearMortalityPercent: 26 },
  benign: { fiveYearMortalityPercent: 17 },
  thrombus: { fiveYearMortalityPercent: 36, hrVsNoMass: 1.46 },
  malignant: { fiveYearMortalityPercent: 73, hrVsNoMass: 3.31 },
};

/** Accuracy of the CMR diagnosis in the same study (MODELS.md 2c). */
export const CMR_DIAGNOSIS_ACCURACY_PERCENT = 98.4;
export const OUTCOME = '5-year all-cause mortality';

export interface MassPrognosisInputs {
  /** CMR diagnosis category: one of DIAGNOSES */
  diagnosis?: Input<string>;
}

/** What a prognosis result may say (worded in cards/cmr-cardiac-mass.yaml `modelNotes`). */
export const MASS_PROGNOSIS_NOTE_SPEC = {
  noDiagnosis: [],
  unknownDiagnosis: ['value', 'categories'],
  cohortMortality: ['diagnosis', 'mortality', 'outcome'],
  hrVsNoMass: ['hr'],
  diagnosisAccuracy: ['accuracy'],
} as const satisfies NoteSpec;
const note = noteMaker(MASS_PROGNOSIS_NOTE_SPEC);

const isDiagnosis = (v: unknown): v is MassDiagnosis => typeof v === 'string' && (DIAGNOSES as readonly string[]).includes(v);

export function computeMassPrognosis(inputs: MassPrognosisInputs): ModelResult {
  const input = inputs.diagnosis;
  const base = { model: metadata.id, unit: '%', outcome: OUTCOME, metadata, inputs: input ? [input] : [] };
  if (!isDiagnosis(input?.value)) {
    const notes = [
      input === undefined ? note('noDiagnosis') : note('unknownDiagnosis', { value: String(input.value), categories: DIAGNOSES.join(', ') }),
    ];
    return { ...base, value: null, contributions: [], missing: ['diagnosis'], notes };
  }
  const dx = input.value;
  const row = MASS_PROGNOSIS[dx];
  const notes: ModelNote[] = [note('cohortMortality', { diagnosis: dx, mortality: row.fiveYearMortalityPercent, outcome: OUTCOME })];
  if (row.hrVsNoMass !== undefined) notes.push(note('hrVsNoMass', { hr: row.hrVsNoMass }));
  notes.push(note('diagnosisAccuracy', { accuracy: CMR_DIAGNOSIS_ACCURACY_PERCENT }));
  return {
    ...base,
    value: row.fiveYearMortalityPercent,
    display: `${row.fiveYearMortalityPercent} %`,
    probability: row.fiveYearMortalityPercent / 100,
    contributions: [{ input: 'diagnosis', band: dx }],
    missing: [],
    notes,
  };
}
