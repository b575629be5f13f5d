// The cmr-ihd-macce CDS service: MACCE risk in ischaemic heart disease / after myocardial infarction
// (MODELS.md section 1): CMR risk score (primary), GRACE, TIMI STEMI and single CMR markers.
// Data in, cards out; no I/O.
import type { CdsService, EvaluationContext, ResolvedPrefetch } from '../types.ts';
import type { Card } from '../../hooks/types.ts';
import { cmrIhdMacceDescription, PREFETCH_KEYS } from './definition.ts';
import { gatherMacceInputs, hasCmr } from './inputs.ts';
import { acuteScores, markersOf } from './scores.ts';
import { acuteCard, markersCard } from './cards.ts';

export function evaluateCmrIhdMacce(data: ResolvedPrefetch, ctx: EvaluationContext): Card[] {
  const i = gatherMacceInputs(data, ctx);
  if (!i.ihd) return []; // Not applicable: nothing to say (DESIGN.md, Clinicians).
  const markers = hasCmr(i.cmr) ? markersOf(i.cmr, ctx.config) : undefined;
  const cards: Card[] = [];
  if (i.acute) cards.push(acuteCard(i, acuteScores(i), ctx));
  // Chronic disease without a CMR in the look-back: no score applies and there is nothing to show.
  if (markers) cards.push(markersCard(i, markers, ctx));
  return cards;
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
