// The contract every CDS service implements. Adding a service = one folder under services/ that
// exports a CdsService, one card file under cards/, and its model files (DESIGN.md, Layout).
import type { FhirResource } from 'fhir/r4.js';
import type { Card, CdsServiceDescription } from '../hooks/types.ts';
import type { AppConfig } from '../config.ts';

/**
 * Prefetch data after resolution (hooks/prefetch.ts): each key holds the resource the template
 * names, or all entries of a searchset (pages followed), or null when the data is unavailable.
 */
export type ResolvedPrefetch = Record<string, FhirResource | FhirResource[] | null>;

/** What a service is told about the request, besides the data. */
export interface EvaluationContext {
  hookInstance: string;
  patientId: string;
  userId: string;
  encounterId?: string;
  /** Evaluation time: models compare dates against it (injectable for tests). */
  now: Date;
  config: AppConfig;
  /** Base URL of this service, for SMART links. */
  publicBaseUrl: string;
  /**
   * Prefetch keys that could not be obtained (EHR failure and no FHIR server, fetch error, or every
   * resource about another patient).
   */
  unavailable: string[];
  /**
   * Resources about another patient were dropped from this call's data (hooks/patient-scope.ts):
   * every card says so (card-kit.ts).
   */
  otherPatientDataIgnored?: boolean;
}

export interface CdsService {
  description: CdsServiceDescription & { prefetch: Record<string, string> };
  /**
   * Keys without which the service cannot say anything useful: if they cannot be obtained,
   * the call answers 412 (CDS Hooks 2.0, "Prefetch": the service may return 412).
   */
  requiredPrefetch: string[];
  /** Pure: data in, cards out. No I/O. */
  evaluate(data: ResolvedPrefetch, ctx: EvaluationContext): Card[];
}

