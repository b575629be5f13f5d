// Shared shapes of the pure scoring models (MODELS.md "General rules for every model").
// Models never import fhir/, imaging/ or hooks/: they receive typed, unit-normalised inputs.

/**
 * Every model of this product: the codes of profiles/CodeSystem-cds-models.json (RiskAssessment.method,
 * extension.scores[].model). Data, so that a test can check the CodeSystem holds each one
 * (test/integration/registry.test.ts) and a service declares the ones it reports.
 */
export const MODEL_IDS = [
  'meld-3.0', 'meld-na', 'meld', 'child-pugh', 'albi', 'smi', 'meld-sarcopenia',
  'grace-in-hospital', 'timi-stemi', 'cmr-risk-score', 'cmr-mass-score',
  'cmr-markers', 'mass-prognosis-shenoy-2022', 'thrombus-features-pazos-lopez-2014',
] as const;

export type ModelId = (typeof MODEL_IDS)[number];

export type InputValue = number | boolean | string;

/** One observed fact fed to a model, with provenance (shown on cards and in extension.scores). */
export interface Input<V extends InputValue = InputValue> {
  name: string;
  value: V;
  /** UCUM unit of `value` after normalisation (e.g. 'mg/dL'), absent for booleans/codes. */
  unit?: string;
  /** ISO date (or dateTime) the value was observed. */
  date?: string;
  /** 'Observation/<id>' | 'Condition/<id>' | 'Procedure/<id>' | 'Patient/<id>' | 'dicom:<SOP Instance UID>' | 'derived' */
  source: string;
  /** Value and unit as recorded, when a unit conversion happened (for the "why" view). */
  original?: { value: number; unit: string };
}

export type Evidence = 'primary' | 'secondary';

export interface ModelMetadata {
  id: ModelId;
  version: string;
  title: string;
  citation: string;
  /** DOI or URL of the paper (or the owner's page); the card's source.url. */
  url: string;
  evidence: Evidence;
  population: string;
  /** Conventions chosen where sources differ (e.g. Child-Pugh albumin 2.8 g/dL). */
  notes?: string[];
}

/** What one input added to the score: points for point scores, the term for regression scores. */
export interface Contribution {
  input: string;
  points?: number;
  term?: number;
  /** Human-readable band or rule that applied, e.g. '2.0–3.0 mg/dL'. */
  band?: string;
}

/**
 * The statements a model can make about one result, each with the values it names (notes are worded
 * by the service's card file, never in the model: cards/<service>.yaml `modelNotes`).
 */
export type NoteSpec = Readonly<Record<string, readonly string[]>>;

/** One statement about a result: a key of the model's NoteSpec and its values (formatted by the model). */
export interface ModelNote {
  readonly key: string;
  readonly vars: Readonly<Record<string, string | number>>;
}

/** The typed note builder of a model: `note('creatinineCapped', { cap: '3.0', measured: '4' })`. */
export function noteMaker<S extends NoteSpec>(_spec: S) {
  return <K extends keyof S & string>(key: K, ...vars: S[K] extends readonly [] ? [] : [Readonly<Record<S[K][number], string | number>>]): ModelNote =>
    ({ key, vars: vars[0] ?? {} });
}

export interface ModelResult {
  model: ModelId;
  /** The (unrounded) score; null when the model declined for lack of data. */
  value: number | null;
  unit: string;
  /** Display value as the source rounds it (e.g. MELD 3.0 to the nearest integer). */
  display?: string;
  tier?: string;
  /** Probability of the model's outcome (0..1) where the source defines one. */
  probability?: number;
  /** Outcome the probability / tier refers to, e.g. '90-day mortality'. */
  outcome?: string;
  /** When some inputs are missing and the source allows it: the range the full score can take. */
  range?: { min: number; max: number };
  contributions: Contribution[];
  /** Names of inputs that were needed but absent (never assumed normal). */
  missing: string[];
  inputs: Input[];
  metadata: ModelMetadata;
  /** Statements the card should carry (caps applied, variant used, ...), worded by the service. */
  notes?: ModelNote[];
}
