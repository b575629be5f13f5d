// The cmr-cardiac-mass CDS service: CMR Mass Score (Paolisso 2024), features favouring thrombus
// (Pazos-López 2014) and prognosis by recorded CMR diagnosis (Shenoy 2022); MODELS.md section 2.
// Data in, cards out; no I/O.
import type { CdsService, EvaluationContext, ResolvedPrefetch } from '../types.ts';
import type { Card } from '../../hooks/types.ts';
import { computeCmrMassScore } from '../../models/cmr-mass-score.ts';
import { assessThrombusFeatures } from '../../models/thrombus-features.ts';
import { computeMassPrognosis } from '../../models/mass-prognosis.ts';
import { cardiacMassDescription, PREFETCH_KEYS } from './definition.ts';
import { gatherCardiacMassInputs } from './inputs.ts';
import { cardiacMassCards, type CardiacMassResults } from './cards.ts';

export function evaluateCardiacMass(data: ResolvedPrefetch, ctx: EvaluationContext): Card[] {
  const results = scoreCardiacMass(data, ctx);
  return results ? cardiacMassCards(results, ctx) : [];
}

/** The pure score step (data + context -> results), shared by the cards and the SMART detail view. */
export function scoreCardiacMass(data: ResolvedPrefetch, ctx: EvaluationContext): CardiacMassResults | undefined {
  const inputs = gatherCardiacMassInputs(data, ctx);
  if (!inputs.applies) return undefined; // No cardiac mass: nothing to say (DESIGN.md, Clinicians).
  return {
    inputs,
    score: computeCmrMassScore(inputs.score),
    thrombus: assessThrombusFeatures(inputs.thrombus),
    // Only a recorded category: the score is never turned into a diagnosis (issue cmr-cardiac-mass).
    prognosis: computeMassPrognosis(inputs.diagnosis ? { diagnosis: inputs.diagnosis } : {}),
  };
}

/** Built on demand: the prefetch templates come from the terminology loaded at start-up. */
export const cmrCardiacMass = (): CdsService => ({
  description: cardiacMassDescription(),
  // Without conditions and observations the service cannot tell whether a mass is recorded, and would
  // report features as missing that may well exist: 412 rather than a wrong card.
  requiredPrefetch: [PREFETCH_KEYS.patient, PREFETCH_KEYS.conditions, PREFETCH_KEYS.observations],
  evaluate: evaluateCardiacMass,
});
