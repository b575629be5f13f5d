// The score step of the cmr-cardiac-mass service (MODELS.md section 2): CMR Mass Score, the features
// favouring thrombus, and the prognosis of a recorded CMR diagnosis. Pure: no I/O.
import type { ModelResult } from '../../models/types.ts';
import { computeCmrMassScore } from '../../models/cmr-mass-score.ts';
import { assessThrombusFeatures, type ThrombusFeaturesResult } from '../../models/thrombus-features.ts';
import { computeMassPrognosis } from '../../models/mass-prognosis.ts';
import type { CardiacMassInputs } from './inputs.ts';

export interface CardiacMassResults {
  inputs: CardiacMassInputs;
  score: ModelResult;
  thrombus: ThrombusFeaturesResult;
  prognosis: ModelResult;
}

export function scoreCardiacMass(inputs: CardiacMassInputs): CardiacMassResults {
  return {
    inputs,
    score: computeCmrMassScore(inputs.score),
    thrombus: assessThrombusFeatures(inputs.thrombus),
    // Only a recorded category: the score is never turned into a diagnosis (issue cmr-cardiac-mass).
    prognosis: computeMassPrognosis(inputs.diagnosis ? { diagnosis: inputs.diagnosis } : {}),
  };
}
