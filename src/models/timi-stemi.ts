// TIMI risk score for STEMI (Morrow DA et al., Circulation 2000;102:2031–7), MODELS.md 1c
// [S, several secondary sources agree]: items, points and the 30-day mortality table.
import { PointsTally, TALLY_NOTE_SPEC, type Scored } from './points-tally.ts';
import { noteMaker, type Input, type ModelMetadata, type ModelResult, type NoteSpec } from './types.ts';

export const metadata: ModelMetadata = {
  id: 'timi-stemi',
  version: '1.0.0',
  title: 'TIMI risk score for STEMI',
  citation: 'Morrow DA et al., Circulation 2000;102:2031–7',
  // MODELS.md gives no DOI: link a PubMed search rather than guess one.
  url: 'https://pubmed.ncbi.nlm.nih.gov/?term=Morrow+DA+Circulation+2000+102+2031',
  evidence: 'secondary',
  population: 'STEMI eligible for fibrinolysis (derivation cohort of Morrow 2000)',
  notes: ['Items, points and mortality table [S]: several secondary sources agree (MODELS.md 1c).'],
};

export interface TimiStemiInputs {
  /** years */
  age?: Input<number>;
  diabetes?: Input<boolean>;
  hypertension?: Input<boolean>;
  angina?: Input<boolean>;
  /** systolic blood pressure, mmHg */
  systolicBp?: Input<number>;
  /** heart rate, bpm */
  heartRate?: Input<number>;
  /** Killip class as a number 1–4 (I–IV) */
  killipClass?: Input<number>;
  /** kg */
  weight?: Input<number>;
  /** anterior ST elevation */
  anteriorSte?: Input<boolean>;
  /** left bundle branch block */
  lbbb?: Input<boolean>;
  /** time to treatment, hours (decimal) */
  timeToTreatment?: Input<number>;
}

/** 30-day mortality (%) by score 0–8; scores > 8 share the last row (MODELS.md 1c). */
export const THIRTY_DAY_MORTALITY_PERCENT: readonly number[] = [0.8, 1.6, 2.2, 4.4, 7.3, 12.4, 16.1, 23.4, 26.8];
export const ABOVE_8_MORTALITY_PERCENT = 35.9;
export const OUTCOME = '30-day mortality';

/** Item names in words, for the notes. */
const LABELS: Record<keyof TimiStemiInputs, string> = {
  age: 'age', diabetes: 'diabetes', hypertension: 'hypertension', angina: 'angina', systolicBp: 'systolic blood pressure',
  heartRate: 'heart rate', killipClass: 'Killip class', weight: 'weight', anteriorSte: 'anterior ST elevation',
  lbbb: 'left bundle branch block', timeToTreatment: 'time to treatment',
};

export function timiMortalityPercent(score: number): number {
  return THIRTY_DAY_MORTALITY_PERCENT[score] ?? ABOVE_8_MORTALITY_PERCENT;
}


/** What a TIMI STEMI result may say (worded in cards/cmr-ihd-macce.yaml `modelNotes`). */
export const TIMI_NOTE_SPEC = {
  ...TALLY_NOTE_SPEC,
  timiNoItem: [],
  scoreAtLeast: ['min', 'count'],
  timiMortality: ['percent'],
  timiMortalityRange: ['low', 'high'],
} as const satisfies NoteSpec;
const note = noteMaker(TIMI_NOTE_SPEC);

export function computeTimiStemi(inputs: TimiStemiInputs): ModelResult {
  const tally = new PointsTally<keyof TimiStemiInputs>(inputs, LABELS);
  const { notes, contributions, missing } = tally;
  /** "A or B (or C)": 1 point if any is yes; 0 only if all are known no; otherwise unknown. */
  const anyOf = (keys: Array<keyof TimiStemiInputs>, pts: number): { scored?: Scored; unknown: string[] } => {
    const values = keys.map((k) => [k, tally.boolean(k)] as const);
    const yes = values.filter(([, v]) => v === true).map(([k]) => k);
    const unknown = values.filter(([, v]) => v === undefined).map(([k]) => k);
    if (yes.length > 0) return { scored: { points: pts, band: yes.map((k) => LABELS[k]).join(', ') }, unknown: [] };
    if (unknown.length === 0) return { scored: { points: 0, band: `none of ${keys.map((k) => LABELS[k]).join(', ')}` }, unknown };
    return { unknown };
  };

  const age = tally.number('age');
  tally.add(
    'age',
    age === undefined ? undefined : age >= 75 ? { points: 3, band: '≥75 years' } : age >= 65 ? { points: 2, band: '65–74 years' } : { points: 0, band: '<65 years' },
    { max: 3 },
  );
  const history = anyOf(['diabetes', 'hypertension', 'angina'], 1);
  tally.add('diabetesHypertensionOrAngina', history.scored, { max: 1 }, history.unknown);
  const sbp = tally.number('systolicBp');
  tally.add('systolicBp', sbp === undefined ? undefined : sbp < 100 ? { points: 3, band: 'SBP <100 mmHg' } : { points: 0, band: 'SBP ≥100 mmHg' }, { max: 3 });
  const hr = tally.number('heartRate');
  tally.add('heartRate', hr === undefined ? undefined : hr > 100 ? { points: 2, band: 'HR >100 bpm' } : { points: 0, band: 'HR ≤100 bpm' }, { max: 2 });
  const killip = tally.number('killipClass', (v) => Number.isInteger(v) && v >= 1 && v <= 4);
  tally.add('killipClass', killip === undefined ? undefined : killip >= 2 ? { points: 2, band: 'Killip II–IV' } : { points: 0, band: 'Killip I' }, { max: 2 });
  const weight = tally.number('weight', (v) => v > 0);
  tally.add('weight', weight === undefined ? undefined : weight < 67 ? { points: 1, band: '<67 kg' } : { points: 0, band: '≥67 kg' }, { max: 1 });
  const location = anyOf(['anteriorSte', 'lbbb'], 1);
  tally.add('anteriorSteOrLbbb', location.scored, { max: 1 }, location.unknown);
  const time = tally.number('timeToTreatment');
  tally.add('timeToTreatment', time === undefined ? undefined : time > 4 ? { points: 1, band: '>4 h' } : { points: 0, band: '≤4 h' }, { max: 1 });

  const base = { model: metadata.id, unit: 'points', outcome: OUTCOME, contributions, missing, inputs: tally.echoed(), metadata };
  if (contributions.length === 0) {
    return { ...base, value: null, notes: [...notes, note('timiNoItem')] };
  }

  const { known, range } = tally;
  const lo = timiMortalityPercent(range.min);
  const hi = timiMortalityPercent(range.max);
  if (missing.length > 0) {
    // The card names the missing inputs in words; the note counts them.
    notes.push(note('scoreAtLeast', { min: range.min, count: missing.length }));
  }
  // The table defines mortality per score; a range maps to one value only when both ends share a row (> 8).
  if (lo === hi) {
    notes.push(note('timiMortality', { percent: lo }));
  } else {
    notes.push(note('timiMortalityRange', { low: lo, high: hi }));
  }
  return {
    ...base,
    value: known,
    display: missing.length > 0 ? `${range.min}–${range.max}` : String(known),
    ...(missing.length > 0 ? { range } : {}),
    ...(lo === hi ? { probability: lo / 100 } : {}),
    notes,
  };
}
