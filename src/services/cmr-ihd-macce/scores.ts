// Runs the models of MODELS.md section 1 on the gathered inputs and applies the population rules:
// GRACE for any acute MI, read with the STEMI bands after a STEMI, the NSTE-ACS bands after an NSTEMI
// and both for an acute MI of unstated type (MODELS.md 1b); TIMI STEMI and the CMR risk score only
// for an acute STEMI (their derivation populations: Morrow 2000; Marcos-Garcés 2022), the CMR risk
// score only with a CMR after the onset. Pure: no I/O, and the inputs are not changed (reasons the
// scores add for a missing item are their own, merged by scoreMacce).
import { noteMaker, type Input, type ModelNote, type ModelResult, type NoteSpec } from '../../models/types.ts';
import { computeGrace, type GraceBands, type GraceResult } from '../../models/grace.ts';
import { computeTimiStemi } from '../../models/timi-stemi.ts';
import { computeCmrRiskScore, type CmrRiskScoreResult } from '../../models/cmr-risk-score.ts';
import { assessCmrMarkers, type CmrMarkerAssessment } from '../../models/cmr-markers.ts';
import type { AppConfig } from '../../config.ts';
import type { ServiceEvaluation } from '../define.ts';
import { shown, type Shown, type ShownResult } from '../model-notes.ts';
import { hasCmr, type CmrInputs, type MacceInputs } from './inputs.ts';
import { wordMarkers, type WordedMarkers } from './markers.ts';
import type { MacceWording } from './wording.ts';

/** GRACE > 155 is the CMR risk score's item (Marcos-Garcés 2022). */
const GRACE_ITEM_CUTOFF = 155;

/** What the service adds to the CMR risk score's notes (worded in cards/cmr-ihd-macce.yaml `modelNotes`). */
export const MACCE_NOTE_SPEC = {
  graceItemAbove: ['min', 'max', 'cutoff'],
  graceItemBelow: ['min', 'max', 'cutoff'],
} as const satisfies NoteSpec;
const note = noteMaker(MACCE_NOTE_SPEC);

export interface AcuteScores {
  grace: GraceResult;
  timi?: ModelResult;
  cmr?: CmrRiskScoreResult;
  /** Keys of `text` statements in cards/cmr-ihd-macce.yaml that apply (not-applicable reasons etc.). */
  statements: AcuteStatement[];
  /** Why a score item is missing (the GRACE item of the CMR risk score; the CMR itself). */
  missingReasons: Record<string, string>;
}

/** Statements of cards/cmr-ihd-macce.yaml `text` that a score step may add. */
export type AcuteStatement = 'graceNsteBands' | 'graceBothBands' | 'timiNotStemi' | 'cmrScoreNotStemi' | 'cmrScorePopulation';

/** The acute scores as the cards show them: their notes in words. */
export interface ShownAcuteScores extends Omit<AcuteScores, 'grace' | 'timi' | 'cmr'> {
  grace: Shown<GraceResult>;
  timi?: ShownResult;
  cmr?: Shown<CmrRiskScoreResult>;
}

/** The results of the service: the inputs, the acute scores (acute MI) and the CMR markers (a CMR). */
export interface MacceResults {
  inputs: MacceInputs;
  /** Present for an acute MI. */
  acute?: ShownAcuteScores;
  /** Present when CMR measurements were found. */
  markers?: WordedMarkers;
  /** The inputs' missing reasons with those the scores add. */
  missingReasons: Record<string, string>;
}

/** The score step: the acute scores for an acute MI, the single markers when there is a CMR, in words. */
export function scoreMacce(i: MacceInputs, ev: ServiceEvaluation<MacceWording>): MacceResults {
  const w = ev.wording;
  const markers = hasCmr(i.cmr) ? wordMarkers(markersOf(i.cmr, ev.runtime.config), w) : undefined;
  const scores = i.acute ? acuteScores(i) : undefined;
  const acute: ShownAcuteScores | undefined = scores ? {
    statements: scores.statements,
    missingReasons: scores.missingReasons,
    grace: shown(scores.grace, w.modelNotes),
    ...(scores.timi ? { timi: shown(scores.timi, w.modelNotes) } : {}),
    ...(scores.cmr ? { cmr: shown(scores.cmr, w.modelNotes) } : {}),
  } : undefined;
  return {
    inputs: i,
    ...(acute ? { acute } : {}),
    ...(markers ? { markers } : {}),
    missingReasons: { ...i.missingReasons, ...acute?.missingReasons },
  };
}

export function acuteScores(i: MacceInputs): AcuteScores {
  const a = i.acuteInputs;
  const type = i.acute?.type;
  const statements: AcuteStatement[] = [];
  const missingReasons: Record<string, string> = {};

  const bands: GraceBands = type === 'stemi' ? 'stemi' : type === 'nstemi' ? 'nste-acs' : 'both';
  const grace = computeGrace({
    age: a.age, heartRate: a.heartRate, systolicBp: a.systolicBp, creatinine: a.creatinine,
    killipClass: a.killipClass, cardiacArrest: a.cardiacArrest, stDeviation: a.stDeviation, elevatedEnzymes: a.elevatedEnzymes,
  }, bands);
  if (type === 'nstemi') statements.push('graceNsteBands');
  else if (type !== 'stemi') statements.push('graceBothBands');

  if (type !== 'stemi') {
    statements.push('timiNotStemi', 'cmrScoreNotStemi');
    return { grace, statements, missingReasons };
  }

  // TIMI: one finding "anterior STE or LBBB" stands for both parts of the item; a recorded "no"
  // answers both, a "yes" is enough on its own.
  const ste = a.anteriorSteOrLbbb;
  const timi = computeTimiStemi({
    age: a.age, diabetes: a.diabetes, hypertension: a.hypertension, angina: a.angina,
    systolicBp: a.systolicBp, heartRate: a.heartRate, killipClass: a.killipClass, weight: a.weight,
    anteriorSte: ste, lbbb: ste?.value === false ? ste : undefined,
    timeToTreatment: a.timeToReperfusion,
  });
  const timiShown: ModelResult = {
    ...timi,
    inputs: [...new Set(timi.inputs)],
    missing: [...new Set(timi.missing.map((m) => TIMI_ALIASES[m] ?? m))],
  };

  let cmr: CmrRiskScoreResult | undefined;
  if (i.cmr.lvef || i.cmr.mvoSegments) {
    const graceItem = graceScoreItem(grace, i.acute?.onset.text);
    cmr = computeCmrRiskScore({ timeToReperfusion: a.timeToReperfusion, graceScore: graceItem.input, lvef: i.cmr.lvef, mvoSegments: i.cmr.mvoSegments });
    if (graceItem.note) cmr = { ...cmr, notes: [...(cmr.notes ?? []), graceItem.note] };
    if (!graceItem.input && graceItem.reason) missingReasons.graceScore = graceItem.reason;
    statements.push('cmrScorePopulation');
  } else {
    missingReasons.cmr = `no LVEF or MVO measurement after the MI onset (${i.acute?.onset.text ?? '?'})`;
  }
  return { grace, timi: timiShown, ...(cmr ? { cmr } : {}), statements, missingReasons };
}

/** TIMI's item names → this service's input names, so each missing input is named once. */
const TIMI_ALIASES: Record<string, string> = {
  timeToTreatment: 'timeToReperfusion',
  anteriorSte: 'anteriorSteOrLbbb',
  lbbb: 'anteriorSteOrLbbb',
};

/**
 * The GRACE input of the CMR risk score. The model wants the complete score; a partial GRACE still
 * decides the item when its whole range lies on one side of 155 (then the deciding bound is passed,
 * and a note says so); otherwise the item is missing.
 */
export function graceScoreItem(grace: GraceResult, date: string | undefined): { input?: Input<number>; note?: ModelNote; reason?: string } {
  if (grace.value === null) return { reason: 'GRACE could not be calculated' };
  const base = { name: 'graceScore', unit: 'points', source: 'derived', ...(date ? { date } : {}) };
  if (!grace.range) return { input: { ...base, value: grace.value } };
  const { min, max } = grace.range;
  if (min > GRACE_ITEM_CUTOFF) return { input: { ...base, value: min }, note: note('graceItemAbove', { min, max, cutoff: GRACE_ITEM_CUTOFF }) };
  if (max <= GRACE_ITEM_CUTOFF) return { input: { ...base, value: max }, note: note('graceItemBelow', { min, max, cutoff: GRACE_ITEM_CUTOFF }) };
  return { reason: `GRACE is ${min}–${max} points (inputs missing): cannot tell whether it is above ${GRACE_ITEM_CUTOFF}` };
}

/** The single CMR markers (MODELS.md 1d) from the CMR measurements; native T1/T2 against site ranges. */
export function markersOf(c: CmrInputs, config: AppConfig): CmrMarkerAssessment {
  return assessCmrMarkers(
    {
      infarctSize: c.infarctSize, mvo: c.mvo, lvef: c.lvef, laReservoirStrain: c.laReservoirStrain,
      lvGls: c.lvGls, haemorrhage: c.haemorrhage, nativeT1: c.nativeT1, t2: c.t2,
    },
    config.cmrReferenceRanges,
  );
}

/**
 * Whether a score says something: computed from at least half of its items, or with its band decided
 * by the items known. A range wider than that tells the clinician nothing (display rule).
 */
export function reportable(r: Pick<ModelResult, 'value' | 'contributions' | 'tier' | 'range' | 'probability'> | undefined, items: number): boolean {
  if (!r || r.value === null) return false;
  return r.contributions.length * 2 >= items || r.tier !== undefined || (r.range !== undefined && r.probability !== undefined);
}

export const ITEMS = { grace: 8, timi: 8, cmr: 4 } as const;
