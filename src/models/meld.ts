// MELD (original) and MELD-Na as the OPTN computes them: OPTN Policy 9.1.D (2016), MODELS.md 3b [P].
// Every constant below is from MODELS.md 3b.
import { noteMaker, type Contribution, type Input, type ModelMetadata, type ModelNote, type ModelResult, type NoteSpec } from './types.ts';
import { BOUND_NOTE_SPEC, bound, declined, fmt, numeric, present } from './cirrhosis-common.ts';
import type { Bounded } from './cirrhosis-common.ts';

// MODELS.md gives no URL for the policy: the OPTN's policies page (policy 9.1.D is in the current PDF).
const OPTN_POLICIES_URL = 'https://optn.transplant.hrsa.gov/policies-bylaws/policies/';
const COMMON_NOTES = [
  'Laboratory values below 1.0 are set to 1.0; creatinine is capped at 4.0 mg/dL, and set to 4.0 after ≥ 2 dialysis treatments or 24 h of CVVHD in the prior week.',
  'MELD(i) is rounded to the tenth and multiplied by 10; the maximum score is 40.',
];

export const meldMetadata: ModelMetadata = {
  id: 'meld',
  version: '1.0.0',
  title: 'MELD (original, OPTN policy 9.1.D)',
  citation: 'OPTN Policy 9.1.D: MELD score (2016)',
  url: OPTN_POLICIES_URL,
  evidence: 'primary',
  population: 'Liver transplant candidates ≥ 12 years with end-stage liver disease',
  notes: COMMON_NOTES,
};

export const meldNaMetadata: ModelMetadata = {
  id: 'meld-na',
  version: '1.0.0',
  title: 'MELD-Na (OPTN policy 9.1.D)',
  citation: 'OPTN Policy 9.1.D: MELD score (2016)',
  url: OPTN_POLICIES_URL,
  evidence: 'primary',
  population: 'Liver transplant candidates ≥ 12 years with end-stage liver disease',
  notes: [
    ...COMMON_NOTES,
    'If MELD(i) > 11: MELD = MELD(i) + 1.32 × (137 − Na) − 0.033 × MELD(i) × (137 − Na), sodium bounded to 125–137 mmol/L.',
    'The policy does not round MELD-Na: the value is unrounded; the integer display is a convention.',
  ],
};

// MELD(i) = 0.957·ln(Cr) + 0.378·ln(bili) + 1.120·ln(INR) + 0.643 (MODELS.md 3b).
const CR = 0.957;
const BILI = 0.378;
const INR = 1.12;
const INTERCEPT = 0.643;
const LAB_FLOOR = 1.0;
/** Creatinine cap, also the value after dialysis (MODELS.md 3b). */
export const MELD_CREATININE_CAP = 4.0;
const CR_CAP = MELD_CREATININE_CAP;
const MAX_SCORE = 40;
// Sodium adjustment above MELD(i) 11 (MODELS.md 3b).
const NA_THRESHOLD = 11;
const NA_COEF = 1.32;
const NA_X_MELD = 0.033;
const NA_MIN = 125;
const NA_MAX = 137;

export interface MeldInputs {
  bilirubin?: Input<number>; // mg/dL
  inr?: Input<number>;
  creatinine?: Input<number>; // mg/dL
  /**
   * ≥ 2 dialysis treatments or 24 h of CVVHD in the prior week. Absent means unknown: listed missing
   * when it could change the score (creatinine < 4.0), and the range covers it. Pass false when the
   * record was searched and shows none.
   */
  dialysis?: Input<boolean>;
}

export interface MeldNaInputs extends MeldInputs {
  sodium?: Input<number>; // mmol/L
}

/** MELD(i) from bounded labs: round to the tenth, × 10 (an integer). */
export function meldI(creatinine: number, bilirubin: number, inr: number): number {
  return Math.round(10 * (CR * Math.log(creatinine) + BILI * Math.log(bilirubin) + INR * Math.log(inr) + INTERCEPT));
}

/** MELD-Na from MELD(i) and sodium, before the cap at 40 (unrounded, as the policy writes it). */
export function meldNaFromMeldI(mi: number, sodium: number): number {
  if (mi <= NA_THRESHOLD) return mi;
  const na = Math.min(NA_MAX, Math.max(NA_MIN, sodium));
  return mi + NA_COEF * (NA_MAX - na) - NA_X_MELD * mi * (NA_MAX - na);
}

/** What a MELD or MELD-Na result may say (worded in cards/cirrhosis-sarcopenia.yaml `modelNotes`). */
export const MELD_NOTE_SPEC = {
  ...BOUND_NOTE_SPEC,
  meldDialysis: ['cap'],
  meldDialysisUnknown: [],
  meldCapped: ['score', 'max'],
  sodiumNotNeeded: ['meldI', 'threshold'],
  noSodiumAdjustment: ['meldI', 'threshold'],
} as const satisfies NoteSpec;
const note = noteMaker(MELD_NOTE_SPEC);

interface Scenario { mi: number; contributions: Contribution[]; notes: ModelNote[] }

/** MELD(i) with its terms (×10, so that they add up to the score) and the bound notes. */
function scenario(bili0: number, inr0: number, cr0: number, dialysis: boolean): Scenario {
  const notes: ModelNote[] = [];
  const keep = (b: Bounded): number => { if (b.note) notes.push(b.note); return b.value; };
  const bili = keep(bound('Bilirubin', bili0, 'mg/dL', { floor: LAB_FLOOR }));
  const inr = keep(bound('INR', inr0, '', { floor: LAB_FLOOR }));
  let cr: number;
  if (dialysis) {
    cr = CR_CAP;
    notes.push(note('meldDialysis', { cap: CR_CAP.toFixed(1) }));
  } else {
    cr = keep(bound('Creatinine', cr0, 'mg/dL', { floor: LAB_FLOOR, cap: CR_CAP }));
  }
  const contributions: Contribution[] = [
    { input: 'creatinine', term: 10 * CR * Math.log(cr), band: `${fmt(cr)} mg/dL` },
    { input: 'bilirubin', term: 10 * BILI * Math.log(bili), band: `${fmt(bili)} mg/dL` },
    { input: 'inr', term: 10 * INR * Math.log(inr), band: fmt(inr) },
    { input: 'intercept', term: 10 * INTERCEPT },
  ];
  const mi = meldI(cr, bili, inr);
  const unrounded = contributions.reduce((s, c) => s + (c.term ?? 0), 0);
  contributions.push({ input: 'rounding', term: mi - unrounded, band: `MELD(i) rounded to the tenth × 10 = ${mi}` });
  return { mi, contributions, notes };
}

type Labs = { bili: number; inr: number; cr: number };

function labsOf(inputs: MeldInputs, missing: string[]): Labs | undefined {
  const bili = numeric(inputs.bilirubin);
  const inr = numeric(inputs.inr);
  const cr = numeric(inputs.creatinine);
  if (bili === undefined) missing.push('bilirubin');
  if (inr === undefined) missing.push('inr');
  if (cr === undefined) missing.push('creatinine');
  return bili === undefined || inr === undefined || cr === undefined ? undefined : { bili, inr, cr };
}

/** Lowest and highest MELD(i): an unrecorded dialysis status is off for the low, on for the high. */
function scenarios(labs: Labs, dialysis: boolean | undefined, missing: string[]): { low: Scenario; high: Scenario } {
  const dialysisMatters = dialysis === undefined && labs.cr < CR_CAP;
  if (dialysisMatters) missing.push('dialysis');
  const low = scenario(labs.bili, labs.inr, labs.cr, dialysis === true);
  const high = dialysisMatters ? scenario(labs.bili, labs.inr, labs.cr, true) : low;
  if (dialysisMatters) low.notes.push(note('meldDialysisUnknown'));
  return { low, high };
}

function capped(score: number, contributions: Contribution[], notes: ModelNote[]): number {
  if (score <= MAX_SCORE) return score;
  contributions.push({ input: 'cap', term: MAX_SCORE - score, band: 'maximum 40' });
  notes.push(note('meldCapped', { score: fmt(score), max: MAX_SCORE }));
  return MAX_SCORE;
}

function result(metadata: ModelMetadata, value: number, max: number, s: Scenario, missing: string[], used: Input[], extraNotes: ModelNote[] = []): ModelResult {
  const notes = [...s.notes, ...extraNotes];
  return {
    model: metadata.id,
    value,
    unit: 'points',
    display: String(Math.round(value)),
    ...(max - value > 1e-9 ? { range: { min: value, max } } : {}),
    contributions: s.contributions,
    missing,
    inputs: used,
    metadata,
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** Original MELD (model id 'meld'): MELD(i) as the OPTN computes it, maximum 40. */
export function computeMeld(inputs: MeldInputs): ModelResult {
  const used = present(inputs.bilirubin, inputs.inr, inputs.creatinine, inputs.dialysis);
  const missing: string[] = [];
  const labs = labsOf(inputs, missing);
  if (labs === undefined) return declined(meldMetadata, 'points', missing, used);
  const { low, high } = scenarios(labs, inputs.dialysis?.value, missing);
  const value = capped(low.mi, low.contributions, low.notes);
  return result(meldMetadata, value, Math.min(high.mi, MAX_SCORE), low, missing, used);
}

/** MELD-Na (model id 'meld-na'): sodium adjustment only when MELD(i) > 11; unrounded; maximum 40. */
export function computeMeldNa(inputs: MeldNaInputs): ModelResult {
  const used = present(inputs.bilirubin, inputs.inr, inputs.creatinine, inputs.sodium, inputs.dialysis);
  const missing: string[] = [];
  const labs = labsOf(inputs, missing);
  const sodium = numeric(inputs.sodium);
  if (labs === undefined) {
    if (sodium === undefined) missing.push('sodium');
    return declined(meldNaMetadata, 'points', missing, used);
  }
  const { low, high } = scenarios(labs, inputs.dialysis?.value, missing);
  const extra: ModelNote[] = [];
  if (sodium === undefined) {
    // Sodium only enters above MELD(i) 11 (OPTN 9.1.D): below that it is not needed.
    if (high.mi > NA_THRESHOLD) return declined(meldNaMetadata, 'points', ['sodium', ...missing], used);
    extra.push(note('sodiumNotNeeded', { meldI: low.mi, threshold: NA_THRESHOLD }));
  } else if (low.mi > NA_THRESHOLD) {
    const na = bound('Sodium', sodium, 'mmol/L', { floor: NA_MIN, cap: NA_MAX });
    if (na.note) extra.push(na.note);
    low.contributions.push({ input: 'sodium', term: meldNaFromMeldI(low.mi, sodium) - low.mi, band: `${fmt(na.value)} mmol/L` });
  } else {
    extra.push(note('noSodiumAdjustment', { meldI: low.mi, threshold: NA_THRESHOLD }));
  }
  const value = capped(meldNaFromMeldI(low.mi, sodium ?? NA_MAX), low.contributions, extra);
  const max = Math.min(meldNaFromMeldI(high.mi, sodium ?? NA_MAX), MAX_SCORE);
  return result(meldNaMetadata, value, max, low, missing, used, extra);
}
