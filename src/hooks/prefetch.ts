// Prefetch resolution (CDS Hooks 2.0 §"Providing FHIR Resources to a CDS Service",
// https://cds-hooks.hl7.org/2.0/#prefetch-template): turn the request's prefetch (possibly partial,
// failed or paginated) plus, when allowed, our own FHIR calls into one ResolvedPrefetch.
//
// Per key (template from our discovery document):
//   - present resource            → used as is (a read template must get that type, and the id asked for);
//   - present searchset Bundle    → its entries' resources (search.mode 'outcome' dropped); a `next` link
//                                   (the spec forbids them, some EHRs send them) is followed when we have
//                                   a fetcher, else the key is reported `incomplete`;
//   - null                        → "no data" (spec: MUST be null when the client has nothing): null for
//                                   a read, [] for a search;
//   - absent                      → "not satisfied or failed" (spec): fetch it if we can, else unavailable;
//   - OperationOutcome            → the EHR failed (DESIGN.md): fetch it if we can, else unavailable;
//   - anything else (wrong Bundle type, wrong resource type, garbage) → treated like a failure.
// All fetches run in parallel under ONE time budget (the call's deadline, deadline.ts); keys not done
// by then are unavailable (except a prefetched searchset whose further pages were being read: its
// first page is kept, marked incomplete).
// Tokens: CDS Hooks 2.0 §"Prefetch tokens" — root-level primitive context fields and the four user ids.
// Logs name keys and outcomes only — never resource content, tokens or patient ids.
import type { Bundle, FhirResource } from 'fhir/r4.js';
import type { CdsRequest } from './types.ts';
import type { ResolvedPrefetch } from '../services/types.ts';
import type { FhirFetcher, SearchResult } from '../fhir/client.ts';
import { FetchError } from '../fhir/client.ts';
import { underDeadline, whenAborted } from './deadline.ts';

export interface PrefetchLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
  debug(obj: Record<string, unknown>, msg: string): void;
}

export type ResolvePrefetchArgs = {
  templates: Record<string, string>;
  request: CdsRequest;
  /** Undefined when the request has no usable fhirServer (absent, or not on the allowlist). */
  fetcher?: FhirFetcher;
  logger?: PrefetchLogger;
} & (
  /** The call's deadline (deadline.ts), shared with its other sources of data; ended by the caller. */
  | { signal: AbortSignal }
  /** A budget of its own for all fetches (ms), when prefetch is the only source. */
  | { budgetMs: number }
);

export interface ResolvedPrefetchResult {
  /** Read keys: the resource or null; search keys: the resources ([] when none); unavailable keys: null. */
  data: ResolvedPrefetch;
  /** Keys that could not be obtained (no FHIR server, fetch failed, time budget). */
  unavailable: string[];
  /** Keys obtained (in whole or in part) by our own FHIR calls. */
  fetched: string[];
  /** Keys with data, but not all of it (a next page we could not read): models should say so. */
  incomplete: string[];
}

// ---------------------------------------------------------------------------------------------------
// Tokens (CDS Hooks 2.0 §"Prefetch tokens")

/** userId 'Practitioner/123' → {{userPractitionerId}} = '123', and so on (CDS Hooks 2.0 §"Prefetch tokens identifying the user"). */
const USER_TOKENS: Record<string, string> = {
  Practitioner: 'userPractitionerId',
  PractitionerRole: 'userPractitionerRoleId',
  Patient: 'userPatientId',
  RelatedPerson: 'userRelatedPersonId',
};

/** A template filled in, or the first token that has no value in this request. */
export type Substitution = { url: string } | { unresolved: string };

/**
 * Replace `{{context.<field>}}` (root-level primitive context fields only, per the spec) and the user
 * tokens. Values are URL-encoded; a reference-valued field (context.userId = 'Practitioner/123') keeps
 * its '/' so that the read template `{{context.userId}}` still works. A token without a value (e.g.
 * encounterId absent) leaves the key unfetchable: the result names it instead of a URL. (A result,
 * not an exception: it happens on ordinary calls, and an Error's stack trace is not free.)
 */
export function substituteTokens(template: string, context: CdsRequest['context']): Substitution {
  const userId = typeof context.userId === 'string' ? context.userId : undefined;
  const [userType, userRef, ...rest] = (userId ?? '').split('/');
  let unresolved: string | undefined;
  const url = template.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (_m, token: string) => {
    const value = tokenValue(token);
    if (value === undefined) unresolved ??= token;
    return value ?? '';
  });
  return unresolved === undefined ? { url } : { unresolved };

  function tokenValue(token: string): string | undefined {
    if (token.startsWith('context.')) {
      const field = token.slice('context.'.length);
      const v = field.includes('.') ? undefined : (context as Record<string, unknown>)[field];
      // '.' and '..' survive URL-encoding and would walk the path: not an id (FHIR R4 §2.23.0.1).
      if (typeof v === 'string' && v !== '' && v !== '.' && v !== '..') return field === 'userId' ? encodeReference(v) : encodeURIComponent(v);
      if (typeof v === 'number' || typeof v === 'boolean') return encodeURIComponent(String(v));
      return undefined;
    }
    const type = Object.entries(USER_TOKENS).find(([, t]) => t === token)?.[0];
    if (type !== undefined && userType === type && userRef && userRef !== '.' && userRef !== '..' && rest.length === 0) return encodeURIComponent(userRef);
    return undefined;
  }
}

function encodeReference(ref: string): string {
  const parts = ref.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return encodeURIComponent(ref);
  return parts.map(encodeURIComponent).join('/');
}

/** `Patient/123` (a read) vs `Observation?…` (a search). */
function templateKind(url: string): { kind: 'read'; resourceType: string; id: string } | { kind: 'search'; resourceType: string } {
  const [path = ''] = url.split('?');
  const parts = path.replace(/^\/+/, '').split('/').filter(Boolean);
  const resourceType = parts[0] ?? '';
  if (parts.length === 2 && !url.includes('?')) return { kind: 'read', resourceType, id: decodeURIComponent(parts[1] ?? '') };
  return { kind: 'search', resourceType };
}

// ---------------------------------------------------------------------------------------------------

type Given =
  | { state: 'absent' }
  | { state: 'null' }
  | { state: 'failed'; why: string }
  | { state: 'resource'; resource: FhirResource }
  | { state: 'searchset'; bundle: Bundle; resources: FhirResource[] };

function classify(value: unknown, template: ReturnType<typeof templateKind>): Given {
  if (value === undefined) return { state: 'absent' };
  if (value === null) return { state: 'null' };
  if (typeof value !== 'object' || Array.isArray(value) || typeof (value as { resourceType?: unknown }).resourceType !== 'string') {
    return { state: 'failed', why: 'not a FHIR resource' };
  }
  const r = value as FhirResource;
  if (r.resourceType === 'OperationOutcome') return { state: 'failed', why: 'OperationOutcome' };
  if (template.kind === 'search') {
    if (r.resourceType !== 'Bundle') return { state: 'failed', why: 'search answered without a Bundle' };
    if (r.type !== 'searchset') return { state: 'failed', why: `Bundle of type '${String(r.type)}'` };
    if ((r.entry !== undefined && !Array.isArray(r.entry)) || (r.link !== undefined && !Array.isArray(r.link))) return { state: 'failed', why: 'malformed Bundle' };
    const resources: FhirResource[] = [];
    for (const e of r.entry ?? []) {
      if (e === null || typeof e !== 'object') return { state: 'failed', why: 'malformed Bundle entry' };
      if (e.search?.mode === 'outcome') continue;
      const res = e.resource as unknown;
      if (res === undefined) continue;
      if (res === null || typeof res !== 'object' || typeof (res as { resourceType?: unknown }).resourceType !== 'string') {
        return { state: 'failed', why: 'malformed Bundle entry' };
      }
      resources.push(res as FhirResource);
    }
    return { state: 'searchset', bundle: r, resources };
  }
  // A read: the resource must be of the type asked for, and (if it says) the id asked for — data about
  // another patient must never be scored as this one's.
  if (r.resourceType !== template.resourceType) return { state: 'failed', why: `expected ${template.resourceType}` };
  if (r.id !== undefined && r.id !== template.id) return { state: 'failed', why: 'resource id does not match the template' };
  return { state: 'resource', resource: r };
}

type Outcome =
  | { key: string; status: 'ok'; value: FhirResource | FhirResource[] | null; fetched: boolean; incomplete: boolean }
  | { key: string; status: 'unavailable'; why: string };

/** Every template key of the service, resolved; never throws (a key that fails is unavailable). */
export async function resolvePrefetch(args: ResolvePrefetchArgs): Promise<ResolvedPrefetchResult> {
  return 'signal' in args ? resolveUntil(args, args.signal) : underDeadline(args.budgetMs, (signal) => resolveUntil(args, signal));
}

async function resolveUntil(args: ResolvePrefetchArgs, signal: AbortSignal): Promise<ResolvedPrefetchResult> {
  const { templates, request, fetcher, logger } = args;
  const given = request.prefetch ?? {};
  const deadline = whenAborted(signal);

  // First pages of prefetched searchsets whose next pages are being read: if the budget runs out
  // meanwhile, the key keeps what the EHR sent (incomplete) instead of becoming unavailable.
  const partial = new Map<string, FhirResource[]>();

  const resolveKey = async (key: string, template: string): Promise<Outcome> => {
    const filled = substituteTokens(template, request.context);
    if ('unresolved' in filled) {
      // The spec lets the client leave out what it cannot satisfy; we cannot build the query either.
      return Object.hasOwn(given, key) ? fromGiven(key, given[key], templateKind(template), fetcher, undefined, signal, partial) : { key, status: 'unavailable', why: 'unresolved token' };
    }
    return fromGiven(key, Object.hasOwn(given, key) ? given[key] : undefined, templateKind(filled.url), fetcher, filled.url, signal, partial);
  };
  const onBudgetExhausted = (key: string): Outcome => {
    const first = partial.get(key);
    return first ? { key, status: 'ok', value: first, fetched: false, incomplete: true } : { key, status: 'unavailable', why: 'time budget' };
  };

  const outcomes = await Promise.all(
    Object.entries(templates).map(async ([key, template]): Promise<Outcome> => {
      try {
        const r = await Promise.race([resolveKey(key, template), deadline]);
        return r === 'aborted' ? onBudgetExhausted(key) : r;
      } catch (e) {
        if (signal.aborted) return onBudgetExhausted(key);
        const why = e instanceof FetchError ? `${e.kind}${e.upstreamStatus ? ` ${e.upstreamStatus}` : ''}` : 'error';
        return { key, status: 'unavailable', why };
      }
    }),
  );

  const result: ResolvedPrefetchResult = { data: {}, unavailable: [], fetched: [], incomplete: [] };
  for (const o of outcomes) {
    if (o.status === 'ok') {
      result.data[o.key] = o.value;
      if (o.fetched) result.fetched.push(o.key);
      if (o.incomplete) {
        result.incomplete.push(o.key);
        logger?.warn({ key: o.key }, 'prefetch key incomplete: further pages could not be read');
      }
    } else {
      result.data[o.key] = null;
      result.unavailable.push(o.key);
      // A template naming a context field the hook call left out (e.g. no encounterId on
      // patient-view) is expected and would warn on every call; real failures stay warnings.
      if (o.why === 'unresolved token') logger?.debug({ key: o.key, reason: o.why }, 'prefetch key unavailable');
      else logger?.warn({ key: o.key, reason: o.why }, 'prefetch key unavailable');
    }
  }
  logger?.debug({ fetched: result.fetched, unavailable: result.unavailable }, 'prefetch resolved');
  return result;
}

async function fromGiven(
  key: string,
  value: unknown,
  template: ReturnType<typeof templateKind>,
  fetcher: FhirFetcher | undefined,
  url: string | undefined,
  signal: AbortSignal,
  partial: Map<string, FhirResource[]>,
): Promise<Outcome> {
  const g = classify(value, template);
  switch (g.state) {
    case 'null':
      return { key, status: 'ok', value: template.kind === 'search' ? [] : null, fetched: false, incomplete: false };
    case 'resource':
      return { key, status: 'ok', value: g.resource, fetched: false, incomplete: false };
    case 'searchset': {
      const hasNext = g.bundle.link?.some((l) => l?.relation === 'next') ?? false;
      if (!hasNext) return { key, status: 'ok', value: g.resources, fetched: false, incomplete: false };
      if (!fetcher) return { key, status: 'ok', value: g.resources, fetched: false, incomplete: true };
      let more: SearchResult;
      partial.set(key, g.resources);
      try {
        more = await fetcher.continueSearch(g.bundle, { signal });
      } catch {
        // Keep the first page rather than nothing, and say it is partial.
        return { key, status: 'ok', value: g.resources, fetched: false, incomplete: true };
      }
      return { key, status: 'ok', value: [...g.resources, ...more.resources], fetched: more.pages > 0, incomplete: more.truncated !== undefined };
    }
    case 'absent':
    case 'failed': {
      if (!fetcher || url === undefined) return { key, status: 'unavailable', why: g.state === 'absent' ? 'not prefetched, no FHIR server' : `EHR prefetch failed (${g.why}), no FHIR server` };
      return fetchKey(key, url, template, fetcher, signal);
    }
  }
}

async function fetchKey(key: string, url: string, template: ReturnType<typeof templateKind>, fetcher: FhirFetcher, signal: AbortSignal): Promise<Outcome> {
  if (template.kind === 'read') {
    try {
      const r = await fetcher.get(url, { signal });
      return { key, status: 'ok', value: r, fetched: true, incomplete: false };
    } catch (e) {
      // A read that finds nothing is "no data", not a failure (FHIR R4 §3.1.0.2: 404 Not Found, 410 Gone).
      if (e instanceof FetchError && e.kind === 'http' && (e.upstreamStatus === 404 || e.upstreamStatus === 410)) {
        return { key, status: 'ok', value: null, fetched: true, incomplete: false };
      }
      throw e;
    }
  }
  const r = await fetcher.search(url, { signal });
  return { key, status: 'ok', value: r.resources, fetched: true, incomplete: r.truncated !== undefined };
}
