// L3 skeletal muscle index (SMI = muscle area / height²) and sarcopenia by a named cut-off set.
// Cut-off sets exactly as the MODELS.md 3e table (default carey-2017; the result names the set used).
import { noteMaker, type Input, type ModelMetadata, type ModelNote, type ModelResult, type NoteSpec } from './types.ts';
import { declined, denoise, fmt, numeric, present, sexOf } from './cirrhosis-common.ts';
import type { Sex } from './cirrhosis-common.ts';

export type SmiCutoffSetName = 'carey-2017' | 'martin-2013' | 'prado-2008' | 'zeng-2021-china';

export interface SmiCutoffSet {
  name: SmiCutoffSetName;
  /** Sarcopenia if SMI < this (cm²/m²). */
  women: number;
  /** A number, or BMI-specific values (Martin: BMI < 25 vs ≥ 25 kg/m²). */
  men: number | { bmiBelow25: number; bmiFrom25: number };
  metadata: ModelMetadata;
}

const SMI_NOTES = [
  'SMI = skeletal muscle area at L3 (cm²) / height² (m²); muscle on CT: −29 to +150 HU inside the muscle mask [S].',
  'Sarcopenia when SMI is strictly below the cut-off, as the MODELS.md table writes it.',
];

function setMetadata(name: SmiCutoffSetName, citation: string, url: string, evidence: 'primary' | 'secondary',
  population: string, rule: string, extra: string[] = []): ModelMetadata {
  return {
    id: 'smi', version: '1.0.0', title: `Skeletal muscle index (L3), sarcopenia by ${name} cut-offs`,
    citation, url, evidence, population,
    notes: [`Cut-off set ${name}: ${rule}`, ...SMI_NOTES, ...extra],
  };
}

// Martin 2013: the men's cut-off depends on BMI < 25 or ≥ 25 kg/m² (MODELS.md 3e).
const MARTIN_BMI = 25;

/**
 * MODELS.md 3e table; the tags there give the evidence level of each set. MODELS.md gives no DOIs:
 * Prado's was checked against its PubMed record; for the others a PubMed search is linked rather than
 * a guessed DOI.
 */
export const SMI_CUTOFF_SETS: Readonly<Record<SmiCutoffSetName, SmiCutoffSet>> = {
  'carey-2017': {
    name: 'carey-2017', men: 50, women: 39,
    metadata: setMetadata('carey-2017', 'Carey EJ et al., Liver Transpl 2017',
      'https://pubmed.ncbi.nlm.nih.gov/?term=Carey+EJ%5Bau%5D+sarcopenia+Liver+Transpl+2017', 'secondary',
      'Patients with cirrhosis (liver transplant candidates)', 'sarcopenia if SMI < 50 (men) or < 39 (women) cm²/m²'),
  },
  'martin-2013': {
    name: 'martin-2013', men: { bmiBelow25: 43, bmiFrom25: 53 }, women: 41,
    metadata: setMetadata('martin-2013', 'Martin L et al., J Clin Oncol 2013',
      'https://pubmed.ncbi.nlm.nih.gov/?term=Martin+L%5Bau%5D+skeletal+muscle+depletion+J+Clin+Oncol+2013', 'secondary',
      'Patients with cancer', 'sarcopenia if SMI < 43 (men, BMI < 25), < 53 (men, BMI ≥ 25) or < 41 (women) cm²/m²'),
  },
  'prado-2008': {
    name: 'prado-2008', men: 52.4, women: 38.5,
    metadata: setMetadata('prado-2008', 'Prado CM et al., Lancet Oncol 2008;9:629–35',
      'https://doi.org/10.1016/S1470-2045(08)70153-0', 'secondary',
      'Obese patients with solid tumours of the respiratory or gastrointestinal tract',
      'sarcopenia if SMI < 52.4 (men) or < 38.5 (women) cm²/m²',
      ['One secondary source writes the Prado cut-offs as ≤; strict < is used here, as in the MODELS.md table.']),
  },
  'zeng-2021-china': {
    name: 'zeng-2021-china', men: 44.77, women: 32.5,
    metadata: setMetadata('zeng-2021-china', 'Zeng X et al., J Cachexia Sarcopenia Muscle 2021;12:1948–58',
      'https://pubmed.ncbi.nlm.nih.gov/?term=Zeng+X%5Bau%5D+J+Cachexia+Sarcopenia+Muscle+2021+skeletal+muscle+index', 'primary',
      'Chinese population', 'sarcopenia if SMI < 44.77 (men) or < 32.50 (women) cm²/m²'),
  },
};

export const DEFAULT_SMI_CUTOFF_SET: SmiCutoffSetName = 'carey-2017';

/** For config validation: is this the name of a cut-off set? */
export function isSmiCutoffSet(name: string): name is SmiCutoffSetName {
  return Object.hasOwn(SMI_CUTOFF_SETS, name);
}

/** The model metadata of a set (the card's source is the set's paper). */
export function smiMetadata(set: SmiCutoffSetName = DEFAULT_SMI_CUTOFF_SET): ModelMetadata {
  return SMI_CUTOFF_SETS[set].metadata;
}

/** Default-set metadata, for listings that want one `metadata` per model file. */
export const metadata: ModelMetadata = smiMetadata();

/** Which set decided an SMI result (matched by its metadata citation; survives JSON round trips). */
export function smiCutoffSetOf(result: Pick<ModelResult, 'metadata'>): SmiCutoffSetName | undefined {
  return Object.values(SMI_CUTOFF_SETS).find((s) => s.metadata.citation === result.metadata.citation)?.name;
}

/** The cut-off (cm²/m²) for a sex, or undefined when the set needs a BMI that is not known. */
export function smiCutoff(set: SmiCutoffSetName, sex: Sex, bmi?: number): number | undefined {
  const s = SMI_CUTOFF_SETS[set];
  if (sex === 'female') return s.women;
  if (typeof s.men === 'number') return s.men;
  if (bmi === undefined) return undefined;
  return denoise(bmi) < MARTIN_BMI ? s.men.bmiBelow25 : s.men.bmiFrom25;
}

/** Strict '<' (MODELS.md 3e). */
export function isSarcopenic(smi: number, cutoff: number): boolean {
  return denoise(smi) < cutoff;
}

/** What an SMI result may say (worded in cards/cirrhosis-sarcopenia.yaml `modelNotes`). */
export const SMI_NOTE_SPEC = {
  cutoffSet: ['set', 'citation'],
  sexNotRecorded: [],
  bmiNotRecorded: ['set', 'bmi'],
  smiDerived: ['area', 'height'],
} as const satisfies NoteSpec;
const note = noteMaker(SMI_NOTE_SPEC);

export interface SmiInputs {
  /** SMI as measured (cm²/m²); when absent it is derived from muscleArea and height. */
  smi?: Input<number>;
  muscleArea?: Input<number>; // cm², L3
  height?: Input<number>; // m
  /** true or 'female' → female; false or 'male' → male. */
  sex?: Input<boolean | string>;
  /** kg/m²; needed only for men with the martin-2013 set. */
  bmi?: Input<number>;
}

export function computeSmi(inputs: SmiInputs, set: SmiCutoffSetName = DEFAULT_SMI_CUTOFF_SET): ModelResult {
  if (!isSmiCutoffSet(set)) throw new RangeError(`Unknown SMI cut-off set: ${String(set)}`);
  const meta = smiMetadata(set);
  const missing: string[] = [];
  let smiInput = numeric(inputs.smi) !== undefined ? inputs.smi : undefined;
  let used: Input[];
  let derivedFrom: { area: number; height: number } | undefined;
  if (smiInput !== undefined) {
    used = present(smiInput, inputs.sex, inputs.bmi);
  } else {
    const area = numeric(inputs.muscleArea);
    const height = numeric(inputs.height);
    if (area === undefined) missing.push('muscleArea');
    // A height so small that area / height² overflows is no height (fuzzing tests: JSON has no Infinity).
    const usableHeight = height !== undefined && height > 0 && (area === undefined || Number.isFinite(area / height ** 2));
    if (!usableHeight) missing.push('height');
    if (area !== undefined && height !== undefined && usableHeight) {
      derivedFrom = { area, height };
      smiInput = {
        name: 'smi', value: area / height ** 2, unit: 'cm2/m2', source: 'derived',
        ...(inputs.muscleArea?.date !== undefined ? { date: inputs.muscleArea.date } : {}),
      };
    }
    used = present(smiInput, inputs.muscleArea, inputs.height, inputs.sex, inputs.bmi);
  }
  if (smiInput === undefined) return declined(meta, 'cm2/m2', missing, used);

  const smi = smiInput.value;
  const sex = sexOf(inputs.sex);
  const bmi = numeric(inputs.bmi);
  const notes: ModelNote[] = [note('cutoffSet', { set, citation: meta.citation })];
  let tier: string | undefined;
  let band = 'cut-off not applicable';
  if (sex === undefined) {
    missing.push('sex');
    notes.push(note('sexNotRecorded'));
  } else {
    const cutoff = smiCutoff(set, sex, bmi);
    if (cutoff === undefined) {
      missing.push('bmi');
      notes.push(note('bmiNotRecorded', { set, bmi: MARTIN_BMI }));
    } else {
      tier = isSarcopenic(smi, cutoff) ? 'sarcopenia' : 'no sarcopenia';
      const bmiPart = bmi !== undefined && sex === 'male' && typeof SMI_CUTOFF_SETS[set].men !== 'number' ? `, BMI ${fmt(bmi)}` : '';
      band = `cut-off < ${fmt(cutoff)} cm²/m² (${sex}${bmiPart}, ${set})`;
    }
  }
  if (derivedFrom !== undefined) notes.push(note('smiDerived', { area: fmt(derivedFrom.area), height: fmt(derivedFrom.height) }));

  return {
    model: meta.id,
    value: smi,
    unit: 'cm2/m2',
    display: smi.toFixed(1),
    ...(tier !== undefined ? { tier } : {}),
    contributions: [{ input: 'smi', band }],
    missing,
    inputs: used,
    metadata: meta,
    notes,
  };
}
