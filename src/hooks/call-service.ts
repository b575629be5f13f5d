// One CDS service call, the use case of this service (CDS Hooks 2.0 §"Calling a CDS Service"):
//   validate the request → resolve its data (prefetch, our own FHIR fetches, patient scoping)
//   → evaluate the service → answer with its cards, the issued-card rows and the metric observations.
// The same function runs on the main thread (HOOK_WORKERS=0) and in the evaluation workers
// (hook-runner.ts, hook-worker.ts): threads and HTTP are around it, never inside. It never throws:
// an error is a value (status, code, message) that keeps the observations made before it, and the
// route (routes.ts) hands it to the one place where errors become HTTP (app.ts).
import type { AppConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { CallContext, CdsService, ResolvedPrefetch } from '../services/types.ts';
import { createEvaluation } from '../services/evaluation.ts';
import type { Runtime } from '../runtime.ts';
import { isFhirServerAllowed, type HookCaller } from './auth.ts';
import { CdsRequestSchema, describeIssues } from './schemas.ts';
import type { Card, CdsRequest, CdsResponse } from './types.ts';
import { underDeadline } from './deadline.ts';
import { resolveCallData } from './call-data.ts';
import type { ImagingResult } from '../imaging/types.ts';
import { droppedCount, keepPatientData } from './patient-scope.ts';
import type { IssuedCardRow } from './store-port.ts';
import { createFhirFetcher, type FhirFetcher } from '../fhir/client.ts';
import { badRequest, errorValue, internalError, invalidJson, notFound, preconditionFailed, type ErrorValue } from '../errors.ts';

export interface ServiceCall {
  serviceId: string;
  /** The request body as received (UTF-8 JSON). */
  body: Uint8Array;
  /** Plain data (it crosses to a worker thread): the caller's iss and fhirServer allowlist. */
  caller: HookCaller;
}

export interface CallServiceDeps {
  /** Built once per thread at start-up (src/runtime.ts): terminology, units, the services' wording. */
  runtime: Runtime;
  services: ReadonlyMap<string, CdsService>;
  config: AppConfig;
  logger: Logger;
  now: () => Date;
}

/**
 * What a call reports besides its cards: plain data, so that a call evaluated in a worker thread can
 * hand it to the main thread, which owns the metrics registry.
 */
export type HookObservation =
  | { kind: 'prefetch-unavailable'; service: string; key: string }
  | { kind: 'fhir-fetch'; resourceType: string; ms: number; ok: boolean }
  /** Resources about another patient dropped before scoring (patient-scope.ts), per resource type. */
  | { kind: 'other-patient-dropped'; service: string; resourceType: string; count: number }
  /** The call's imaging read: 'ok', or the reason imaging was unavailable (imaging/types.ts). */
  | { kind: 'imaging-read'; service: string; outcome: string; ms: number; requests: number };

/** A call answered with cards. Plain data (structured-cloneable), as is CallFailure. */
export interface CallAnswer {
  ok: true;
  /** The CdsResponse, UTF-8 JSON. */
  body: Uint8Array;
  /** The cards issued, for the override-rate denominators (the store, through CdsStore). */
  issuedCards: IssuedCardRow[];
  observations: HookObservation[];
}

/** A call refused or failed: the error as a value, and the observations made before it (a 412's). */
export interface CallFailure {
  ok: false;
  error: ErrorValue;
  observations: HookObservation[];
}

export type CallResult = CallAnswer | CallFailure;

type Step<T> = { ok: true; value: T } | { ok: false; error: ErrorValue };

export async function callService(call: ServiceCall, deps: CallServiceDeps): Promise<CallResult> {
  const observations: HookObservation[] = [];
  const observe = (o: HookObservation): void => { observations.push(o); };
  const failed = (error: ErrorValue): CallFailure => ({ ok: false, error: errorValue(error), observations });
  try {
    const service = deps.services.get(call.serviceId);
    if (!service) return failed(notFound(`Unknown CDS service '${call.serviceId}'`));
    const request = validateRequest(call.body, service);
    if (!request.ok) return failed(request.error);
    const log = deps.logger.child({ hookInstance: request.value.hookInstance, service: service.description.id });

    const data = await resolveData(service, request.value, call.caller, { config: deps.config, runtime: deps.runtime, log, observe });
    if (!data.ok) return failed(data.error);

    const evaluation = createEvaluation(deps.runtime, callContext(request.value, data.value, deps), data.value.imaging);
    const cards = service.evaluate(data.value.prefetch, evaluation);

    const imaging = data.value.imaging;
    log.debug({
      cards: cards.length, unavailable: data.value.unavailable,
      ...(imaging ? { imaging: { unavailable: imaging.unavailable?.reason, requests: imaging.stats.requests, depth: imaging.stats.depth, ms: imaging.stats.elapsedMs } } : {}),
    }, 'evaluated');
    const issuedCards = issuedCardRows(cards, service, request.value, call.caller, deps.now());
    const response: CdsResponse = { cards };
    // Buffer.from encodes faster than TextEncoder; a worker hands the bytes over with movable().
    return { ok: true, body: Buffer.from(JSON.stringify(response)), issuedCards, observations };
  } catch (err) {
    // A bug, not an answer: the name and message only (never a stack or request data).
    deps.logger.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'unhandled error');
    return failed(internalError());
  }
}

// ---------------------------------------------------------------------------------------------------
// Validate the request

// `fatal`: bytes that are not UTF-8 are a bad request, not silently replaced. The BOM, which some
// clients send, is skipped (ignoreBOM: false), as body-parser did.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** JSON, the CDS Hooks request schema, and the hook this service answers. */
function validateRequest(body: Uint8Array, service: CdsService): Step<CdsRequest> {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(body));
  } catch {
    return { ok: false, error: invalidJson() };
  }
  const parsed = CdsRequestSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: badRequest(`Invalid CDS Hooks request: ${describeIssues(parsed.error)}`) };
  const request = parsed.data;
  if (request.hook !== service.description.hook) {
    return { ok: false, error: badRequest(`Service ${service.description.id} answers the '${service.description.hook}' hook, not '${request.hook}'`) };
  }
  return { ok: true, value: request };
}

// ---------------------------------------------------------------------------------------------------
// Resolve the data

interface CallData {
  /** Each prefetch key of the service: this patient's resources only, or null when unavailable. */
  prefetch: ResolvedPrefetch;
  /** Keys that could not be obtained, or held only another patient's (or unidentifiable) resources. */
  unavailable: string[];
  /** Resources about another patient, dropped. */
  otherPatientDropped: number;
  /** The archive's answer, when the service wants imaging and DICOMWEB_URL is set. */
  imaging?: ImagingResult;
}

interface ResolveDeps {
  config: AppConfig;
  runtime: Runtime;
  log: Logger;
  observe: (o: HookObservation) => void;
}

/**
 * Every source of the call's data, in parallel under one deadline (deadline.ts), then scoped to the
 * context patient. CDS Hooks 2.0 §"Prefetch": 412 when required data cannot be obtained.
 */
async function resolveData(service: CdsService, request: CdsRequest, caller: HookCaller, deps: ResolveDeps): Promise<Step<CallData>> {
  const serviceId = service.description.id;
  const fetcher = fhirFetcherFor(request, caller, deps);
  // The sources of the call's data (prefetch and FHIR fetches; the archive, for a service that wants
  // imaging) run in parallel on the deadline's signal (call-data.ts); the imaging result goes to the
  // evaluation.
  const { prefetch: resolved, imaging } = await underDeadline(deps.config.fetchBudgetMs, (signal) => resolveCallData({
    templates: service.description.prefetch, request, fetcher, signal, logger: deps.log,
    ...(service.imaging ? { imaging: { runtime: deps.runtime.imaging, want: service.imaging } } : {}),
  }));

  // The one place where data about another patient leaves, whether the EHR sent it or we fetched it.
  const scoped = keepPatientData(resolved.data, {
    patientId: request.context.patientId,
    bases: fetcher ? [fetcher.baseUrl, ...caller.fhirServers] : caller.fhirServers,
  });
  const unavailable = [...resolved.unavailable, ...scoped.emptied];
  const otherPatientDropped = droppedCount(scoped);
  if (otherPatientDropped > 0) {
    deps.log.warn({ dropped: Object.fromEntries(scoped.dropped), emptiedKeys: scoped.emptied }, 'resources about another patient ignored');
    for (const [resourceType, count] of scoped.dropped) deps.observe({ kind: 'other-patient-dropped', service: serviceId, resourceType, count });
  }
  if (scoped.unidentified > 0) deps.log.warn({ unidentified: scoped.unidentified }, 'resources without a valid id ignored');
  for (const key of unavailable) deps.observe({ kind: 'prefetch-unavailable', service: serviceId, key });
  if (imaging) {
    const outcome = imaging.unavailable?.reason ?? imaging.cmr.unavailable?.reason ?? imaging.ct.unavailable?.reason ?? 'ok';
    deps.observe({ kind: 'imaging-read', service: serviceId, outcome, ms: imaging.stats.elapsedMs, requests: imaging.stats.requests });
  }

  const missingRequired = service.requiredPrefetch.filter((k) => unavailable.includes(k));
  if (missingRequired.length > 0) {
    // Keys that held only another patient's (or unidentifiable) resources are in that case too: the
    // data was not obtained.
    const foreign = missingRequired.filter((k) => scoped.emptied.includes(k));
    return {
      ok: false,
      error: preconditionFailed(
        `Required data could not be obtained (${missingRequired.join(', ')}): send it as prefetch or give an allowed fhirServer with fhirAuthorization` +
          (foreign.length > 0 ? `. The data received for ${foreign.join(', ')} was not shown to be this patient's and was ignored` : ''),
      ),
    };
  }
  return { ok: true, value: { prefetch: scoped.data, unavailable, otherPatientDropped, ...(imaging ? { imaging } : {}) } };
}

/**
 * A FHIR fetcher only for a fhirServer on the calling client's allowlist (DESIGN.md, Security:
 * never send a bearer token to an arbitrary URL). Without one, missing prefetch stays missing.
 */
function fhirFetcherFor(request: CdsRequest, caller: HookCaller, deps: ResolveDeps): FhirFetcher | undefined {
  if (request.fhirServer === undefined) return undefined;
  if (!isFhirServerAllowed(caller, request.fhirServer)) {
    deps.log.warn({ iss: caller.iss }, 'fhirServer is not on the allowlist for this client: not called');
    return undefined;
  }
  return createFhirFetcher({
    baseUrl: request.fhirServer,
    accessToken: request.fhirAuthorization?.access_token,
    // Redirects and next links may go to any base of this client's allowlist, and nowhere else.
    allowedBases: caller.fhirServers,
    timeoutMs: deps.config.fetchBudgetMs,
    maxResponseBytes: deps.config.fhirResponseMaxBytes,
    onTiming: (resourceType: string, ms: number, ok: boolean) => deps.observe({ kind: 'fhir-fetch', resourceType, ms, ok }),
  });
}

// ---------------------------------------------------------------------------------------------------
// Evaluate, and the cards issued

function callContext(request: CdsRequest, data: CallData, deps: CallServiceDeps): CallContext {
  return {
    hookInstance: request.hookInstance,
    patientId: request.context.patientId,
    userId: request.context.userId,
    ...(request.context.encounterId !== undefined ? { encounterId: request.context.encounterId } : {}),
    now: deps.now(),
    unavailable: data.unavailable,
    ...(data.otherPatientDropped > 0 ? { otherPatientDataIgnored: true } : {}),
  };
}

function issuedCardRows(cards: readonly Card[], service: CdsService, request: CdsRequest, caller: HookCaller, issuedAt: Date): IssuedCardRow[] {
  return cards.map((c) => ({
    uuid: c.uuid,
    serviceId: service.description.id,
    // Override rates are reported per card kind: the card's topic (liver-prognosis, sarcopenia, ...).
    cardKind: c.source.topic?.code ?? service.description.id,
    indicator: c.indicator,
    hookInstance: request.hookInstance,
    issuer: caller.iss,
    issuedAt,
  }));
}
