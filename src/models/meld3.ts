// MELD 3.0 — Kim WR et al., Gastroenterology 2021;161:1887–1895.e4, doi:10.1053/j.gastro.2021.08.050.
// Every constant below is from MODELS.md 3a ([P] abstract; formula [S], two secondary sources agree).
import { noteMaker, type Contribution, type Input, type ModelMetadata, type ModelNote, type ModelResult, type NoteSpec } from './types.ts';
import { BOUND_NOTE_SPEC, bound, declined, fmt, numeric, present, sexOf } from './cirrhosis-common.ts';
import type { Bounded } from './cirrhosis-common.ts';

export const metadata: ModelMetadata = {
  id: 'meld-3.0',
  version: '1.0.0',
  title: 'MELD 3.0',
  citation: 'Kim WR et al., Gastroenterology 2021;161:1887–1895.e4',
  url: 'https://doi.org/10.1053/j.gastro.2021.08.050',
  // The formula was read only in secondary sources (MODELS.md 3a tags it [S]).
  evidence: 'secondary',
  population: 'Patients ≥ 12 years with cirrhosis / end-stage liver disease (adult formula from 18; OPTN adolescent variant 12–17; PELD under 12)',
  notes: [
    'Formula and 90-day survival equation from secondary sources that agree; to be checked against the paper.',
    'Bounds: bilirubin, INR and creatinine floor 1.0; creatinine cap 3.0 mg/dL, and 3.0 after ≥ 2 dialysis treatments or 24 h of CVVHD in the prior 7 days; albumin 1.5–3.5 g/dL; sodium 125–137 mmol/L.',
    'Ages 12–17: OPTN variant, intercept 7.33 without the sex term. Under 12 the OPTN uses PELD.',
    'The OPTN allocation policy bounds MELD 3.0 to 6–40; values above 40 are shown as computed.',
    'One 90-day figure: the survival equation\'s, for scores 6–40 only; above 40 it is extrapolated and no figure is given.',
    'Observed waitlist mortality by band (MSD Manual table adapted from Kim 2021, secondary) is kept for the detail view (MELD3_BANDS); it is not this patient\'s predicted risk.',
  ],
};

// Coefficients (MODELS.md 3a).
const FEMALE = 1.33;
const BILI = 4.56;
const NA = 0.82;
const NA_X_BILI = -0.24;
const INR = 9.09;
const CR = 11.14;
const ALB = 1.85;
const ALB_X_CR = -1.83;
const INTERCEPT = 6;
// OPTN variant for ages 12–17: intercept 7.33, no sex term (MODELS.md 3a, OPTN policy [S]).
const ADOLESCENT_INTERCEPT = 7.33;
const ADOLESCENT_MIN_AGE = 12;
const ADULT_MIN_AGE = 18;
// Bounds (MODELS.md 3a).
const LAB_FLOOR = 1.0;
/** Creatinine cap, also the value after dialysis (MODELS.md 3a). */
export const MELD3_CREATININE_CAP = 3.0;
const CR_CAP = MELD3_CREATININE_CAP;
const ALB_MIN = 1.5;
const ALB_MAX = 3.5;
const NA_MIN = 125;
const NA_MAX = 137;
// OPTN allocation cap (MODELS.md 3a: shown as computed, the card says the cap is 40).
const ALLOCATION_CAP = 40;
// 90-day survival S = 0.946 ^ exp(0.17698 × rounded MELD 3.0 − 3.56) (MODELS.md 3a, [S] several agree).
const S0 = 0.946;
const SURVIVAL_SLOPE = 0.17698;
const SURVIVAL_OFFSET = 3.56;
// The card shows the equation's figure only for rounded scores 6–40, the allocation range; above 40 it
// is extrapolated (MODELS.md 3a, corrected: "above the range of the 90-day estimate").
const ESTIMATE_MIN = 6;
const ESTIMATE_MAX = 40;

export interface Meld3Band {
  label: '≤9' | '10–19' | '20–29' | '30–39' | '≥40';
  /** Highest rounded score in the band (Infinity for ≥40). */
  max: number;
  /** OBSERVED 3-month mortality of waitlisted adults in the band, 0..1: not a prediction for a patient. */
  observedWaitlistMortality90d: number;
}

export const MELD3_BANDS_SOURCE = 'MSD Manual table adapted from Kim 2021 (secondary source)';

/**
 * Observed 90-day waitlist mortality by band [S: MSD Manual table adapted from Kim 2021] (MODELS.md 3a).
 * The band labels are also the result's tier (the card's indicator follows them); the mortalities are
 * for the detail view only.
 */
export const MELD3_BANDS: readonly Meld3Band[] = [
  { label: '≤9', max: 9, observedWaitlistMortality90d: 0.006 },
  { label: '10–19', max: 19, observedWaitlistMortality90d: 0.067 },
  { label: '20–29', max: 29, observedWaitlistMortality90d: 0.248 },
  { label: '30–39', max: 39, observedWaitlistMortality90d: 0.419 },
  { label: '≥40', max: Infinity, observedWaitlistMortality90d: 0.511 },
];

/** The MSD band of a score; bands are defined on the rounded (displayed) score, so it rounds first. */
export function meld3Band(score: number): Meld3Band {
  const rounded = Math.round(score);
  const band = MELD3_BANDS.find((b) => rounded <= b.max);
  if (band === undefined) throw new RangeError(`MELD 3.0 score ${score} has no band`);
  return band;
}

/** 90-day mortality (1 − survival), applied to the rounded score as the source does. */
export function meld3Mortality90d(score: number): number {
  return 1 - S0 ** Math.exp(SURVIVAL_SLOPE * Math.round(score) - SURVIVAL_OFFSET);
}

/** Whether the survival equation's figure is shown for this score (rounded score within 6–40). */
export function meld3HasEstimate(score: number): boolean {
  const rounded = Math.round(score);
  return rounded >= ESTIMATE_MIN && rounded <= ESTIMATE_MAX;
}

/** What a MELD 3.0 result may say (worded in cards/cirrhosis-sarcopenia.yaml `modelNotes`). */
export const MELD3_NOTE_SPEC = {
  ...BOUND_NOTE_SPEC,
  underMinAge: ['age', 'minAge'],
  meld3Dialysis: ['cap'],
  adolescentVariant: ['minAge', 'maxAge', 'intercept'],
  ageNotRecorded: ['minAge', 'maxAge'],
  sexLowerBound: ['value'],
  meld3DialysisUnknown: [],
  allocationCap: ['cap', 'value'],
  aboveEstimateRange: ['min', 'max'],
  mortalityLowerBound: ['percent'],
} as const satisfies NoteSpec;
const note = noteMaker(MELD3_NOTE_SPEC);

export interface Meld3Inputs {
  /** true or 'female' → female; false or 'male' → male; absent or another code → listed missing, range. */
  sex?: Input<boolean | string>;
  /** Years. Absent → listed missing (adult formula; the range covers the 12–17 variant). */
  age?: Input<number>;
  bilirubin?: Input<number>; // mg/dL
  sodium?: Input<number>; // mmol/L
  inr?: Input<number>;
  creatinine?: Input<number>; // mg/dL
  albumin?: Input<number>; // g/dL
  /**
   * ≥ 2 dialysis treatments or 24 h of CVVHD in the prior 7 days. Absent means unknown: listed missing
   * when it could change the score (creatinine < 3.0), and the range covers it. Pass false when the
   * record was searched and shows none.
   */
  dialysis?: Input<boolean>;
}

interface Labs { bili: number; na: number; inr: number; cr: number; alb: number }

/** Terms of the formula, one per input or interaction; their sum is the score. */
function terms(l: Labs, female: boolean, adolescent: boolean): Contribution[] {
  const lnBili = Math.log(l.bili);
  const lnCr = Math.log(l.cr);
  return [
    adolescent
      ? { input: 'sex', term: 0, band: 'not used in the 12–17 variant' }
      : { input: 'sex', term: female ? FEMALE : 0, band: female ? 'female' : 'male' },
    { input: 'bilirubin', term: BILI * lnBili, band: `${fmt(l.bili)} mg/dL` },
    { input: 'sodium', term: NA * (NA_MAX - l.na), band: `${fmt(l.na)} mmol/L` },
    { input: 'sodium × bilirubin', term: NA_X_BILI * (NA_MAX - l.na) * lnBili },
    { input: 'inr', term: INR * Math.log(l.inr), band: fmt(l.inr) },
    { input: 'creatinine', term: CR * lnCr, band: `${fmt(l.cr)} mg/dL` },
    { input: 'albumin', term: ALB * (ALB_MAX - l.alb), band: `${fmt(l.alb)} g/dL` },
    { input: 'albumin × creatinine', term: ALB_X_CR * (ALB_MAX - l.alb) * lnCr },
    { input: 'intercept', term: adolescent ? ADOLESCENT_INTERCEPT : INTERCEPT },
  ];
}

const sum = (cs: Contribution[]): number => cs.reduce((s, c) => s + (c.term ?? 0), 0);

export function computeMeld3(inputs: Meld3Inputs): ModelResult {
  const used = present(inputs.sex, inputs.age, inputs.bilirubin, inputs.sodium, inputs.inr,
    inputs.creatinine, inputs.albumin, inputs.dialysis);
  const age = numeric(inputs.age);
  if (age !== undefined && age < ADOLESCENT_MIN_AGE) {
    return declined(metadata, 'points', [], used, [note('underMinAge', { age: fmt(age), minAge: ADOLESCENT_MIN_AGE })]);
  }

  const raw = {
    bilirubin: numeric(inputs.bilirubin), sodium: numeric(inputs.sodium), inr: numeric(inputs.inr),
    creatinine: numeric(inputs.creatinine), albumin: numeric(inputs.albumin),
  };
  const missing = Object.entries(raw).filter(([, v]) => v === undefined).map(([k]) => k);
  const sex = sexOf(inputs.sex);
  const adolescent = age !== undefined && age < ADULT_MIN_AGE;
  const dialysis = inputs.dialysis?.value;
  if (age === undefined) missing.push('age');
  if (sex === undefined && !adolescent) missing.push('sex');
  if (raw.bilirubin === undefined || raw.sodium === undefined || raw.inr === undefined
    || raw.creatinine === undefined || raw.albumin === undefined) {
    return declined(metadata, 'points', missing, used);
  }
  if (dialysis === undefined && raw.creatinine < CR_CAP) missing.push('dialysis');

  const notes: ModelNote[] = [];
  const keep = (b: Bounded): number => { if (b.note) notes.push(b.note); return b.value; };
  const ages = { minAge: ADOLESCENT_MIN_AGE, maxAge: ADULT_MIN_AGE - 1 };
  const bili = keep(bound('Bilirubin', raw.bilirubin, 'mg/dL', { floor: LAB_FLOOR }));
  const inr = keep(bound('INR', raw.inr, '', { floor: LAB_FLOOR }));
  const na = keep(bound('Sodium', raw.sodium, 'mmol/L', { floor: NA_MIN, cap: NA_MAX }));
  const alb = keep(bound('Albumin', raw.albumin, 'g/dL', { floor: ALB_MIN, cap: ALB_MAX }));
  let cr: number;
  if (dialysis === true) {
    cr = CR_CAP;
    notes.push(note('meld3Dialysis', { cap: CR_CAP.toFixed(1) }));
  } else {
    cr = keep(bound('Creatinine', raw.creatinine, 'mg/dL', { floor: LAB_FLOOR, cap: CR_CAP }));
  }
  if (adolescent) notes.push(note('adolescentVariant', { ...ages, intercept: ADOLESCENT_INTERCEPT }));

  // Lower bound: unknowns at their lowest (male, adult, no dialysis). Upper bound: female, on dialysis.
  // The 12–17 variant (7.33, no sex term) equals the adult female formula (6 + 1.33), so an unknown
  // age reaches at most the female value, whatever the sex. The score increases with creatinine at
  // every allowed albumin (11.14 − 1.83 × 2 > 0).
  const low = terms({ bili, na, inr, cr, alb }, sex === 'female', adolescent);
  const crHigh = dialysis === undefined ? CR_CAP : cr;
  const high = terms({ bili, na, inr, cr: crHigh, alb }, sex !== 'male' || age === undefined, adolescent);
  const value = sum(low);
  const max = sum(high);
  const rounded = Math.round(value);
  const isRange = max - value > 1e-9;

  if (age === undefined) notes.push(note('ageNotRecorded', ages));
  if (isRange) {
    if (sex === undefined && !adolescent) notes.push(note('sexLowerBound', { value: rounded }));
    if (dialysis === undefined && raw.creatinine < CR_CAP) notes.push(note('meld3DialysisUnknown'));
  }
  if (value > ALLOCATION_CAP) notes.push(note('allocationCap', { cap: ALLOCATION_CAP, value: rounded }));

  const bandLow = meld3Band(value);
  const bandHigh = meld3Band(max);
  const sameBand = bandLow === bandHigh;
  const sameScore = Math.round(max) === rounded;
  // One 90-day figure, the survival equation's, within its range (MODELS.md 3a).
  const estimated = meld3HasEstimate(value);
  const probability = meld3Mortality90d(value);
  if (rounded > ESTIMATE_MAX) notes.push(note('aboveEstimateRange', { min: ESTIMATE_MIN, max: ESTIMATE_MAX }));
  else if (!sameScore) notes.push(note('mortalityLowerBound', { percent: fmt(probability * 100) }));

  return {
    model: metadata.id,
    value,
    unit: 'points',
    display: String(rounded),
    tier: sameBand ? bandLow.label : `${bandLow.label} or ${bandHigh.label}`,
    ...(sameScore && estimated ? { probability } : {}),
    outcome: '90-day mortality',
    ...(isRange ? { range: { min: value, max } } : {}),
    contributions: low,
    missing,
    inputs: used,
    metadata,
    notes,
  };
}
