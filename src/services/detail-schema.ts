// The JSON the SMART detail app receives (POST /smart/api/detail): everything behind one service's
// cards for the patient in context, computed on the server by the service's own score step. No
// patient name; inputs name their sources as the cards do. Types come from these schemas.
import { z } from 'zod';
import type { DiagnosticReport } from 'fhir/r4.js';
import { MODEL_IDS } from '../models/types.ts';
import type { ShownResult } from './model-notes.ts';

const InputValue = z.union([z.number(), z.boolean(), z.string()]);

/** Where an input came from: a FHIR resource, a DICOM object (the imaging layer), or derived. */
export const OriginSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fhir'), reference: z.string() }),
  z.object({
    kind: z.literal('dicom'),
    sopInstanceUid: z.string(),
    seriesInstanceUid: z.string().optional(),
    studyInstanceUid: z.string().optional(),
    /** The study's date (ISO), description, the object's modality (SR, SEG) and its series' description. */
    studyDate: z.string().optional(),
    studyDescription: z.string().optional(),
    modality: z.string().optional(),
    seriesDescription: z.string().optional(),
  }),
  z.object({ kind: z.literal('derived') }),
]);

export const InputSchema = z.object({
  name: z.string(),
  value: InputValue,
  unit: z.string().optional(),
  date: z.string().optional(),
  source: z.string(),
  original: z.object({ value: z.number(), unit: z.string() }).optional(),
  /** Added for the view: the source parsed. */
  origin: OriginSchema,
});

export const ContributionSchema = z.object({
  input: z.string(),
  points: z.number().optional(),
  term: z.number().optional(),
  band: z.string().optional(),
});

const ModelIdSchema = z.enum(MODEL_IDS);

export const ModelMetadataSchema = z.object({
  id: ModelIdSchema,
  version: z.string(),
  title: z.string(),
  citation: z.string(),
  url: z.string(),
  evidence: z.enum(['primary', 'secondary']),
  population: z.string(),
  notes: z.array(z.string()).optional(),
});

/** A result as the card shows it (services/model-notes.ts), its inputs with their origin. */
export const ResultSchema = z.object({
  model: ModelIdSchema,
  value: z.number().nullable(),
  unit: z.string(),
  display: z.string().optional(),
  tier: z.string().optional(),
  probability: z.number().optional(),
  outcome: z.string().optional(),
  range: z.object({ min: z.number(), max: z.number() }).optional(),
  contributions: z.array(ContributionSchema),
  missing: z.array(z.string()),
  inputs: z.array(InputSchema),
  metadata: ModelMetadataSchema,
  notes: z.array(z.string()).optional(),
});

/** What the view adds to a result: how to read it. */
export const ExplanationSchema = z.object({
  model: ModelIdSchema,
  /** Whether the card the clinician clicked reported this score (its extension.scores). */
  onCard: z.boolean(),
  /** The value the card's appContext carried (rounded to 2 decimals), to show that both agree. */
  cardValue: z.number().optional(),
  /** Said when the record now gives another value than the card did. */
  differs: z.string().optional(),
  contributionKind: z.enum(['points', 'term', 'none']),
  missing: z.array(z.object({ name: z.string(), label: z.string(), reason: z.string() })),
  /** The range the card shows, in words. */
  range: z.string().optional(),
});

export const BandTableSchema = z.object({
  label: z.string(),
  caveat: z.string(),
  source: z.string(),
  rows: z.array(z.object({ band: z.string(), value: z.string() })),
  /** The band of the patient's score, when it falls in one. */
  current: z.string().optional(),
});

export const ModelCardSchema = z.object({
  id: ModelIdSchema,
  title: z.string(),
  version: z.string(),
  population: z.string(),
  citation: z.string(),
  url: z.string(),
  evidence: z.enum(['primary', 'secondary']),
  /** MODELS.md's tag in words: [P] primary source, [S] secondary source only. */
  evidenceLabel: z.string(),
  limitations: z.array(z.string()),
  bands: BandTableSchema.optional(),
});

/** A finding that is not a score (CMR markers, thrombus features), with its own source. */
export const FindingSchema = z.object({
  id: z.string(),
  label: z.string(),
  statement: z.string(),
  threshold: z.string().optional(),
  state: z.string(),
  citation: z.string(),
  url: z.string().optional(),
  evidence: z.string(),
  inputs: z.array(z.string()),
});

export const TrendSchema = z.object({
  id: z.string(),
  label: z.string(),
  unit: z.string(),
  kind: z.enum(['score', 'measurement']),
  /** What each point is, in words (e.g. recomputed at each lab date). */
  note: z.string(),
  points: z.array(z.object({
    date: z.string(),
    value: z.number(),
    min: z.number().optional(),
    max: z.number().optional(),
    sources: z.array(z.string()),
  })),
});

export const ReportItemSchema = z.object({
  key: z.string(),
  label: z.string(),
  status: z.enum(['measured', 'not-assessed']),
  text: z.string(),
  sources: z.array(z.string()),
});

export const ReportSectionSchema = z.object({
  key: z.string(),
  title: z.string(),
  items: z.array(ReportItemSchema),
  /** The section as editable text (items joined), prefilled. */
  text: z.string(),
});

export const ReportDraftSchema = z.object({
  title: z.string(),
  guideline: z.string(),
  notAssessed: z.string(),
  sections: z.array(ReportSectionSchema),
  /** The DiagnosticReport to create (status preliminary); the app adds the edited text. */
  resource: z.custom<DiagnosticReport>((v) => typeof v === 'object' && v !== null && (v as { resourceType?: unknown }).resourceType === 'DiagnosticReport'),
});

export const ServiceDetailSchema = z.object({
  serviceId: z.string(),
  title: z.string(),
  generatedAt: z.string(),
  /** The card topic from appContext, when the app was opened from a card. */
  topic: z.string().optional(),
  applies: z.boolean(),
  results: z.array(ResultSchema),
  explanations: z.array(ExplanationSchema),
  labels: z.record(z.string(), z.string()),
  missingReasons: z.record(z.string(), z.string()),
  findings: z.array(FindingSchema),
  trends: z.array(TrendSchema),
  modelCards: z.array(ModelCardSchema),
  /** Service-level statements (population rules, windows, data not obtained). */
  notes: z.array(z.string()),
  report: ReportDraftSchema.optional(),
});

export type Origin = z.infer<typeof OriginSchema>;
export type DetailResult = z.infer<typeof ResultSchema>;
export type Explanation = z.infer<typeof ExplanationSchema>;
export type ModelCard = z.infer<typeof ModelCardSchema>;
export type BandTable = z.infer<typeof BandTableSchema>;
export type Finding = z.infer<typeof FindingSchema>;
export type Trend = z.infer<typeof TrendSchema>;
export type ReportDraft = z.infer<typeof ReportDraftSchema>;
export type ReportSection = z.infer<typeof ReportSectionSchema>;
export type ReportItem = z.infer<typeof ReportItemSchema>;
export type ServiceDetail = z.infer<typeof ServiceDetailSchema>;

/** Compile-time check: a result as the services show it (without the added origins) fits the wire schema. */
export type ResultFitsModel = Omit<ShownResult, 'inputs'> extends Omit<DetailResult, 'inputs'> ? true : never;
const _fits: ResultFitsModel = true;
void _fits;

/** The compact appContext of the cards' smart links (services/card-kit.ts): {s: topic, h: hookInstance, v: {model: value}}. */
export const AppContextSchema = z.object({
  s: z.string().max(64),
  h: z.string().max(128).optional(),
  v: z.record(z.string().max(64), z.number()).default({}),
});
export type AppContext = z.infer<typeof AppContextSchema>;
