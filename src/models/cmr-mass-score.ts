// CMR Mass Score: Paolisso P, Bergamaschi L, et al. Circ Cardiovasc Imaging 2024;17(3):e016115,
// PMID 38502734 (MODELS.md 2a). [P] six items, range 0–8, malignant if ≥ 5; [S] per-item weights.
import type { Contribution, Input, ModelMetadata, ModelResult } from './types.ts';

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

export function computeCmrMassScore(inputs: CmrMassScoreInputs): ModelResult {
  const contributions: Contribution[] = [];
  const missing: string[] = [];
  const notes: string[] = [];
  let known = 0;
  let missingMax = 0;

  for (const f of FEATURES) {
    const input = inputs[f.key];
    if (typeof input?.value === 'boolean') {
      const pts = input.value ? f.points : 0;
      known += pts;
      contributions.push({ input: f.key, points: pts, band: `${f.label}: ${input.value ? 'present' : 'absent'}` });
      continue;
    }
    // A feature not assessed is unknown, not absent.
    if (input !== undefined) notes.push(`${f.key}: value ${String(input.value)} is not yes/no; treated as missing.`);
    missing.push(f.key);
    missingMax += f.points;
  }

  const echoed = Object.values(inputs).filter((i): i is Input => i !== undefined);
  const base = { model: metadata.id, unit: 'points', outcome: OUTCOME, contributions, missing, inputs: echoed, metadata };
  if (contributions.length === 0) {
    return { ...base, value: null, notes: [...notes, 'No CMR Mass Score feature assessed.'] };
  }
  const range = { min: known, max: known + missingMax };
  const lo = massTier(range.min);
  const hi = massTier(range.max);
  if (missing.length > 0) {
    notes.push(`Score ≥ ${range.min}, ${missing.length} feature(s) not assessed: ${missing.join(', ')}.`);
  }
  if (lo !== hi) notes.push(`Undetermined: ${range.min}–${range.max} points spans the malignancy cut-off (≥ ${MALIGNANT_CUTOFF}).`);
  return {
    ...base,
    value: known,
    display: missing.length > 0 ? `${range.min}–${range.max}` : String(known),
    ...(missing.length > 0 ? { range } : {}),
    ...(lo === hi ? { tier: lo } : {}),
    notes,
  };
}
