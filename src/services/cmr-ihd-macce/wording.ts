// The schema of cards/cmr-ihd-macce.yaml: every key explicit, every text with the placeholders
// cards.ts fills. A missing or misspelt key stops the start (card-wording.ts).
import { z } from 'zod';
import { card, indicator, labels, phrase, serviceWording, type WordingCodes, imagingWording } from '../card-wording.ts';
import { CMR_MARKERS, CMR_MARKERS_NOTE_SPEC } from '../../models/cmr-markers.ts';
import { GRACE_NOTE_SPEC } from '../../models/grace.ts';
import { TIMI_NOTE_SPEC } from '../../models/timi-stemi.ts';
import { CMR_RISK_NOTE_SPEC } from '../../models/cmr-risk-score.ts';
import { modelNotes } from '../model-notes.ts';
import { markerRules } from './markers.ts';
import { MACCE_NOTE_SPEC } from './scores.ts';
import type { ModelId } from '../../models/types.ts';

/** The models of this service's cards (the declaration's `models`). */
export const MACCE_MODELS = ['cmr-risk-score', 'grace-in-hospital', 'timi-stemi', 'cmr-markers'] as const satisfies readonly ModelId[];
const SCORED = ['cmr-risk-score', 'grace-in-hospital', 'timi-stemi'] as const;
const TIERS = ['low', 'intermediate', 'high'] as const;

const acuteDetail = {
  eventLine: phrase('text', 'source', 'onset'),
  scoresHeading: phrase(),
  notesHeading: phrase(),
  missingHeading: phrase(),
  inputsHeading: phrase(),
  derivationHeading: phrase(),
};

export const macceWording = (codes: WordingCodes) => serviceWording(codes, 'cmr-ihd-macce', {
  cards: {
    'macce-risk': card(codes, {
      prefix: phrase('event', 'date'),
      cmr: phrase('value', 'tier', 'rate'),
      cmrRange: phrase('range', 'count'),
      grace: phrase('value', 'probability'),
      graceRange: phrase('range', 'count'),
      graceShort: phrase('value'),
      timi: phrase('value', 'mortality'),
      timiRange: phrase('range', 'count'),
      timiShort: phrase('value'),
    }, acuteDetail),
    'acute-mi-risk': card(codes, {
      prefix: phrase('event', 'date'),
      grace: phrase('value', 'probability'),
      graceBoth: phrase('value', 'probability', 'readings'),
      graceRange: phrase('range', 'count'),
      graceShort: phrase('value'),
    }, acuteDetail),
    'data-missing': card(codes, {
      text: phrase('event', 'date', 'missing'),
    }, {
      eventLine: phrase('text', 'source', 'onset'),
      intro: phrase('days'),
      missingHeading: phrase(),
      derivationHeading: phrase(),
    }),
    'cmr-markers': card(codes, {
      acute: phrase('date', 'markers'),
      chronic: phrase('date', 'markers', 'days'),
      none: phrase(),
      more: phrase('count'),
    }, {
      chronicIntro: phrase('days', 'cmrDays'),
      acuteIntro: phrase('onset'),
      findingsHeading: phrase(),
      missingHeading: phrase(),
      inputsHeading: phrase(),
      notesHeading: phrase(),
    }),
  },
  tables: {
    cmrRiskIndicator: z.record(z.enum(TIERS), indicator),
    graceIndicator: z.record(z.enum(TIERS), indicator),
    markersIndicator: z.strictObject({ flagged: indicator, none: indicator }),
    eventLabels: z.strictObject({ stemi: phrase(), nstemi: phrase(), unspecified: phrase() }),
    scoreSources: z.record(z.enum(SCORED), phrase()),
    /** Markers that can be beyond a threshold, as the summary names them. */
    markerShort: z.strictObject({
      infarctSize: phrase('value'), mvo: phrase('value'), lvef: phrase('value'), laReservoirStrain: phrase('value'),
      haemorrhage: phrase('value'), nativeT1: phrase('value'), t2: phrase('value'),
    }),
    markerLabels: z.record(z.enum(CMR_MARKERS), phrase()),
    findingState: z.strictObject({ true: phrase(), false: phrase(), null: phrase() }),
    missingShort: labels,
    inputLabels: labels,
  },
  text: {
    cmrScorePopulation: phrase(),
    cmrNeeded: phrase(),
    cmrScoreNotStemi: phrase(),
    olderStemi: phrase('date', 'days'),
    undatedAcuteMi: phrase('source'),
    timiNotStemi: phrase(),
    graceNsteBands: phrase(),
    graceBothBands: phrase(),
    graceReadings: phrase('stemi', 'nsteAcs'),
    graceReadingsAgree: phrase('tier'),
    graceReadingUndetermined: phrase(),
    graceReadingRow: phrase('tier', 'bands'),
    lvefNotCmr: phrase('label', 'value', 'date'),
    olderAcuteMi: phrase('date', 'days'),
    windowAdmission: phrase('anchor'),
    windowPresentation: phrase('anchor', 'days'),
    windowWeight: phrase('bodyDays'),
    windowReperfusion: phrase(),
    windowHistory: phrase(),
    enzymesRule: phrase('anchor'),
    secondaryEvidence: phrase(),
    cmrRates: phrase(),
  },
  extra: {
    /** What the cards say about the imaging read (card-kit.ts imagingBlock). */
    imaging: imagingWording,
    /** What the models (and the score step) say about a result, shown under "Notes" with the score. */
    modelNotes: modelNotes(GRACE_NOTE_SPEC, TIMI_NOTE_SPEC, CMR_RISK_NOTE_SPEC, CMR_MARKERS_NOTE_SPEC, MACCE_NOTE_SPEC),
    /** The single CMR markers: the texts of each rule of MARKER_RULES (models/cmr-markers.ts). */
    markerRules: markerRules(),
    /** The SMART detail view of this service (detail.ts). */
    detailView: z.strictObject({
      cmrNotScored: phrase(),
      trends: z.strictObject({ lvef: z.strictObject({ label: phrase(), note: phrase() }) }),
    }),
  },
});

export type MacceWording = z.output<ReturnType<typeof macceWording>>;
