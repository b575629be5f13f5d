// The sources of one call's data, in parallel under the call's deadline (DESIGN.md, Data flow:
// "prefetch, else FHIR fetch ; imaging ; in parallel, under one time budget"): the prefetch (with our
// own FHIR fetches) and, for a service that declares `imaging`, the patient's DICOMweb archive
// (imaging/imaging-reader.ts). Used by the hook call (call-service.ts) and the SMART detail view
// (smart/detail.ts), so both see the same data.
//
// Ordering. The archive's PatientID is the FHIR Patient id, or, with DICOMWEB_PATIENT_ID_SYSTEM, the
// value of that Patient.identifier: then the imaging read needs the Patient resource.
//   - No system configured: the imaging read starts at once, beside every prefetch key.
//   - System configured: the Patient key (template `Patient/{{context.patientId}}`) is resolved on
//     its own, beside the other keys, and the imaging read starts as soon as it is done. When the EHR
//     sent the Patient as prefetch (the usual case) that is at once; otherwise imaging waits for that
//     one FHIR read only (one round trip), never for the Observation searches, and nothing is fetched
//     twice. Fetching the Patient inside the imaging layer instead would cost the same round trip and
//     a duplicate request.
// Either way the imaging read is bounded by the same signal: an archive slower than the budget leaves
// the call with the FHIR data and `unavailable`, never a later answer.
import type { Patient } from 'fhir/r4.js';
import type { FhirFetcher } from '../fhir/client.ts';
import { readImaging } from '../imaging/imaging-reader.ts';
import type { ImagingRuntime } from '../imaging/imaging-runtime.ts';
import type { ImagingResult } from '../imaging/types.ts';
import type { ImagingWant, ResolvedPrefetch } from '../services/types.ts';
import { resolvePrefetch, type PrefetchLogger, type ResolvedPrefetchResult } from './prefetch.ts';
import type { CdsRequest } from './types.ts';

/** The read template of the context patient (every service's `patient` key). */
const PATIENT_TEMPLATE = 'Patient/{{context.patientId}}';

export interface CallDataArgs {
  templates: Record<string, string>;
  request: CdsRequest;
  fetcher?: FhirFetcher;
  logger?: PrefetchLogger;
  /** The call's deadline (deadline.ts). */
  signal: AbortSignal;
  /** What the service wants from the archive, and the imaging runtime; absent: no imaging read. */
  imaging?: { runtime: ImagingRuntime; want: ImagingWant };
}

export interface CallDataResult {
  prefetch: ResolvedPrefetchResult;
  /** Absent when the service wants no imaging or no archive is configured (DICOMWEB_URL unset). */
  imaging?: ImagingResult;
}

export async function resolveCallData(args: CallDataArgs): Promise<CallDataResult> {
  const { templates, request, fetcher, logger, signal } = args;
  const resolve = (t: Record<string, string>) => resolvePrefetch({ templates: t, request, fetcher, signal, ...(logger ? { logger } : {}) });
  const imaging = args.imaging;
  if (!imaging || !imaging.runtime.archive) return { prefetch: await resolve(templates) };

  const patientId = request.context.patientId;
  const read = (identifiers?: Patient['identifier']) => readImaging(imaging.runtime, {
    patientId,
    signal,
    want: { cmr: imaging.want.cmr ?? false, ct: imaging.want.ct ?? false },
    ...(identifiers ? { identifiers } : {}),
  });
  const patientKey = imaging.runtime.config.patientIdSystem !== undefined
    ? Object.keys(templates).find((k) => templates[k] === PATIENT_TEMPLATE)
    : undefined;
  if (patientKey === undefined) {
    const [prefetch, result] = await Promise.all([resolve(templates), read()]);
    return { prefetch, imaging: result };
  }
  const { [patientKey]: patientTemplate, ...others } = templates;
  const patientPart = resolve({ [patientKey]: patientTemplate ?? PATIENT_TEMPLATE });
  const [own, rest, result] = await Promise.all([
    patientPart,
    resolve(others),
    patientPart.then((p) => read(identifiersOf(p.data[patientKey], patientId))),
  ]);
  return { prefetch: merge(own, rest), imaging: result };
}

/** Patient.identifier of the context patient only (patient-scope.ts drops the rest later anyway). */
function identifiersOf(value: ResolvedPrefetch[string] | undefined, patientId: string): Patient['identifier'] {
  const patient = Array.isArray(value) ? value.find((r) => r.resourceType === 'Patient') : value;
  if (!patient || patient.resourceType !== 'Patient' || patient.id !== patientId) return undefined;
  // FHIR JSON from outside may hold anything: only identifiers with string system and value.
  const ids: unknown[] = Array.isArray(patient.identifier) ? patient.identifier : [];
  return ids.flatMap((i) => {
    if (typeof i !== 'object' || i === null) return [];
    const { system, value } = i as { system?: unknown; value?: unknown };
    return typeof system === 'string' && typeof value === 'string' ? [{ system, value }] : [];
  });
}

function merge(a: ResolvedPrefetchResult, b: ResolvedPrefetchResult): ResolvedPrefetchResult {
  return {
    data: { ...a.data, ...b.data },
    unavailable: [...a.unavailable, ...b.unavailable],
    fetched: [...a.fetched, ...b.fetched],
    incomplete: [...a.incomplete, ...b.incomplete],
  };
}
