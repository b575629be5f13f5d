// The cmr-ihd-macce CDS service: MACCE risk in ischaemic heart disease / after myocardial infarction
// (MODELS.md section 1): CMR risk score (primary), GRACE, TIMI STEMI and single CMR markers.
// Data in, cards out; no I/O.
import type { CdsService, EvaluationContext, ResolvedPrefetch } from '../types.ts';
import type { Card } from '../../hooks/types.ts';
import { cmrIhdMacceDescription, PREFETCH_KEYS } from './definition.ts';
import { gatherMacceInputs, hasCmr } from './inputs.ts';
import { acuteScores, markersOf, type AcuteScores } from './scores.ts';
import { acuteCard, markersCard } from './cards.ts';
import type { CmrMarkerAssessment } from '../../models/cmr-markers.ts';
import type { MacceInputs } from './inputs.ts';

export interface MacceResults {
  inputs: MacceInputs;
  /** Present for an acute MI. */
  acute?: AcuteScores;
  /** Present when CMR measurements were found. */
  markers?: CmrMarkerAssessment;
}

export function evaluateCmrIhdMacce(data: ResolvedPrefetch, ctx: EvaluationContext): Card[] {
  const r = scoreCmrIhdMacce(data, ctx);
  if (!r) return [];
  const cards: Card[] = [];
  if (r.acute) cards.push(acuteCard(r.inputs, r.acute, ctx));
  // Chronic disease without a CMR in the look-back: no score applies and there is nothing to show.
  if (r.markers) cards.push(markersCard(r.inputs, r.markers, ctx));
  return cards;
}

/**
 * The pure score step (data + context -> results), shared by the cards and the SMART detail view.
 * acuteScores() records missing reasons on the inputs, which both cards read: it runs here, first.
 */
export function scoreCmrIhdMacce(data: ResolvedPrefetch, ctx: EvaluationContext): MacceResults | undefined {
  const i = gatherMacceInputs(data, ctx);
  if (!i.ihd) return undefined; // Not applicable: nothing to say (DESIGN.md, Clinicians).
  const markers = hasCmr(i.cmr) ? markersOf(i.cmr, ctx.config) : undefined;
  const acute = i.acute ? acuteScores(i) : undefined;
  return { inputs: i, ...(acute ? { acute } : {}), ...(markers ? { markers } : {}) };
}

/** Built on demand: the prefetch templates come from the terminology loaded at start-up. */
export const cmrIhdMacce = (): CdsService => ({
  description: cmrIhdMacceDescription(),
  // Without the patient and their conditions the service cannot tell whether it applies; without
  // observations it would report inputs as missing that may well exist: 412 rather than a wrong card.
  // Procedures, blood-pressure panels and the encounter are optional: the time to reperfusion is then
  // missing with a reason (or taken from a recorded value), the admission anchor is the MI onset.
  requiredPrefetch: [PREFETCH_KEYS.patient, PREFETCH_KEYS.conditions, PREFETCH_KEYS.observations],
  evaluate: evaluateCmrIhdMacce,
});
