// CMR risk score after reperfused STEMI: Marcos-Garcés V, Perez N, Gavara J, … Bodi V.
// Int J Cardiol 2022;349:150–154 (MODELS.md 1a) [P, abstract]. Items, points, tiers and event
// rates are from the abstract. MODELS.md: the DOI is NOT verified, so none is given here.
import { PointsTally, TALLY_NOTE_SPEC } from './points-tally.ts';
import { noteMaker, type Input, type ModelMetadata, type ModelResult, type NoteSpec } from './types.ts';

export const metadata: ModelMetadata = {
  id: 'cmr-risk-score',
  version: '1.0.0',
  title: 'CMR risk score after STEMI (MACE)',
  citation:
    'Marcos-Garcés V, Perez N, Gavara J, … Bodi V. Risk score for early risk prediction by cardiac magnetic resonance after acute myocardial infarction. Int J Cardiol 2022;349:150–154.',
  url: 'https://pubmed.ncbi.nlm.nih.gov/?term=Marcos-Garc%C3%A9s+Bodi+risk+score+cardiac+magnetic+resonance+Int+J+Cardiol+2022',
  evidence: 'primary',
  population:
    'Reperfused STEMI with CMR about one week after the infarction (1,118 patients, median follow-up 5.5 years); MACE = cardiovascular death, non-fatal MI or heart-failure readmission',
  notes: [
    'Time to reperfusion is in decimal hours: 4.15 h = 4 h 9 min, not 4 h 15 min.',
    'MVO is counted in segments of the AHA 17-segment model; in whole segments "> 1.5" means ≥ 2.',
  ],
};

export interface CmrRiskScoreInputs {
  /** symptom onset to reperfusion, hours (decimal) */
  timeToReperfusion?: Input<number>;
  /** GRACE in-hospital score, points (the complete score; see grace.ts) */
  graceScore?: Input<number>;
  /** LVEF by CMR, % */
  lvef?: Input<number>;
  /** microvascular obstruction, number of AHA segments */
  mvoSegments?: Input<number>;
}

export type CmrRiskTier = 'low' | 'intermediate' | 'high';

/** Tiers and MACE rates per 100 person-years (MODELS.md 1a). Not a probability: a rate. */
export const CMR_RISK_TIERS: ReadonlyArray<{ tier: CmrRiskTier; min: number; max: number; macePer100PersonYears: number }> = [
  { tier: 'low', min: 0, max: 2, macePer100PersonYears: 1.96 },
  { tier: 'intermediate', min: 3, max: 5, macePer100PersonYears: 5.44 },
  { tier: 'high', min: 6, max: 8, macePer100PersonYears: 19.7 },
];

export const OUTCOME = 'MACE per 100 person-years';

interface ItemSpec {
  key: keyof CmrRiskScoreInputs;
  points: number;
  /** true when the item applies; the published rule is a strict ">" or "<". */
  applies: (v: number) => boolean;
  yes: string;
  no: string;
}

// MODELS.md 1a item table.
const ITEMS: readonly ItemSpec[] = [
  { key: 'timeToReperfusion', points: 1, applies: (v) => v > 4.15, yes: '> 4.15 h', no: '≤ 4.15 h' },
  { key: 'graceScore', points: 3, applies: (v) => v > 155, yes: 'GRACE > 155', no: 'GRACE ≤ 155' },
  { key: 'lvef', points: 3, applies: (v) => v < 40, yes: 'LVEF < 40 %', no: 'LVEF ≥ 40 %' },
  { key: 'mvoSegments', points: 1, applies: (v) => v > 1.5, yes: 'MVO > 1.5 segments', no: 'MVO ≤ 1.5 segments' },
];

/** Item names in words, for the notes. */
const LABELS: Record<keyof CmrRiskScoreInputs, string> = {
  timeToReperfusion: 'time to reperfusion', graceScore: 'GRACE score', lvef: 'LVEF by CMR', mvoSegments: 'MVO segments',
};

export function cmrRiskTier(points: number): (typeof CMR_RISK_TIERS)[number] {
  return CMR_RISK_TIERS.find((t) => points <= t.max) ?? CMR_RISK_TIERS[CMR_RISK_TIERS.length - 1]!;
}

/** ModelResult plus the tier's published event rate (only when the tier is determinate). */
export interface CmrRiskScoreResult extends ModelResult {
  macePer100PersonYears?: number;
}

/** What a CMR risk score result may say (worded in cards/cmr-ihd-macce.yaml `modelNotes`). */
export const CMR_RISK_NOTE_SPEC = {
  ...TALLY_NOTE_SPEC,
  cmrNoItem: [],
  cmrTier: ['tier', 'min', 'max', 'rate'],
  cmrTierUndetermined: ['min', 'max', 'low', 'lowRate', 'high', 'highRate'],
  scoreAtLeast: ['min', 'count'],
} as const satisfies NoteSpec;
const note = noteMaker(CMR_RISK_NOTE_SPEC);

export function computeCmrRiskScore(inputs: CmrRiskScoreInputs): CmrRiskScoreResult {
  const tally = new PointsTally<keyof CmrRiskScoreInputs>(inputs, LABELS);
  const { notes, contributions, missing } = tally;
  for (const item of ITEMS) {
    // Missing or unusable: never assumed absent; the item's points widen the range.
    const v = tally.number(item.key);
    const applies = v === undefined ? undefined : item.applies(v);
    tally.add(item.key, applies === undefined ? undefined : { points: applies ? item.points : 0, band: applies ? item.yes : item.no }, { max: item.points });
  }

  const base = { model: metadata.id, unit: 'points', outcome: OUTCOME, contributions, missing, inputs: tally.echoed(), metadata };
  if (contributions.length === 0) {
    return { ...base, value: null, notes: [...notes, note('cmrNoItem')] };
  }

  const { known, range } = tally;
  const lo = cmrRiskTier(range.min);
  const hi = cmrRiskTier(range.max);
  const tier = lo.tier === hi.tier ? lo : undefined;
  if (tier) {
    notes.push(note('cmrTier', { tier: tier.tier, min: tier.min, max: tier.max, rate: tier.macePer100PersonYears }));
  } else {
    notes.push(note('cmrTierUndetermined', {
      min: range.min, max: range.max, low: lo.tier, lowRate: lo.macePer100PersonYears, high: hi.tier, highRate: hi.macePer100PersonYears,
    }));
  }
  if (missing.length > 0) {
    // The card names the missing inputs in words; the note counts them.
    notes.unshift(note('scoreAtLeast', { min: range.min, count: missing.length }));
  }
  return {
    ...base,
    value: known,
    display: missing.length > 0 ? `${range.min}–${range.max}` : String(known),
    ...(missing.length > 0 ? { range } : {}),
    ...(tier ? { tier: tier.tier, macePer100PersonYears: tier.macePer100PersonYears } : {}),
    notes,
  };
}
