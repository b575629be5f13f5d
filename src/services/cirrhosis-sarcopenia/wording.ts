// The schema of cards/cirrhosis-sarcopenia.yaml: every key explicit, every text with the
// placeholders cards.ts fills. A missing or misspelt key stops the start (card-wording.ts).
import { z } from 'zod';
import { card, indicator, labels, phrase, serviceWording, type WordingCodes, imagingWording } from '../card-wording.ts';
import { SMI_CUTOFF_SETS, SMI_NOTE_SPEC, type SmiCutoffSetName } from '../../models/smi.ts';
import { MELD3_BANDS, MELD3_NOTE_SPEC } from '../../models/meld3.ts';
import { MELD_NOTE_SPEC } from '../../models/meld.ts';
import { CHILD_PUGH_NOTE_SPEC } from '../../models/child-pugh.ts';
import { ALBI_NOTE_SPEC } from '../../models/albi.ts';
import { MELD_SARCOPENIA_NOTE_SPEC } from '../../models/meld-sarcopenia.ts';
import { modelNotes } from '../model-notes.ts';
import type { ModelId } from '../../models/types.ts';

const BAND_LABELS = MELD3_BANDS.map((b) => b.label) as [string, ...string[]];
const CUTOFF_SETS = Object.keys(SMI_CUTOFF_SETS) as [SmiCutoffSetName, ...SmiCutoffSetName[]];
/** The models of this service's cards (the declaration's `models`). */
export const CIRRHOSIS_MODELS = ['meld-3.0', 'meld-na', 'meld', 'child-pugh', 'albi', 'smi', 'meld-sarcopenia'] as const satisfies readonly ModelId[];

const trend = z.strictObject({ label: phrase(), note: phrase() });

export const cirrhosisWording = (codes: WordingCodes) => serviceWording(codes, 'cirrhosis-sarcopenia', {
  cards: {
    'liver-prognosis': card(codes, {
      prefix: phrase(),
      meld3: phrase('value', 'mortality'),
      meld3AboveRange: phrase('value'),
      meld3Bound: phrase('value', 'missing'),
      meld3Declined: phrase('missing'),
      childPugh: phrase('tier', 'points'),
      childPughRange: phrase('tier', 'min', 'max', 'count'),
      albi: phrase('grade'),
    }, {
      scoresHeading: phrase(),
      notesHeading: phrase(),
      missingHeading: phrase(),
      inputsHeading: phrase(),
    }),
    'data-missing': card(codes, {
      text: phrase('missing'),
    }, {
      intro: phrase('lookbackDays'),
      missingHeading: phrase(),
    }),
    sarcopenia: card(codes, {
      text: phrase('smi', 'cutoff', 'set', 'meldSarcopenia'),
      noMeld: phrase('smi', 'cutoff', 'set', 'missing'),
    }, {
      intro: phrase('set', 'sex', 'cutoff'),
      cutoffCaveat: phrase('set'),
      notesHeading: phrase(),
      missingHeading: phrase(),
      inputsHeading: phrase(),
    }),
  },
  tables: {
    meld3Indicator: z.record(z.enum(BAND_LABELS), indicator),
    childPughIndicator: z.record(z.enum(['A', 'B', 'C']), indicator),
    scoreSources: z.record(z.enum(CIRRHOSIS_MODELS), phrase()),
    cutoffSets: z.record(z.enum(CUTOFF_SETS), phrase()),
    inputLabels: labels,
  },
  text: {
    dialysisNoneRecorded: phrase(),
    dialysisOneSession: phrase(),
    dialysisAtCap: phrase('score', 'creatinine', 'cap'),
    dialysisBelowCap: phrase('score', 'creatinine', 'cap', 'value', 'ifDialysis'),
    imagingNoSeg: phrase(),
    imagingSegUnusable: phrase('reason'),
    secondaryEvidence: phrase(),
  },
  extra: {
    /** What the cards say about the imaging read (card-kit.ts imagingBlock). */
    imaging: imagingWording,
    /** What the models say about a result (their NoteSpecs), shown with the scores. */
    modelNotes: modelNotes(MELD3_NOTE_SPEC, MELD_NOTE_SPEC, CHILD_PUGH_NOTE_SPEC, ALBI_NOTE_SPEC, SMI_NOTE_SPEC, MELD_SARCOPENIA_NOTE_SPEC),
    /** The SMART detail view of this service (detail.ts). */
    detailView: z.strictObject({
      meld3Bands: z.strictObject({ label: phrase(), caveat: phrase(), source: phrase() }),
      trends: z.strictObject({ meld3: trend }),
    }),
  },
});

export type CirrhosisWording = z.output<ReturnType<typeof cirrhosisWording>>;
