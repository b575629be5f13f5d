// The score step of the cirrhosis-sarcopenia service (MODELS.md section 3): the MELD 3.0 family,
// Child-Pugh, ALBI, L3 SMI and MELD-Sarcopenia on the gathered inputs. Pure: no I/O.
import type { ServiceEvaluation } from '../define.ts';
import { shown, type ShownResult } from '../model-notes.ts';
import type { ModelResult } from '../../models/types.ts';
import { computeMeld3 } from '../../models/meld3.ts';
import { computeMeld, computeMeldNa } from '../../models/meld.ts';
import { computeChildPugh } from '../../models/child-pugh.ts';
import { computeAlbi } from '../../models/albi.ts';
import { computeSmi } from '../../models/smi.ts';
import { computeMeldSarcopenia } from '../../models/meld-sarcopenia.ts';
import type { CirrhosisInputs } from './inputs.ts';
import type { CirrhosisWording } from './wording.ts';

export interface CirrhosisResults {
  meld3: ShownResult;
  meldNa: ShownResult;
  meld: ShownResult;
  childPugh: ShownResult;
  albi: ShownResult;
  smi: ShownResult;
  meldSarcopenia: ShownResult;
  /** Why an input is missing, e.g. 'albumin' -> 'no result in the last 30 days'. */
  missingReasons: Record<string, string>;
  /** Dialysis procedures in the 7-day look-back; undefined when procedures could not be read. */
  dialysisSessions?: number;
  /** The MELD family had ≥ 2 treatments or 24 h of CVVHD taken place unrecorded (only when none qualifying is recorded). */
  ifDialysis?: { meld3: ShownResult; meldNa: ShownResult; meld: ShownResult };
}

/** The models on the inputs; their notes worded by the card file (`modelNotes`). */
export function scoreCirrhosis(i: CirrhosisInputs, ev: ServiceEvaluation<CirrhosisWording>): CirrhosisResults {
  const word = <R extends ModelResult>(r: R) => shown(r, ev.wording.modelNotes);
  const labs = { bilirubin: i.bilirubin, creatinine: i.creatinine, inr: i.inr, dialysis: i.dialysis };
  const meld = computeMeld(labs);
  // With no qualifying dialysis recorded, what the MELD family would be had it taken place unrecorded
  // (the card states it only where creatinine makes it matter: cards.ts dialysisStatements).
  const onDialysis = i.dialysis?.value === false ? { ...labs, dialysis: { name: 'dialysis', value: true, source: 'derived' } } : undefined;
  const smi = computeSmi({ smi: i.smi, muscleArea: i.muscleArea, height: i.height, sex: i.sex, bmi: i.bmi }, ev.runtime.config.smiCutoffSet);
  return {
    meld3: word(computeMeld3({ ...labs, sodium: i.sodium, albumin: i.albumin, sex: i.sex, age: i.age })),
    meldNa: word(computeMeldNa({ ...labs, sodium: i.sodium })),
    meld: word(meld),
    childPugh: word(computeChildPugh({
      bilirubin: i.bilirubin, albumin: i.albumin, inr: i.inr, ascites: i.ascites, encephalopathy: i.encephalopathy, cholestaticDisease: i.cholestaticDisease,
    })),
    albi: word(computeAlbi({ bilirubin: i.bilirubin, albumin: i.albumin })),
    smi: word(smi),
    meldSarcopenia: word(computeMeldSarcopenia({ meld, smi })),
    missingReasons: i.missingReasons,
    ...(i.dialysisSessions !== undefined ? { dialysisSessions: i.dialysisSessions } : {}),
    ...(onDialysis ? {
      ifDialysis: {
        meld3: word(computeMeld3({ ...onDialysis, sodium: i.sodium, albumin: i.albumin, sex: i.sex, age: i.age })),
        meldNa: word(computeMeldNa({ ...onDialysis, sodium: i.sodium })),
        meld: word(computeMeld(onDialysis)),
      },
    } : {}),
  };
}
