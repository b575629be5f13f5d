// CMR features that favour thrombus over tumour: Pazos-López P et al., JACC Cardiovasc Imaging 2014,
// Table 3 (MODELS.md 2b) [P]. Each feature is reported on its own with its published accuracy: the
// paper gives no rule for combining them, so none is invented here (no count, no probability).
import { noteMaker, type Input, type ModelId, type ModelMetadata, type ModelNote, type NoteSpec } from './types.ts';

export const metadata: ModelMetadata = {
  id: 'thrombus-features-pazos-lopez-2014',
  version: '1.0.0',
  title: 'CMR features favouring thrombus over tumour',
  citation: 'Pazos-López P et al., JACC Cardiovasc Imaging 2014, Table 3',
  // MODELS.md gives no DOI: link a PubMed search rather than guess one.
  url: 'https://pubmed.ncbi.nlm.nih.gov/?term=Pazos-L%C3%B3pez+JACC+Cardiovasc+Imaging+2014+thrombus+tumor',
  evidence: 'primary',
  population: 'Patients with a cardiac mass (thrombus versus tumour) characterised by CMR',
  notes: ['Single features with their own accuracy; the paper defines no combined score.'],
};

export interface ThrombusFeatureInputs {
  /** typical thrombus pattern on the TI scout (inversion-time scout) */
  tiScoutTypical?: Input<boolean>;
  /** any late gadolinium enhancement of the mass */
  lgePresent?: Input<boolean>;
  /** first-pass contrast perfusion of the mass */
  firstPassPerfusionPresent?: Input<boolean>;
  /** area, cm² */
  areaCm2?: Input<number>;
  /** diameter, cm */
  diameterCm?: Input<number>;
  /** homogeneous signal */
  homogeneous?: Input<boolean>;
  /**
   * T1 of the mass AFTER contrast, ms: Pazos-López 2014 imaged masses with a post-contrast TI scout and
   * acquired no native T1 map; thrombus keeps a long T1 after gadolinium while enhancing tissue
   * shortens. A native T1 (about 1000 ms in myocardium and most tumours) must never be passed here
   * (MODELS.md 2b, corrected).
   */
  postContrastT1?: Input<number>;
}

export type FeatureStatus = 'favours-thrombus' | 'does-not-favour' | 'unknown';

/** Published accuracy of one feature (Table 3): sensitivity and specificity, or accuracy, in %. */
export type FeatureAccuracy = { sensitivity: number; specificity: number } | { accuracy: number };

export interface ThrombusFeature {
  feature: keyof ThrombusFeatureInputs;
  /** The Table 3 cut-off of a measured feature (e.g. 422 ms for the post-contrast T1). */
  cutoff?: number;
  accuracy: FeatureAccuracy;
  status: FeatureStatus;
  input?: Input;
}

export interface ThrombusFeaturesResult {
  model: ModelId;
  features: ThrombusFeature[];
  favouring: Array<keyof ThrombusFeatureInputs>;
  notFavouring: Array<keyof ThrombusFeatureInputs>;
  unknown: Array<keyof ThrombusFeatureInputs>;
  /** Same as `unknown`: named like ModelResult.missing for the cards. */
  missing: string[];
  inputs: Input[];
  metadata: ModelMetadata;
  notes: ModelNote[];
}

/**
 * Table 3 of Pazos-López 2014, in the paper's order (MODELS.md 2b): each feature favours thrombus when
 * the yes/no finding is `favoursWhen`, or when the measured value compares with `cutoff` as given.
 * The criteria in words are in the card file (cards/cmr-cardiac-mass.yaml `thrombusCriteria`).
 */
export const FEATURES = [
  { feature: 'tiScoutTypical', favoursWhen: true, accuracy: { sensitivity: 94, specificity: 98 } },
  { feature: 'lgePresent', favoursWhen: false, accuracy: { accuracy: 87 } },
  { feature: 'firstPassPerfusionPresent', favoursWhen: false, accuracy: { sensitivity: 96, specificity: 70 } },
  { feature: 'areaCm2', comparison: '<', cutoff: 4.1, accuracy: { accuracy: 86 } },
  { feature: 'diameterCm', comparison: '<', cutoff: 2.4, accuracy: { accuracy: 82 } },
  { feature: 'homogeneous', favoursWhen: true, accuracy: { accuracy: 84 } },
  { feature: 'postContrastT1', comparison: '>=', cutoff: 422, accuracy: { accuracy: 73 } },
] as const satisfies ReadonlyArray<
  { feature: keyof ThrombusFeatureInputs; accuracy: FeatureAccuracy } & ({ favoursWhen: boolean } | { comparison: '<' | '>='; cutoff: number })
>;

/** What a result may say besides its features (worded in cards/cmr-cardiac-mass.yaml `modelNotes`). */
export const THROMBUS_NOTE_SPEC = {
  /** {criterion} is given as the feature's key; the service words the criterion (`thrombusCriteria`). */
  featureNotUsable: ['criterion', 'value'],
  tiScoutStrongest: ['sensitivity', 'specificity'],
  anticoagulation: [],
} as const satisfies NoteSpec;
const note = noteMaker(THROMBUS_NOTE_SPEC);

type Spec = (typeof FEATURES)[number];

/** true when the value meets the criterion favouring thrombus; undefined when unusable. */
function favours(spec: Spec, v: unknown): boolean | undefined {
  if ('favoursWhen' in spec) return typeof v === 'boolean' ? v === spec.favoursWhen : undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return undefined;
  return spec.comparison === '<' ? v < spec.cutoff : v >= spec.cutoff;
}

export function assessThrombusFeatures(inputs: ThrombusFeatureInputs): ThrombusFeaturesResult {
  const notes: ModelNote[] = [];
  const features: ThrombusFeature[] = FEATURES.map((spec) => {
    const input = inputs[spec.feature];
    const base = { feature: spec.feature, ...('cutoff' in spec ? { cutoff: spec.cutoff } : {}), accuracy: spec.accuracy };
    if (input === undefined) return { ...base, status: 'unknown' };
    const yes = favours(spec, input.value);
    if (yes === undefined) {
      notes.push(note('featureNotUsable', { criterion: spec.feature, value: String(input.value) }));
      return { ...base, status: 'unknown', input };
    }
    return { ...base, status: yes ? 'favours-thrombus' : 'does-not-favour', input };
  });
  const pick = (s: FeatureStatus) => features.filter((f) => f.status === s).map((f) => f.feature);
  const favouring = pick('favours-thrombus');
  const unknown = pick('unknown');

  if (favouring.includes('tiScoutTypical')) {
    // The strongest single feature of Table 3 (sens 94 %, spec 98 %); guidance, not an order.
    notes.push(note('tiScoutStrongest', FEATURES[0].accuracy), note('anticoagulation'));
  }
  return {
    model: metadata.id,
    features,
    favouring,
    notFavouring: pick('does-not-favour'),
    unknown,
    missing: [...unknown],
    inputs: Object.values(inputs).filter((i): i is Input => i !== undefined),
    metadata,
    notes,
  };
}
