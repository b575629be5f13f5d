// GRACE risk score for in-hospital death (Granger CB et al., Arch Intern Med 2003;163:2345–53).
// Every constant below is from MODELS.md 1b: point tables [S, two secondary sources agree],
// STEMI in-hospital death bands [P, GRACE owners' table], logistic form [P, owners' methods page].
import { PointsTally, TALLY_NOTE_SPEC, type Scored } from './points-tally.ts';
import { noteMaker, type Input, type ModelMetadata, type ModelNote, type ModelResult, type NoteSpec } from './types.ts';

export const metadata: ModelMetadata = {
  id: 'grace-in-hospital',
  version: '1.0.0',
  title: 'GRACE risk score: in-hospital death',
  citation: 'Granger CB et al., Arch Intern Med 2003;163:2345–53',
  // MODELS.md gives no DOI for Granger 2003: link a PubMed search rather than guess one.
  url: 'https://pubmed.ncbi.nlm.nih.gov/?term=Granger+CB+Arch+Intern+Med+2003+163+2345',
  // The points are only in secondary sources (two agree): flagged until someone checks the paper.
  evidence: 'secondary',
  population: 'Adults with an acute coronary syndrome (tiers: the STEMI or the NSTE-ACS in-hospital death bands)',
  notes: [
    'Points per item [S]: two secondary sources agree (MODELS.md 1b).',
    "STEMI tiers [P]: GRACE owners' STEMI in-hospital death table, 49–125 low (<2 %), 126–154 intermediate (2–5 %), 155–319 high (>5 %).",
    'NSTE-ACS tiers [S]: ESC NSTE-ACS guideline 2011 table from the GRACE owners, ≤ 108 low (< 1 %), 109–140 intermediate (1–3 %), > 140 high (> 3 %).',
    'An acute MI of unstated type is read with both band tables; the tier is given only when they agree.',
    "Probability [P]: logistic form of the GRACE owners' methods page, computed from the raw values (not from the points).",
  ],
};

export interface GraceInputs {
  /** years */
  age?: Input<number>;
  /** heart rate, bpm */
  heartRate?: Input<number>;
  /** systolic blood pressure, mmHg */
  systolicBp?: Input<number>;
  /** serum creatinine, mg/dL (convert µmol/L ÷ 88.42 before calling) */
  creatinine?: Input<number>;
  /** Killip class as a number 1–4 (I–IV) */
  killipClass?: Input<number>;
  /** cardiac arrest at admission */
  cardiacArrest?: Input<boolean>;
  /** ST-segment deviation */
  stDeviation?: Input<boolean>;
  /** elevated cardiac enzymes / markers */
  elevatedEnzymes?: Input<boolean>;
}

export type GraceItem = keyof GraceInputs;

/** A band holds values strictly below `below` (and at or above the previous band's `below`). */
interface Band {
  below: number;
  points: number;
  label: string;
}

// MODELS.md 1b point tables [S].
export const AGE_BANDS: readonly Band[] = [
  { below: 30, points: 0, label: '<30 years' },
  { below: 40, points: 8, label: '30–39 years' },
  { below: 50, points: 25, label: '40–49 years' },
  { below: 60, points: 41, label: '50–59 years' },
  { below: 70, points: 58, label: '60–69 years' },
  { below: 80, points: 75, label: '70–79 years' },
  { below: 90, points: 91, label: '80–89 years' },
  { below: Infinity, points: 100, label: '≥90 years' },
];
export const HEART_RATE_BANDS: readonly Band[] = [
  { below: 50, points: 0, label: '<50 bpm' },
  { below: 70, points: 3, label: '50–69 bpm' },
  { below: 90, points: 9, label: '70–89 bpm' },
  { below: 110, points: 15, label: '90–109 bpm' },
  { below: 150, points: 24, label: '110–149 bpm' },
  { below: 200, points: 38, label: '150–199 bpm' },
  { below: Infinity, points: 46, label: '≥200 bpm' },
];
export const SBP_BANDS: readonly Band[] = [
  { below: 80, points: 58, label: '<80 mmHg' },
  { below: 100, points: 53, label: '80–99 mmHg' },
  { below: 120, points: 43, label: '100–119 mmHg' },
  { below: 140, points: 34, label: '120–139 mmHg' },
  { below: 160, points: 24, label: '140–159 mmHg' },
  { below: 200, points: 10, label: '160–199 mmHg' },
  { below: Infinity, points: 0, label: '≥200 mmHg' },
];
export const CREATININE_BANDS: readonly Band[] = [
  { below: 0.4, points: 1, label: '<0.40 mg/dL' },
  { below: 0.8, points: 4, label: '0.40–0.79 mg/dL' },
  { below: 1.2, points: 7, label: '0.80–1.19 mg/dL' },
  { below: 1.6, points: 10, label: '1.20–1.59 mg/dL' },
  { below: 2.0, points: 13, label: '1.60–1.99 mg/dL' },
  { below: 4.0, points: 21, label: '2.00–3.99 mg/dL' },
  { below: Infinity, points: 28, label: '≥4.00 mg/dL' },
];
/** Killip I 0, II 20, III 39, IV 59 (index = class − 1). */
export const KILLIP_POINTS: readonly number[] = [0, 20, 39, 59];
export const CARDIAC_ARREST_POINTS = 39;
export const ST_DEVIATION_POINTS = 28;
export const ELEVATED_ENZYMES_POINTS = 14;

/** Logistic coefficients [P, GRACE owners' methods page] (MODELS.md 1b). */
export const LOGISTIC = {
  intercept: -7.7035,
  age: 0.0531,
  pulse: 0.0087,
  sbp: -0.0168,
  creatinine: 0.1823,
  killip: 0.6931,
  arrest: 1.4586,
  enzymes: 0.47,
  stDeviation: 0.8755,
} as const;

export type GraceTier = 'low' | 'intermediate' | 'high';

/** STEMI in-hospital death tiers [P]: 49–125 low, 126–154 intermediate, 155–319 high. */
export function graceTier(points: number): GraceTier {
  if (points <= 125) return 'low';
  if (points <= 154) return 'intermediate';
  return 'high';
}

/** NSTE-ACS in-hospital death tiers [S, ESC NSTE-ACS guideline 2011]: ≤ 108 low, 109–140 intermediate, > 140 high. */
export function graceNsteAcsTier(points: number): GraceTier {
  if (points <= 108) return 'low';
  if (points <= 140) return 'intermediate';
  return 'high';
}

/**
 * Which band table reads the score: the STEMI bands after a STEMI, the NSTE-ACS bands after an NSTEMI,
 * both for an acute MI of unstated type (MODELS.md 1b: report both readings).
 */
export type GraceBands = 'stemi' | 'nste-acs' | 'both';

interface BandTable {
  name: string;
  tierOf: (points: number) => GraceTier;
  text: Record<GraceTier, string>;
  /** Predicted in-hospital death above which the owners' tables call the risk high. */
  highRisk: number;
}

/** The two band tables with their in-hospital death ranges (MODELS.md 1b). */
export const GRACE_BAND_TABLES = {
  stemi: { name: 'STEMI', tierOf: graceTier, text: { low: '<2 %', intermediate: '2–5 %', high: '>5 %' }, highRisk: 0.05 },
  nsteAcs: { name: 'NSTE-ACS', tierOf: graceNsteAcsTier, text: { low: '< 1 %', intermediate: '1–3 %', high: '> 3 %' }, highRisk: 0.03 },
} as const satisfies Record<string, BandTable>;

type TableKey = keyof typeof GRACE_BAND_TABLES;
const TABLES_OF: Record<GraceBands, readonly TableKey[]> = { stemi: ['stemi'], 'nste-acs': ['nsteAcs'], both: ['stemi', 'nsteAcs'] };

/** Item names in words, for the notes. */
const LABELS: Record<GraceItem, string> = {
  age: 'age', heartRate: 'heart rate', systolicBp: 'systolic blood pressure', creatinine: 'creatinine', killipClass: 'Killip class',
  cardiacArrest: 'cardiac arrest at admission', stDeviation: 'ST-segment deviation', elevatedEnzymes: 'elevated cardiac enzymes',
};

const ROMAN = ['I', 'II', 'III', 'IV'] as const;


/** The fewest and most points an item can give. */
function spanOf(options: readonly { points: number }[]): { min: number; max: number } {
  const points = options.map((o) => o.points);
  return { min: Math.min(...points), max: Math.max(...points) };
}

function bandOf(value: number, bands: readonly Band[]): Scored {
  const band = bands.find((b) => value < b.below) ?? bands[bands.length - 1]!;
  return { points: band.points, band: band.label };
}

/** ModelResult plus the logit of the owners' logistic form (present only with the probability). */
export interface GraceResult extends ModelResult {
  logit?: number;
  /** The band tables that read this result. */
  bands: GraceBands;
  /** The tier by each band table used, when the range lies in one of its bands. */
  readings: { stemi?: GraceTier; nsteAcs?: GraceTier };
}

/** The score range of the owners' STEMI band table (MODELS.md 1b). */
const STEMI_TABLE = { min: 49, max: 319 } as const;

/** What a GRACE result may say (worded in cards/cmr-ihd-macce.yaml `modelNotes`). */
export const GRACE_NOTE_SPEC = {
  ...TALLY_NOTE_SPEC,
  graceNoItem: [],
  graceRange: ['min', 'max', 'count'],
  graceTierUndetermined: ['low', 'high'],
  graceTierUndeterminedBands: ['low', 'high', 'bands'],
  outsideStemiTable: ['points', 'min', 'max'],
  graceBand: ['bands', 'reading', 'death'],
} as const satisfies NoteSpec;
const note = noteMaker(GRACE_NOTE_SPEC);

export function computeGrace(inputs: GraceInputs, bands: GraceBands = 'stemi'): GraceResult {
  // A provided but unusable value is reported and treated as missing, never as normal.
  const tally = new PointsTally<GraceItem>(inputs, LABELS);
  const { notes, contributions, missing } = tally;
  const flag = (v: boolean | undefined, pts: number, yes: string, no: string): Scored | undefined =>
    v === undefined ? undefined : { points: v ? pts : 0, band: v ? yes : no };

  const age = tally.number('age');
  const hr = tally.number('heartRate');
  const sbp = tally.number('systolicBp');
  const creat = tally.number('creatinine');
  const killip = tally.number('killipClass', (v) => Number.isInteger(v) && v >= 1 && v <= 4);
  const arrest = tally.boolean('cardiacArrest');
  const st = tally.boolean('stDeviation');
  const enzymes = tally.boolean('elevatedEnzymes');

  // Missing items widen the range by their smallest and largest possible points, read from the
  // tables themselves (creatinine's smallest is 1, not 0).
  tally.add('age', age === undefined ? undefined : bandOf(age, AGE_BANDS), spanOf(AGE_BANDS));
  tally.add('heartRate', hr === undefined ? undefined : bandOf(hr, HEART_RATE_BANDS), spanOf(HEART_RATE_BANDS));
  tally.add('systolicBp', sbp === undefined ? undefined : bandOf(sbp, SBP_BANDS), spanOf(SBP_BANDS));
  tally.add('creatinine', creat === undefined ? undefined : bandOf(creat, CREATININE_BANDS), spanOf(CREATININE_BANDS));
  tally.add(
    'killipClass',
    killip === undefined ? undefined : { points: KILLIP_POINTS[killip - 1]!, band: `Killip ${ROMAN[killip - 1]!}` },
    spanOf(KILLIP_POINTS.map((points) => ({ points }))),
  );
  tally.add('cardiacArrest', flag(arrest, CARDIAC_ARREST_POINTS, 'cardiac arrest at admission', 'no cardiac arrest'), { max: CARDIAC_ARREST_POINTS });
  tally.add('stDeviation', flag(st, ST_DEVIATION_POINTS, 'ST-segment deviation', 'no ST-segment deviation'), { max: ST_DEVIATION_POINTS });
  tally.add('elevatedEnzymes', flag(enzymes, ELEVATED_ENZYMES_POINTS, 'elevated cardiac enzymes', 'enzymes not elevated'), { max: ELEVATED_ENZYMES_POINTS });

  const base = { model: metadata.id, unit: 'points', contributions, missing, inputs: tally.echoed(), metadata, bands };

  if (contributions.length === 0) {
    return { ...base, value: null, readings: {}, outcome: 'in-hospital death', notes: [...notes, note('graceNoItem')] };
  }

  const { known, range } = tally;
  const tables = TABLES_OF[bands];
  const readings: GraceResult['readings'] = {};
  const undetermined: ModelNote[] = [];
  for (const key of tables) {
    const t = GRACE_BAND_TABLES[key];
    const lo = t.tierOf(range.min);
    const hi = t.tierOf(range.max);
    if (lo === hi) readings[key] = lo;
    else if (tables.length > 1 || key === 'nsteAcs') undetermined.push(note('graceTierUndeterminedBands', { low: lo, high: hi, bands: t.name }));
    else undetermined.push(note('graceTierUndetermined', { low: lo, high: hi }));
  }
  const read = tables.map((k) => readings[k]);
  const tier = read.every((t) => t !== undefined && t === read[0]) ? read[0] : undefined;

  if (missing.length > 0) {
    notes.push(note('graceRange', { min: range.min, max: range.max, count: missing.length }));
    notes.push(...undetermined);
    return {
      ...base,
      readings,
      value: known,
      display: `${range.min}–${range.max}`,
      range,
      ...(tier ? { tier } : {}),
      outcome: 'in-hospital death',
      notes,
    };
  }

  // All inputs present: points, tier and the owners' logistic probability.
  const logit =
    LOGISTIC.intercept +
    LOGISTIC.age * age! +
    LOGISTIC.pulse * hr! +
    LOGISTIC.sbp * sbp! +
    LOGISTIC.creatinine * creat! +
    LOGISTIC.killip * killip! +
    LOGISTIC.arrest * (arrest ? 1 : 0) +
    LOGISTIC.enzymes * (enzymes ? 1 : 0) +
    LOGISTIC.stDeviation * (st ? 1 : 0);
  const probability = 1 / (1 + Math.exp(-logit));
  if (tables.includes('stemi') && (known < STEMI_TABLE.min || known > STEMI_TABLE.max)) {
    notes.push(note('outsideStemiTable', { points: known, ...STEMI_TABLE }));
  }
  for (const key of tables) {
    const t = GRACE_BAND_TABLES[key];
    const reading = readings[key]!;
    notes.push(note('graceBand', { bands: t.name, reading, death: t.text[reading] }));
  }
  return {
    ...base,
    readings,
    value: known,
    display: String(known),
    ...(tier ? { tier } : {}),
    probability,
    logit,
    outcome: 'in-hospital death',
    notes,
  };
}
