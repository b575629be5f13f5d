// What a CDS service is to the rest of the system: the discovery entry, the keys it cannot do
// without, and one pure evaluation (data in, cards out). Services are declared with defineService
// (define.ts) and bound to the runtime once at start-up (src/runtime.ts); the hook use case calls
// `service.evaluate(data, evaluation)` with an Evaluation built per call (evaluation.ts).
import type { FhirResource } from 'fhir/r4.js';
import type { Card, CdsServiceDescription } from '../hooks/types.ts';
import type { AppConfig } from '../config.ts';
import type { Terminology } from '../fhir/terminology.ts';
import type { UnitConverter } from '../fhir/units.ts';
import type { FhirReader } from '../fhir/reader.ts';
import type { ImagingResult } from '../imaging/types.ts';
import type { ModelMetadata } from '../models/types.ts';
import type { ShownResult } from './model-notes.ts';
import type { AppContext, BandTable, Finding, ReportDraft, Trend } from './detail-schema.ts';
import type { DetailWording, ReportTemplate } from './detail-wording.ts';
import type { ReportInputs } from './cmr-report.ts';

/**
 * Prefetch data after resolution (hooks/prefetch.ts): each key holds the resource the template
 * names, or all entries of a searchset (pages followed), or null when the data is unavailable.
 */
export type ResolvedPrefetch = Record<string, FhirResource | FhirResource[] | null>;

/** What an evaluation uses of the runtime built once at start-up (src/runtime.ts). */
export interface ServiceRuntime {
  readonly config: AppConfig;
  readonly terminology: Terminology;
  readonly units: UnitConverter;
}

/** What a service is told about the call, besides the data. */
export interface CallContext {
  readonly hookInstance: string;
  readonly patientId: string;
  readonly userId: string;
  readonly encounterId?: string;
  /** Evaluation time: models compare dates against it (the runtime's clock, fixed in tests). */
  readonly now: Date;
  /**
   * Prefetch keys that could not be obtained (EHR failure and no FHIR server, fetch error, or every
   * resource about another patient).
   */
  readonly unavailable: readonly string[];
  /**
   * Resources about another patient were dropped from this call's data (hooks/patient-scope.ts):
   * every card says so (card-kit.ts).
   */
  readonly otherPatientDataIgnored?: boolean;
}

/**
 * One evaluation: the runtime, the call, and the FHIR reader whose cache of derived views lives
 * exactly as long as this evaluation (created by createEvaluation, evaluation.ts).
 */
export interface Evaluation {
  readonly runtime: ServiceRuntime;
  readonly call: CallContext;
  readonly fhir: FhirReader;
  /**
   * The imaging read of this call (src/hooks/call-data.ts), when the service declares `imaging` and
   * an archive is configured; its inputs are merged with the FHIR ones in gather (imaging-inputs.ts).
   */
  readonly imaging?: ImagingResult;
}

/** The imaging a service wants read beside its prefetch (src/hooks/call-data.ts reads it). */
export interface ImagingWant {
  readonly cmr?: boolean;
  readonly ct?: boolean;
}

/** A service bound to the runtime: what discovery, the hook use case and the detail view call. */
export interface CdsService {
  readonly description: CdsServiceDescription & { prefetch: Record<string, string> };
  /**
   * Keys without which the service cannot say anything useful: if they cannot be obtained,
   * the call answers 412 (CDS Hooks 2.0, "Prefetch": the service may return 412).
   */
  readonly requiredPrefetch: readonly string[];
  readonly imaging?: ImagingWant;
  /** Pure: data (and the evaluation's imaging read) in, cards out. No I/O. */
  evaluate(data: ResolvedPrefetch, evaluation: Evaluation): Card[];
  /** The SMART detail view of the same gather and score steps (absent: the service has none). */
  readonly detail?: ServiceDetailView;
}

// ---------------------------------------------------------------------------------------------------
// The SMART detail view (src/smart/detail.ts runs it; each service declares its part)

/** What one service gives the view (the rest of ServiceDetail is filled by smart/detail.ts). */
export interface DetailBody {
  applies: boolean;
  results: ShownResult[];
  labels: Record<string, string>;
  missingReasons: Record<string, string>;
  findings: Finding[];
  trends: Trend[];
  /** Extra model cards (for findings that are not ModelResults). */
  extraModels: ModelMetadata[];
  notes: string[];
  report?: ReportDraft;
  /** A band table for a result's model card (MELD 3.0 only, MODELS.md 3a). */
  bands?: (r: ShownResult) => BandTable | undefined;
}

/** What the view hands the service besides the data: the card clicked, the wording, the report builder. */
export interface ViewContext {
  readonly card: AppContext | undefined;
  readonly wording: DetailWording;
  readonly report: ReportTemplate;
  /** The CMR report draft (services/cmr-report.ts), read with this evaluation's FHIR reader. */
  reportDraft(inputs: ReportInputs): ReportDraft;
}

export interface ServiceDetailView {
  /** Card topics of this service (cards/<service>.yaml), to find the service from appContext.s. */
  readonly topics: readonly string[];
  /** Searches the view needs besides the service's prefetch (CDS Hooks prefetch template syntax). */
  readonly extraPrefetch: Record<string, string>;
  build(data: ResolvedPrefetch, evaluation: Evaluation, view: ViewContext): DetailBody;
}
