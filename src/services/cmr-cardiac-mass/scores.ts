// The score step of the cmr-cardiac-mass service (MODELS.md section 2): CMR Mass Score, the features
// favouring thrombus, and the prognosis of a recorded CMR diagnosis, their notes in words. Pure.
import { computeCmrMassScore } from '../../models/cmr-mass-score.ts';
import { assessThrombusFeatures } from '../../models/thrombus-features.ts';
import { computeMassPrognosis } from '../../models/mass-prognosis.ts';
import type { ServiceEvaluation } from '../define.ts';
import { shown, type ShownResult } from '../model-notes.ts';
import type { CardiacMassInputs } from './inputs.ts';
import { wordThrombus, type WordedThrombus } from './thrombus.ts';
import type { MassWording } from './wording.ts';

export interface CardiacMassResults {
  inputs: CardiacMassInputs;
  score: ShownResult;
  thrombus: WordedThrombus;
  prognosis: ShownResult;
}

export function scoreCardiacMass(inputs: CardiacMassInputs, ev: ServiceEvaluation<MassWording>): CardiacMassResults {
  const w = ev.wording;
  return {
    inputs,
    score: shown(computeCmrMassScore(inputs.score), w.modelNotes),
    thrombus: wordThrombus(assessThrombusFeatures(inputs.thrombus), w),
    // Only a recorded category: the score is never turned into a diagnosis (issue cmr-cardiac-mass).
    prognosis: shown(computeMassPrognosis(inputs.diagnosis ? { diagnosis: inputs.diagnosis } : {}), w.modelNotes),
  };
}
