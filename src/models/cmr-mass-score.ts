// CMR Mass Score: Paolisso P, Bergamaschi L, et al. Circ Cardiovasc Imaging 2024;17(3):e016115,
// PMID 38502734 (MODELS.md 2a). [P] six items, range 0–8, malignant if ≥ 5; [S] per-item weights.
import { PointsTally, TALLY_NOTE_SPEC } from './points-tally.ts';
import { noteMaker, type Input, type ModelMetadata, type ModelResult, type NoteSpec } from './types.ts';

export const metadata: ModelMetadata = {
  id: 'cmr-mass-score',
  version: '1.0.0',
  title: 'CMR Mass Score (malignancy of a cardiac mass)',
  citation: 'Paolisso P, Bergamaschi L, et al. Circ Cardiovasc Imaging 2024;17(3):e016115, PMID 38502734.',
  url: 'https://pubmed.ncbi.nlm.nih.gov/38502734/',
  // Items, range and cut-off are primary, but the weights per item are only in secondary sources.
  evidence: 'secondary',
  population: 'Patients with a cardiac mass characterised by CMR',
  notes: [
    'Items, range 0–8 and the malignancy cut-off ≥ 5 [P]; the per-item weights (2, 2, 1, 1, 1, 1) are from secondary sources [S].',
  ],
};

export interface CmrMassScoreInputs {
  infiltration?: Input<boolean>;
  firstPassPerfusion?: Input<boolean>;
  sessile?: Input<boolean>;
  polylobate?: Input<boolean>;
  pericardialEffusion?: Input<boolean>;
  /** heterogeneous late gadolinium enhancement */
  heterogeneousEnhancement?: Input<boolean>;
}

/** MODELS.md 2a feature table. */
export const FEATURES: ReadonlyArray<{ key: keyof CmrMassScoreInputs; points: number; label: string }> = [
  { key: 'infiltration', points: 2, label: 'infiltration' },
  { key: 'firstPassPerfusion', points: 2, label: 'first-pass contrast perfusion' },
  { key: 'sessile', points: 1, label: 'sessile' },
  { key: 'polylobate', points: 1, label: 'polylobate' },
  { key: 'pericardialEffusion', points: 1, label: 'pericardial effusion' },
  { key: 'heterogeneousEnhancement', points: 1, label: 'heterogeneous enhancement (LGE)' },
];

export const MALIGNANT_CUTOFF = 5;
export const OUTCOME = 'malignancy';

export const massTier = (points: number): 'likely malignant' | 'likely benign' =>
  points >= MALIGNANT_CUTOFF ? 'likely malignant' : 'likely benign';

/** What a CMR Mass Score result may say (worded in cards/cmr-cardiac-mass.yaml `modelNotes`). */
export const CMR_MASS_NOTE_SPEC = {
  ...TALLY_NOTE_SPEC,
  massNoFeature: [],
  massScoreAtLeast: ['min', 'count', 'features'],
  massUndetermined: ['min', 'max', 'cutoff'],
} as const satisfies NoteSpec;
const note = noteMaker(CMR_MASS_NOTE_SPEC);

export function computeCmrMassScore(inputs: CmrMassScoreInputs): ModelResult {
  const tally = new PointsTally<keyof CmrMassScoreInputs>(inputs, Object.fromEntries(FEATURES.map((f) => [f.key, f.label])));
  const { notes, contributions, missing } = tally;
  for (const f of FEATURES) {
    // A feature not assessed is unknown, not absent.
    const present = tally.boolean(f.key);
    tally.add(f.key, present === undefined ? undefined : { points: present ? f.points : 0, band: `${f.label}: ${present ? 'present' : 'absent'}` }, { max: f.points });
  }

  const base = { model: metadata.id, unit: 'points', outcome: OUTCOME, contributions, missing, inputs: tally.echoed(), metadata };
  if (contributions.length === 0) {
    return { ...base, value: null, notes: [...notes, note('massNoFeature')] };
  }
  const { known, range } = tally;
  const lo = massTier(range.min);
  const hi = massTier(range.max);
  if (missing.length > 0) {
    const label = (k: string): string => FEATURES.find((f) => f.key === k)?.label ?? k;
    notes.push(note('massScoreAtLeast', { min: range.min, count: missing.length, features: missing.map(label).join(', ') }));
  }
  if (lo !== hi) notes.push(note('massUndetermined', { min: range.min, max: range.max, cutoff: MALIGNANT_CUTOFF }));
  return {
    ...base,
    value: known,
    display: missing.length > 0 ? `${range.min}–${range.max}` : String(known),
    ...(missing.length > 0 ? { range } : {}),
    ...(lo === hi ? { tier: lo } : {}),
    notes,
  };
}
