// FHIR REST access to the EHR's server (CDS Hooks 2.0 §"FHIR Resource Access"), over fhir-kit-client.
//
// Security (DESIGN.md): the bearer token goes only to `baseUrl` — the caller has already checked it
// against the issuer's allowlist. We never follow a `next` link to another origin or outside the base
// path, and error messages carry the resource type and HTTP status only: no URL (it holds the patient
// id), no token. Note: fhir-kit-client logs request headers through `debug` when
// DEBUG=fhir-kit-client:* is set; never enable that in production.
import { Client } from 'fhir-kit-client';
import type { Bundle, FhirResource } from 'fhir/r4.js';
import { HttpError } from '../errors.ts';

export type FetchErrorKind = 'http' | 'timeout' | 'aborted' | 'network' | 'invalid-response' | 'invalid-request';

/**
 * A failed FHIR fetch. It is an HttpError so that, should it reach app.ts, it maps to 502/504 in the
 * one place errors become HTTP; prefetch resolution normally catches it and marks the key unavailable.
 */
export class FetchError extends HttpError {
  readonly kind: FetchErrorKind;
  readonly resourceType: string;
  /** Upstream HTTP status for kind 'http'. */
  readonly upstreamStatus?: number;

  constructor(kind: FetchErrorKind, resourceType: string, message: string, upstreamStatus?: number) {
    super(kind === 'timeout' || kind === 'aborted' ? 504 : 502, kind === 'timeout' || kind === 'aborted' ? 'timeout' : 'exception', message);
    this.name = 'FetchError';
    this.kind = kind;
    this.resourceType = resourceType;
    if (upstreamStatus !== undefined) this.upstreamStatus = upstreamStatus;
  }
}

export interface FetchOptions {
  /** Cancels the request (e.g. the hook call's time budget). */
  signal?: AbortSignal;
}

export interface SearchOptions extends FetchOptions {
  /** Pages to read at most, the first included (default 20). */
  maxPages?: number;
  /** Entries to keep at most (default 5000). */
  maxEntries?: number;
}

export interface SearchResult {
  /** Resources of all pages read, `search.mode = outcome` entries left out. */
  resources: FhirResource[];
  /** Pages read (0 when continuing from a Bundle that had no usable next link). */
  pages: number;
  /** Set when more pages existed but were not read. */
  truncated?: 'max-pages' | 'max-entries' | 'foreign-next-link';
}

export interface FhirFetcher {
  /** Base URL without trailing slash. */
  readonly baseUrl: string;
  /** FHIR read: `GET [base]/[type]/[id]`. A 404/410 rejects with FetchError kind 'http'. */
  read(resourceType: string, id: string, options?: FetchOptions): Promise<FhirResource>;
  /** GET a relative URL (`Observation?patient=…`, or a read `Patient/123`) and return the resource. */
  get(relativeUrl: string, options?: FetchOptions): Promise<FhirResource>;
  /** FHIR search at a relative URL, following `next` links. */
  search(relativeUrl: string, options?: SearchOptions): Promise<SearchResult>;
  /** Read the pages after `bundle` (a searchset from prefetch or elsewhere) by its `next` links. */
  continueSearch(bundle: Bundle, options?: SearchOptions): Promise<SearchResult>;
}

export interface FhirFetcherConfig {
  baseUrl: string;
  accessToken?: string;
  /** Per-request timeout (ms); default 10 s. The caller's signal still applies. */
  timeoutMs?: number;
  /** Called once per HTTP request, for Prometheus. */
  onTiming?: (resourceType: string, ms: number, ok: boolean) => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_PAGES = 20;
const DEFAULT_MAX_ENTRIES = 5000;
/** FHIR R4 §2.23.0.1 (id datatype). */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;

export function createFhirFetcher(config: FhirFetcherConfig): FhirFetcher {
  const base = parseBase(config.baseUrl);
  const baseUrl = base.href.replace(/\/$/, '');
  const client = new Client({ baseUrl, ...(config.accessToken ? { bearerToken: config.accessToken } : {}) });
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  /** The only place a request leaves: `url` is absolute and already checked to be under the base. */
  async function getAbsolute(url: URL, resourceType: string, options: FetchOptions | undefined): Promise<FhirResource> {
    if (!isUnderBase(url, base)) throw new FetchError('invalid-request', resourceType, `FHIR ${resourceType}: URL outside the FHIR base refused`);
    const signals = [AbortSignal.timeout(timeoutMs)];
    if (options?.signal) signals.push(options.signal);
    const signal = AbortSignal.any(signals);
    const started = performance.now();
    let ok = false;
    try {
      if (signal.aborted) throw signal.reason;
      const res = (await client.request(url.href, { options: { signal } })) as unknown;
      if (res === null || typeof res !== 'object' || typeof (res as { resourceType?: unknown }).resourceType !== 'string') {
        throw new FetchError('invalid-response', resourceType, `FHIR ${resourceType}: response is not a FHIR resource`);
      }
      ok = true;
      return res as FhirResource;
    } catch (e) {
      throw normaliseError(e, resourceType, options?.signal);
    } finally {
      config.onTiming?.(resourceType, performance.now() - started, ok);
    }
  }

  function resolveRelative(relativeUrl: string): { url: URL; resourceType: string } {
    const rel = relativeUrl.replace(/^\/+/, '');
    const resourceType = /^([A-Za-z]+)/.exec(rel)?.[1] ?? 'unknown';
    // A scheme or protocol-relative URL is not relative: refuse instead of sending the token there.
    if (/^[a-z][a-z0-9+.-]*:/i.test(relativeUrl) || relativeUrl.startsWith('//') || !RESOURCE_TYPE.test(resourceType)) {
      throw new FetchError('invalid-request', resourceType, 'FHIR request URL must be relative to the FHIR base');
    }
    return { url: new URL(rel, `${baseUrl}/`), resourceType };
  }

  async function collectPages(first: Bundle | undefined, firstFetched: boolean, resourceType: string, options: SearchOptions | undefined): Promise<SearchResult> {
    const maxPages = options?.maxPages ?? DEFAULT_MAX_PAGES;
    const maxEntries = options?.maxEntries ?? DEFAULT_MAX_ENTRIES;
    const resources: FhirResource[] = [];
    let pages = firstFetched ? 1 : 0;
    let bundle = first;
    const seen = new Set<string>();
    for (;;) {
      if (bundle) {
        if (firstFetched || bundle !== first) {
          for (const e of Array.isArray(bundle.entry) ? bundle.entry : []) {
            if (!e || e.search?.mode === 'outcome' || !e.resource || typeof e.resource.resourceType !== 'string') continue;
            if (resources.length >= maxEntries) return { resources, pages, truncated: 'max-entries' };
            resources.push(e.resource as FhirResource);
          }
        }
      }
      const next = Array.isArray(bundle?.link) ? bundle.link.find((l) => l?.relation === 'next')?.url : undefined;
      if (next !== undefined && typeof next !== 'string') return { resources, pages };
      if (!next) return { resources, pages };
      let url: URL;
      try {
        url = new URL(next, `${baseUrl}/`);
      } catch {
        return { resources, pages, truncated: 'foreign-next-link' };
      }
      if (!isUnderBase(url, base)) return { resources, pages, truncated: 'foreign-next-link' };
      if (seen.has(url.href)) return { resources, pages }; // A server looping on itself.
      seen.add(url.href);
      if (pages >= maxPages) return { resources, pages, truncated: 'max-pages' };
      const page = await getAbsolute(url, resourceType, options);
      pages++;
      if (page.resourceType !== 'Bundle') throw new FetchError('invalid-response', resourceType, `FHIR ${resourceType}: next page is not a Bundle`);
      bundle = page;
    }
  }

  return {
    baseUrl,
    async read(resourceType, id, options) {
      if (!RESOURCE_TYPE.test(resourceType)) throw new FetchError('invalid-request', 'unknown', 'FHIR read: invalid resource type');
      if (!FHIR_ID.test(id)) throw new FetchError('invalid-request', resourceType, `FHIR read ${resourceType}: invalid id`);
      return getAbsolute(new URL(`${resourceType}/${id}`, `${baseUrl}/`), resourceType, options);
    },
    async get(relativeUrl, options) {
      const { url, resourceType } = resolveRelative(relativeUrl);
      return getAbsolute(url, resourceType, options);
    },
    async search(relativeUrl, options) {
      const { url, resourceType } = resolveRelative(relativeUrl);
      const first = await getAbsolute(url, resourceType, options);
      if (first.resourceType !== 'Bundle') throw new FetchError('invalid-response', resourceType, `FHIR search ${resourceType}: response is not a Bundle`);
      if (first.type !== 'searchset') throw new FetchError('invalid-response', resourceType, `FHIR search ${resourceType}: Bundle is not a searchset`);
      return collectPages(first, true, resourceType, options);
    },
    async continueSearch(bundle, options) {
      const resourceType = firstResourceType(bundle);
      return collectPages(bundle, false, resourceType, options);
    },
  };
}

function parseBase(baseUrl: string): URL {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    throw new FetchError('invalid-request', 'unknown', 'FHIR base URL is not a valid URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new FetchError('invalid-request', 'unknown', 'FHIR base URL must be http(s)');
  if (u.username || u.password) throw new FetchError('invalid-request', 'unknown', 'FHIR base URL must not carry credentials');
  u.search = '';
  u.hash = '';
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}

/** Same origin, and the path inside the base path (after normalising `..`). */
function isUnderBase(url: URL, base: URL): boolean {
  return url.origin === base.origin && (url.pathname + '/').startsWith(base.pathname) && !url.username && !url.password;
}

function firstResourceType(bundle: Bundle): string {
  const r = bundle.entry?.find((e) => e.resource && e.search?.mode !== 'outcome')?.resource;
  return r?.resourceType ?? 'Bundle';
}

function normaliseError(e: unknown, resourceType: string, callerSignal: AbortSignal | undefined): FetchError {
  if (e instanceof FetchError) return e;
  const err = e as { name?: string; response?: { status?: unknown } } | undefined;
  const status = typeof err?.response?.status === 'number' ? err.response.status : undefined;
  if (status !== undefined) {
    // fhir-kit-client: non-2xx, or a body that is not JSON (status may be 200 then).
    if (status >= 200 && status < 300) return new FetchError('invalid-response', resourceType, `FHIR ${resourceType}: response is not JSON`);
    return new FetchError('http', resourceType, `FHIR ${resourceType}: HTTP ${status}`, status);
  }
  if (callerSignal?.aborted) return new FetchError('aborted', resourceType, `FHIR ${resourceType}: cancelled (time budget)`);
  if (err?.name === 'TimeoutError') return new FetchError('timeout', resourceType, `FHIR ${resourceType}: timed out`);
  if (err?.name === 'AbortError') return new FetchError('aborted', resourceType, `FHIR ${resourceType}: cancelled`);
  return new FetchError('network', resourceType, `FHIR ${resourceType}: network error`);
}
