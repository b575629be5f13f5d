// The cirrhosis-sarcopenia CDS service: MELD 3.0 family, Child-Pugh, ALBI, L3 SMI and MELD-Sarcopenia
// (MODELS.md section 3). Data in, cards out; no I/O.
import type { CdsService, EvaluationContext, ResolvedPrefetch } from '../types.ts';
import type { Card } from '../../hooks/types.ts';
import { computeMeld3 } from '../../models/meld3.ts';
import { computeMeld, computeMeldNa } from '../../models/meld.ts';
import { computeChildPugh } from '../../models/child-pugh.ts';
import { computeAlbi } from '../../models/albi.ts';
import { computeSmi } from '../../models/smi.ts';
import { computeMeldSarcopenia } from '../../models/meld-sarcopenia.ts';
import { cirrhosisDescription, PREFETCH_KEYS } from './definition.ts';
import { gatherCirrhosisInputs } from './inputs.ts';
import { cirrhosisCards, type CirrhosisResults } from './cards.ts';

export function evaluateCirrhosis(data: ResolvedPrefetch, ctx: EvaluationContext): Card[] {
  const results = scoreCirrhosis(data, ctx);
  return results ? cirrhosisCards(results, ctx) : [];
}

/** The pure score step (data + context -> results), shared by the cards and the SMART detail view. */
export function scoreCirrhosis(data: ResolvedPrefetch, ctx: EvaluationContext): CirrhosisResults | undefined {
  const i = gatherCirrhosisInputs(data, ctx);
  if (!i.cirrhosis) return undefined; // Not applicable: nothing to say (DESIGN.md, Clinicians).
  const labs = { bilirubin: i.bilirubin, creatinine: i.creatinine, inr: i.inr, dialysis: i.dialysis };
  const meld = computeMeld(labs);
  // With no qualifying dialysis recorded, what the MELD family would be had it taken place unrecorded
  // (the card states it only where creatinine makes it matter: cards.ts dialysisStatements).
  const onDialysis = i.dialysis?.value === false ? { ...labs, dialysis: { name: 'dialysis', value: true, source: 'derived' } } : undefined;
  const smi = computeSmi({ smi: i.smi, muscleArea: i.muscleArea, height: i.height, sex: i.sex, bmi: i.bmi }, ctx.config.smiCutoffSet);
  const results: CirrhosisResults = {
    meld3: computeMeld3({ ...labs, sodium: i.sodium, albumin: i.albumin, sex: i.sex, age: i.age }),
    meldNa: computeMeldNa({ ...labs, sodium: i.sodium }),
    meld,
    childPugh: computeChildPugh({
      bilirubin: i.bilirubin, albumin: i.albumin, inr: i.inr, ascites: i.ascites, encephalopathy: i.encephalopathy, cholestaticDisease: i.cholestaticDisease,
    }),
    albi: computeAlbi({ bilirubin: i.bilirubin, albumin: i.albumin }),
    smi,
    meldSarcopenia: computeMeldSarcopenia({ meld, smi }),
    missingReasons: i.missingReasons,
    ...(i.dialysisSessions !== undefined ? { dialysisSessions: i.dialysisSessions } : {}),
    ...(onDialysis ? {
      ifDialysis: {
        meld3: computeMeld3({ ...onDialysis, sodium: i.sodium, albumin: i.albumin, sex: i.sex, age: i.age }),
        meldNa: computeMeldNa({ ...onDialysis, sodium: i.sodium }),
        meld: computeMeld(onDialysis),
      },
    } : {}),
  };
  return results;
}

/** Built on demand: the prefetch templates come from the terminology loaded at start-up. */
export const cirrhosisSarcopenia = (): CdsService => ({
  description: cirrhosisDescription(),
  // Without the patient and their conditions the service cannot tell whether it applies; without
  // observations it would report labs as missing that may well exist: 412 rather than a wrong card.
  requiredPrefetch: [PREFETCH_KEYS.patient, PREFETCH_KEYS.conditions, PREFETCH_KEYS.observations],
  evaluate: evaluateCirrhosis,
});
