// CMR features that favour thrombus over tumour: Pazos-López P et al., JACC Cardiovasc Imaging 2014,
// Table 3 (MODELS.md 2b) [P]. Each feature is reported on its own with its published accuracy: the
// paper gives no rule for combining them, so none is invented here (no count, no probability).
import type { Input, ModelMetadata } from './types.ts';

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

export interface ThrombusFeature {
  feature: keyof ThrombusFeatureInputs;
  /** The Table 3 criterion, e.g. 'post-contrast T1 ≥ 422 ms'. */
  criterion: string;
  /** Published accuracy text, e.g. 'sensitivity 94 %, specificity 98 %'. */
  accuracy: string;
  status: FeatureStatus;
  input?: Input;
}

export interface ThrombusFeaturesResult {
  model: string;
  features: ThrombusFeature[];
  favouring: Array<keyof ThrombusFeatureInputs>;
  notFavouring: Array<keyof ThrombusFeatureInputs>;
  unknown: Array<keyof ThrombusFeatureInputs>;
  /** Same as `unknown`: named like ModelResult.missing for the cards. */
  missing: string[];
  inputs: Input[];
  metadata: ModelMetadata;
  notes: string[];
}

interface Spec {
  feature: keyof ThrombusFeatureInputs;
  criterion: string;
  accuracy: string;
  /** true when the value meets the criterion favouring thrombus; undefined when unusable. */
  favours: (v: unknown) => boolean | undefined;
}

const isYes = (want: boolean) => (v: unknown) => (typeof v === 'boolean' ? v === want : undefined);
const num = (test: (v: number) => boolean) => (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? test(v) : undefined;

// MODELS.md 2b: Table 3 of Pazos-López 2014, in the paper's order.
export const FEATURES: readonly Spec[] = [
  { feature: 'tiScoutTypical', criterion: 'typical TI-scout pattern', accuracy: 'sensitivity 94 %, specificity 98 %', favours: isYes(true) },
  { feature: 'lgePresent', criterion: 'absent LGE', accuracy: 'accuracy 87 %', favours: isYes(false) },
  { feature: 'firstPassPerfusionPresent', criterion: 'absent first-pass perfusion', accuracy: 'sensitivity 96 %, specificity 70 %', favours: isYes(false) },
  { feature: 'areaCm2', criterion: 'area < 4.1 cm²', accuracy: 'accuracy 86 %', favours: num((v) => v < 4.1) },
  { feature: 'diameterCm', criterion: 'diameter < 2.4 cm', accuracy: 'accuracy 82 %', favours: num((v) => v < 2.4) },
  { feature: 'homogeneous', criterion: 'homogeneous', accuracy: 'accuracy 84 %', favours: isYes(true) },
  { feature: 'postContrastT1', criterion: 'post-contrast T1 ≥ 422 ms', accuracy: 'accuracy 73 %', favours: num((v) => v >= 422) },
];

export function assessThrombusFeatures(inputs: ThrombusFeatureInputs): ThrombusFeaturesResult {
  const notes: string[] = [];
  const features: ThrombusFeature[] = FEATURES.map((spec) => {
    const input = inputs[spec.feature];
    const base = { feature: spec.feature, criterion: spec.criterion, accuracy: spec.accuracy };
    if (input === undefined) return { ...base, status: 'unknown' };
    const favours = spec.favours(input.value);
    if (favours === undefined) {
      notes.push(`${spec.criterion}: value ${String(input.value)} is not usable; treated as unknown.`);
      return { ...base, status: 'unknown', input };
    }
    return { ...base, status: favours ? 'favours-thrombus' : 'does-not-favour', input };
  });
  const pick = (s: FeatureStatus) => features.filter((f) => f.status === s).map((f) => f.feature);
  const favouring = pick('favours-thrombus');
  const unknown = pick('unknown');

  if (favouring.includes('tiScoutTypical')) {
    // The strongest single feature of Table 3 (sens 94 %, spec 98 %); guidance, not an order.
    notes.push(
      'Typical TI-scout pattern present: the single strongest feature in Pazos-López 2014 (sensitivity 94 %, specificity 98 %).',
      'A thrombus pattern suggests discussing anticoagulation.',
    );
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
