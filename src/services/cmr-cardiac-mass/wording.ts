// The schema of cards/cmr-cardiac-mass.yaml: every key explicit, every text with the placeholders
// cards.ts fills. A missing or misspelt key stops the start (card-wording.ts).
import { z } from 'zod';
import { card, indicator, labels, phrase, serviceWording, type WordingCodes, imagingWording } from '../card-wording.ts';
import { CMR_MASS_NOTE_SPEC, FEATURES } from '../../models/cmr-mass-score.ts';
import { DIAGNOSES, MASS_PROGNOSIS_NOTE_SPEC } from '../../models/mass-prognosis.ts';
import { THROMBUS_NOTE_SPEC } from '../../models/thrombus-features.ts';
import { modelNotes } from '../model-notes.ts';
import { thrombusAccuracy, thrombusCriteria } from './thrombus.ts';
import type { ModelId } from '../../models/types.ts';

/** The models of this service's cards and detail view (the declaration's `models`). */
export const MASS_MODELS = ['cmr-mass-score', 'mass-prognosis-shenoy-2022', 'thrombus-features-pazos-lopez-2014'] as const satisfies readonly ModelId[];
const SCORE_FEATURES = FEATURES.map((f) => f.key) as [(typeof FEATURES)[number]['key'], ...Array<(typeof FEATURES)[number]['key']>];

export const massWording = (codes: WordingCodes) => serviceWording(codes, 'cmr-cardiac-mass', {
  cards: {
    'cardiac-mass': card(codes, {
      prefix: phrase(),
      score: phrase('score', 'tierText'),
      scorePartial: phrase('min', 'max', 'tierText', 'count'),
      scoreNone: phrase(),
      thrombus: phrase(),
    }, {
      scoreHeading: phrase(),
      thrombusHeading: phrase(),
      guidanceHeading: phrase(),
      prognosisHeading: phrase(),
      missingHeading: phrase(),
      inputsHeading: phrase(),
    }),
    'data-missing': card(codes, {
      text: phrase('lookbackDays'),
    }, {
      intro: phrase('lookbackDays'),
      missingHeading: phrase(),
      prognosisHeading: phrase(),
      inputsHeading: phrase(),
    }),
  },
  tables: {
    tierSummary: z.strictObject({
      'likely malignant': phrase(), 'likely benign': phrase(), 'below-cutoff': phrase(), undetermined: phrase(),
    }),
    indicator: z.strictObject({ malignant: indicator, thrombus: indicator, benign: indicator, undetermined: indicator }),
    scoreFeatures: z.record(z.enum(SCORE_FEATURES), phrase()),
    diagnosisLabels: z.record(z.enum(DIAGNOSES), phrase()),
    locationLabels: labels,
    inputLabels: labels,
  },
  text: {
    guidanceMalignant: phrase(),
    guidanceThrombus: phrase(),
    guidanceBenign: phrase(),
    guidanceUndetermined: phrase(),
    guidanceNoMass: phrase('diagnosis'),
    guidanceFromDiagnosis: phrase('diagnosis', 'source'),
    guidanceConflict: phrase('tier'),
    diagnosisDiffers: phrase('diagnosis', 'features'),
    scoreCutoff: phrase(),
    scoreDecide: phrase('min', 'max', 'need', 'features'),
    scoreSettled: phrase('features'),
    thrombusNote: phrase(),
    prognosis: phrase('diagnosis', 'basis', 'mortality', 'hr', 'accuracy'),
    prognosisHr: phrase('hr'),
    prognosisAll: phrase('rows'),
    prognosisNone: phrase(),
    prognosisConflict: phrase('categories'),
    basisObservation: phrase('source', 'date'),
    basisCondition: phrase('source'),
    massBasis: phrase('basis'),
    location: phrase('location'),
    study: phrase('date', 'source', 'lookbackDays'),
    studyUnlinked: phrase('date', 'lookbackDays'),
    noStudy: phrase('lookbackDays'),
    noMassOnLatestCmr: phrase('date', 'source'),
  },
  extra: {
    /** What the cards say about the imaging read (card-kit.ts imagingBlock). */
    imaging: imagingWording,
    /** What the models say about a result (their NoteSpecs). */
    modelNotes: modelNotes(CMR_MASS_NOTE_SPEC, MASS_PROGNOSIS_NOTE_SPEC, THROMBUS_NOTE_SPEC),
    /** The criteria of Table 3 (Pazos-López 2014) and their published accuracy, from models/thrombus-features.ts. */
    thrombusCriteria,
    thrombusAccuracy,
    /** The SMART detail view of this service (detail.ts). */
    detailView: z.strictObject({
      trends: z.strictObject({ massDiameter: z.strictObject({ label: phrase(), note: phrase() }) }),
    }),
  },
});

export type MassWording = z.output<ReturnType<typeof massWording>>;
