// One evaluation per call: the runtime (built once), the call context, and a FHIR reader whose cache
// of derived views is this call's and no other's (DESIGN.md: caches live in the evaluation or the
// runtime, never in a module).
import { createFhirReader } from '../fhir/reader.ts';
import type { ImagingResult } from '../imaging/types.ts';
import type { CallContext, Evaluation, ServiceRuntime } from './types.ts';

/** `imaging`: what the archive gave for this call (absent: the service wants none, or no archive). */
export function createEvaluation(runtime: ServiceRuntime, call: CallContext, imaging?: ImagingResult): Evaluation {
  return { runtime, call, fhir: createFhirReader(runtime), ...(imaging ? { imaging } : {}) };
}
