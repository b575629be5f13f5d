// MELD-Sarcopenia = MELD + 10.35 × sarcopenia — Montano-Loza AJ et al., Clin Transl Gastroenterol
// 2015;6:e102, doi:10.1038/ctg.2015.31 (coefficient confirmed by the van Vugt 2018 validation; MODELS.md 3e).
// It adds to the original MELD (meld.ts), not MELD-Na; sarcopenia comes from an SMI result (smi.ts).
import { noteMaker, type Contribution, type Input, type ModelMetadata, type ModelNote, type ModelResult, type NoteSpec } from './types.ts';
import { declined, fmt } from './cirrhosis-common.ts';
import { smiCutoffSetOf, type SmiCutoffSetName } from './smi.ts';

export const metadata: ModelMetadata = {
  id: 'meld-sarcopenia',
  version: '1.0.0',
  title: 'MELD-Sarcopenia',
  citation: 'Montano-Loza AJ et al., Clin Transl Gastroenterol 2015;6:e102',
  url: 'https://doi.org/10.1038/ctg.2015.31',
  // MODELS.md 3e gives no [P] tag for the paper, and the SMI cut-off sets it depends on are mostly [S].
  evidence: 'secondary',
  population: 'Patients with cirrhosis',
  notes: [
    'MELD-Sarcopenia = MELD (original, OPTN 9.1.D; not MELD-Na) + 10.35 × sarcopenia (1 if present, else 0).',
    'The original study used the Martin 2013 (sex- and BMI-specific) SMI cut-offs; the site may choose another set, named on each result.',
  ],
};

// Coefficient of sarcopenia (MODELS.md 3e; Montano-Loza 2015, confirmed by van Vugt 2018).
export const SARCOPENIA_COEFFICIENT = 10.35;
/** The SMI cut-off set of the original study (Montano-Loza 2015). */
const ORIGINAL_SET: SmiCutoffSetName = 'martin-2013';

/** What a MELD-Sarcopenia result may say (worded in cards/cirrhosis-sarcopenia.yaml `modelNotes`). */
export const MELD_SARCOPENIA_NOTE_SPEC = {
  sarcopeniaPresentOriginalSet: ['set'],
  sarcopeniaAbsentOriginalSet: ['set'],
  sarcopeniaPresentOtherSet: ['set'],
  sarcopeniaAbsentOtherSet: ['set'],
  meldRange: ['min', 'max'],
} as const satisfies NoteSpec;
const note = noteMaker(MELD_SARCOPENIA_NOTE_SPEC);

export interface MeldSarcopeniaInputs {
  /** The original MELD result (model 'meld'), or its value; null/undefined when unavailable. */
  meld: ModelResult | number | null | undefined;
  /** The SMI result whose tier ('sarcopenia' | 'no sarcopenia') decides the term. */
  smi: ModelResult | null | undefined;
}

export function computeMeldSarcopenia(inputs: MeldSarcopeniaInputs): ModelResult {
  const { smi } = inputs;
  const meldResult = typeof inputs.meld === 'object' && inputs.meld !== null ? inputs.meld : undefined;
  if (meldResult !== undefined && meldResult.model !== 'meld') {
    // MELD-Sarcopenia was built on the original MELD; MELD-Na or MELD 3.0 would give a different score.
    throw new TypeError(`MELD-Sarcopenia needs the original MELD result, got '${meldResult.model}'`);
  }
  const meldValue = typeof inputs.meld === 'number'
    ? (Number.isFinite(inputs.meld) ? inputs.meld : null)
    : meldResult?.value ?? null;
  const sarcopenia = smi?.tier === 'sarcopenia' ? 1 : smi?.tier === 'no sarcopenia' ? 0 : undefined;
  const set = smi ? smiCutoffSetOf(smi) : undefined;

  const used = unique<Input>([...(meldResult?.inputs ?? []), ...(smi?.inputs ?? [])]);
  // What the parts lack (e.g. 'dialysis' behind a MELD range) is what this score lacks too.
  const partsMissing = [...(meldResult?.missing ?? []), ...(smi?.missing ?? [])];
  if (meldValue === null || sarcopenia === undefined) {
    const own = [...(meldValue === null ? ['meld'] : []), ...(sarcopenia === undefined ? ['sarcopenia'] : [])];
    return declined(metadata, 'points', unique([...own, ...partsMissing]), used);
  }

  const term = SARCOPENIA_COEFFICIENT * sarcopenia;
  const value = meldValue + term;
  const bySet = { set: set ?? 'unnamed' };
  const notes: ModelNote[] = [
    set === ORIGINAL_SET
      ? note(sarcopenia ? 'sarcopeniaPresentOriginalSet' : 'sarcopeniaAbsentOriginalSet', bySet)
      : note(sarcopenia ? 'sarcopeniaPresentOtherSet' : 'sarcopeniaAbsentOtherSet', bySet),
  ];
  const meldRange = meldResult?.range;
  if (meldRange) notes.push(note('meldRange', { min: fmt(meldRange.min), max: fmt(meldRange.max) }));
  const contributions: Contribution[] = [
    { input: 'meld', term: meldValue, band: 'original MELD (OPTN 9.1.D)' },
    { input: 'sarcopenia', term, band: `${sarcopenia ? 'sarcopenia' : 'no sarcopenia'} (${set ?? 'cut-off set not named'})` },
  ];

  return {
    model: metadata.id,
    value,
    unit: 'points',
    // MELD is an integer and the coefficient has two decimals: two decimals show the sum exactly.
    display: value.toFixed(2),
    ...(meldRange ? { range: { min: meldRange.min + term, max: meldRange.max + term } } : {}),
    contributions,
    missing: unique(partsMissing),
    inputs: used,
    metadata,
    notes,
  };
}

function unique<T>(xs: T[]): T[] {
  return xs.filter((x, i) => xs.indexOf(x) === i);
}
