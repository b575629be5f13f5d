// POST /cds-services/{id}: validate, gather data (prefetch, else FHIR), evaluate, answer cards.
// CDS Hooks 2.0 §"Calling a CDS Service" and §"Prefetch".
import type { CdsRequest, CdsResponse, IssuedCardRow } from './types.ts';
import type { CdsService } from '../services/types.ts';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { isFhirServerAllowed, type HookCaller } from './auth.ts';
import { CdsRequestSchema, describeIssues } from './schemas.ts';
import { resolvePrefetch } from './prefetch.ts';
import { droppedCount, keepPatientData } from './patient-scope.ts';
import { createFhirFetcher, type FhirFetcher } from '../fhir/client.ts';
import { withEvaluationCache } from '../fhir/observations.ts';
import { badRequest, preconditionFailed } from '../errors.ts';

/**
 * What a hook call reports besides its cards. Plain data, so that a call evaluated in a worker thread
 * (hook-runner.ts) can hand it to the main thread, which owns the metrics registry.
 */
export type HookObservation =
  | { kind: 'prefetch-unavailable'; service: string; key: string }
  | { kind: 'fhir-fetch'; resourceType: string; ms: number; ok: boolean }
  /** Resources about another patient dropped before scoring (patient-scope.ts), per resource type. */
  | { kind: 'other-patient-dropped'; service: string; resourceType: string; count: number };

export interface InvokeDeps {
  config: AppConfig;
  logger: Logger;
  observe: (o: HookObservation) => void;
  /** The cards issued, for the override-rate denominators (store/issued-card-writer.ts). */
  recordIssuedCards: (rows: IssuedCardRow[]) => void;
  now: () => Date;
}

export async function invokeService(
  service: CdsService,
  body: unknown,
  caller: HookCaller,
  deps: InvokeDeps,
): Promise<CdsResponse> {
  const parsed = CdsRequestSchema.safeParse(body);
  if (!parsed.success) throw badRequest(`Invalid CDS Hooks request: ${describeIssues(parsed.error)}`);
  const request = parsed.data;
  if (request.hook !== service.description.hook) {
    throw badRequest(`Service ${service.description.id} answers the '${service.description.hook}' hook, not '${request.hook}'`);
  }
  const log = deps.logger.child({ hookInstance: request.hookInstance, service: service.description.id });

  const serviceId = service.description.id;
  const fetcher = fhirFetcherFor(request, caller, deps, log);
  const resolved = await resolvePrefetch({
    templates: service.description.prefetch,
    request,
    fetcher,
    budgetMs: deps.config.fetchBudgetMs,
    logger: log,
  });
  // The one place where data about another patient leaves, whether the EHR sent it or we fetched it.
  const scoped = keepPatientData(resolved.data, {
    patientId: request.context.patientId,
    bases: fetcher ? [fetcher.baseUrl, ...caller.fhirServers] : caller.fhirServers,
  });
  const data = scoped.data;
  const unavailable = [...resolved.unavailable, ...scoped.emptied];
  const ignored = droppedCount(scoped);
  if (ignored > 0) {
    log.warn({ dropped: Object.fromEntries(scoped.dropped), emptiedKeys: scoped.emptied }, 'resources about another patient ignored');
    for (const [resourceType, count] of scoped.dropped) deps.observe({ kind: 'other-patient-dropped', service: serviceId, resourceType, count });
  }
  if (scoped.unidentified > 0) log.warn({ unidentified: scoped.unidentified }, 'resources without a valid id ignored');
  for (const key of unavailable) deps.observe({ kind: 'prefetch-unavailable', service: serviceId, key });

  const missingRequired = service.requiredPrefetch.filter((k) => unavailable.includes(k));
  if (missingRequired.length > 0) {
    // CDS Hooks 2.0: a service that cannot obtain the data it needs answers 412. Keys that held only
    // another patient's (or unidentifiable) resources are in that case too: the data was not obtained.
    const foreign = missingRequired.filter((k) => scoped.emptied.includes(k));
    throw preconditionFailed(
      `Required data could not be obtained (${missingRequired.join(', ')}): send it as prefetch or give an allowed fhirServer with fhirAuthorization` +
        (foreign.length > 0 ? `. The data received for ${foreign.join(', ')} was not shown to be this patient's and was ignored` : ''),
    );
  }

  const cards = withEvaluationCache(() => service.evaluate(data, {
    hookInstance: request.hookInstance,
    patientId: request.context.patientId,
    userId: request.context.userId,
    encounterId: request.context.encounterId,
    now: deps.now(),
    config: deps.config,
    publicBaseUrl: deps.config.publicBaseUrl,
    unavailable,
    ...(ignored > 0 ? { otherPatientDataIgnored: true } : {}),
  }));

  const issuedAt = deps.now();
  deps.recordIssuedCards(
    cards.map((c) => ({
      uuid: c.uuid,
      serviceId,
      // Override rates are reported per card kind: the card's topic (liver-prognosis, sarcopenia, ...).
      cardKind: c.source.topic?.code ?? service.description.id,
      indicator: c.indicator,
      hookInstance: request.hookInstance,
      issuer: caller.iss,
      issuedAt,
    })),
  );
  log.debug({ cards: cards.length, unavailable }, 'evaluated');
  return { cards };
}

/**
 * A FHIR fetcher only for a fhirServer on the calling client's allowlist (DESIGN.md, Security:
 * never send a bearer token to an arbitrary URL). Without one, missing prefetch stays missing.
 */
function fhirFetcherFor(request: CdsRequest, caller: HookCaller, deps: InvokeDeps, log: Logger): FhirFetcher | undefined {
  if (request.fhirServer === undefined) return undefined;
  if (!isFhirServerAllowed(caller, request.fhirServer)) {
    log.warn({ iss: caller.iss }, 'fhirServer is not on the allowlist for this client: not called');
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
