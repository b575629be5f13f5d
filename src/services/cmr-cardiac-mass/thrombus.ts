// The features favouring thrombus in words: the model (models/thrombus-features.ts) gives each feature
// of Table 3 with its cut-off and published accuracy as numbers; the card file words the criterion
// (`thrombusCriteria`), the accuracy (`thrombusAccuracy`) and the notes (`modelNotes`).
import { z } from 'zod';
import { FEATURES, type FeatureAccuracy, type ThrombusFeature, type ThrombusFeaturesResult } from '../../models/thrombus-features.ts';
import { fill, phrase } from '../card-wording.ts';
import { noteText, type NoteWording } from '../model-notes.ts';

/** The schema of `thrombusCriteria`: each feature of Table 3 (all of FEATURES), with the cut-off it may show. */
export const thrombusCriteria = z.strictObject({
  tiScoutTypical: phrase('cutoff'),
  lgePresent: phrase('cutoff'),
  firstPassPerfusionPresent: phrase('cutoff'),
  areaCm2: phrase('cutoff'),
  diameterCm: phrase('cutoff'),
  homogeneous: phrase('cutoff'),
  postContrastT1: phrase('cutoff'),
} satisfies Record<(typeof FEATURES)[number]['feature'], unknown>);

export const thrombusAccuracy = z.strictObject({
  sensitivitySpecificity: phrase('sensitivity', 'specificity'),
  accuracy: phrase('accuracy'),
});

export interface ThrombusWording {
  thrombusCriteria: z.output<typeof thrombusCriteria>;
  thrombusAccuracy: z.output<typeof thrombusAccuracy>;
  modelNotes: NoteWording;
}

export interface WordedFeature extends Omit<ThrombusFeature, 'cutoff' | 'accuracy'> {
  /** The Table 3 criterion, e.g. 'post-contrast T1 ≥ 422 ms'. */
  criterion: string;
  /** Published accuracy, e.g. 'sensitivity 94 %, specificity 98 %'. */
  accuracy: string;
}

export interface WordedThrombus extends Omit<ThrombusFeaturesResult, 'features' | 'notes'> {
  features: WordedFeature[];
  notes: string[];
}

export function wordThrombus(t: ThrombusFeaturesResult, w: ThrombusWording): WordedThrombus {
  const criterion = (feature: ThrombusFeature['feature'], cutoff?: number): string => fill(w.thrombusCriteria[feature], { cutoff: cutoff ?? '' });
  const accuracy = (a: FeatureAccuracy): string =>
    'accuracy' in a ? fill(w.thrombusAccuracy.accuracy, a) : fill(w.thrombusAccuracy.sensitivitySpecificity, a);
  const cutoffOf = (feature: string): number | undefined => t.features.find((f) => f.feature === feature)?.cutoff;
  return {
    ...t,
    features: t.features.map(({ cutoff, accuracy: a, ...f }) => ({ ...f, criterion: criterion(f.feature, cutoff), accuracy: accuracy(a) })),
    notes: t.notes.map((n) => {
      // The note names the feature by key: its criterion in words.
      const feature = n.vars.criterion;
      const isFeature = (k: unknown): k is ThrombusFeature['feature'] => typeof k === 'string' && Object.hasOwn(w.thrombusCriteria, k);
      return noteText(n, w.modelNotes, isFeature(feature) ? { criterion: criterion(feature, cutoffOf(feature)) } : {});
    }),
  };
}
