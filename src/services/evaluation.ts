// One evaluation per call: the runtime (built once), the call context, and a FHIR reader whose cache
// of derived views is this call's and no other's (DESIGN.md: caches live in the evaluation or the
// runtime, never in a module).
import { createFhirReader } from '../fhir/reader.ts';
import type { CallContext, Evaluation, ServiceRuntime } from './types.ts';

export function createEvaluation(runtime: ServiceRuntime, call: CallContext): Evaluation {
  return { runtime, call, fhir: createFhirReader(runtime) };
}
