// FHIR REST access to the EHR's server (CDS Hooks 2.0 §"FHIR Resource Access").
//
// Security (DESIGN.md): the bearer token goes only to URLs under an allowed FHIR base: `baseUrl` (the
// caller has already checked it against the issuer's allowlist) or another base of that issuer's
// allowlist (`allowedBases`). Redirects are followed by this module, not by fetch, and only to such
// URLs (then with the token); any other redirect fails the fetch, so its target receives nothing.
// The same rule holds for `next` links. Error messages carry the resource type and HTTP status only:
// no URL (it holds the patient id), no token.
//
// Why not fhir-kit-client (DESIGN.md names it): its HttpClient lets fetch follow redirects and reads
// every body whole with `response.text()`, with no hook to stop a huge answer while it streams. A
// GET of a FHIR resource is a few lines over Node's fetch; doing it here bounds both.
import type { Bundle, FhirResource } from 'fhir/r4.js';
import { HttpError } from '../errors.ts';

/**
 * 'redirect': a redirect outside the allowed bases, or too many; 'too-large': the answer passed
 * maxResponseBytes and was abandoned.
 */
export type FetchErrorKind = 'http' | 'timeout' | 'aborted' | 'network' | 'invalid-response' | 'invalid-request' | 'redirect' | 'too-large';

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
  /** Set when more pages existed but were not read ('too-large': a later page passed the size cap). */
  truncated?: 'max-pages' | 'max-entries' | 'foreign-next-link' | 'too-large';
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
  /**
   * The other FHIR bases the calling client is allowed (its fhirServers allowlist). A redirect or a
   * `next` link may go to a URL under `baseUrl` or under one of these, and nowhere else.
   */
  allowedBases?: readonly string[];
  /** Per-request timeout (ms); default 10 s. The caller's signal still applies. */
  timeoutMs?: number;
  /**
   * Largest response body read, in bytes after content decoding (default 4 MiB). A larger answer is
   * abandoned while it streams (the connection is closed), never buffered whole.
   */
  maxResponseBytes?: number;
  /** Called once per HTTP request, for Prometheus. */
  onTiming?: (resourceType: string, ms: number, ok: boolean) => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * About ten times a full page of our largest template (200 Observations with narrative): a server
 * that answers more is not answering our query. FHIR_RESPONSE_MAX_BYTES overrides it (config.ts).
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Redirects followed per request (RFC 9110 §15.4 leaves the limit to the client; fetch uses 20). */
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
// `fatal`: bytes that are not UTF-8 are not a FHIR JSON answer (FHIR R4 §2.6.2: JSON is UTF-8).
const utf8 = new TextDecoder('utf-8', { fatal: true });
const DEFAULT_MAX_PAGES = 20;
const DEFAULT_MAX_ENTRIES = 5000;
/** FHIR R4 §2.23.0.1 (id datatype). */
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;

export function createFhirFetcher(config: FhirFetcherConfig): FhirFetcher {
  const base = parseBase(config.baseUrl);
  const baseUrl = base.href.replace(/\/$/, '');
  const allowed = [base, ...(config.allowedBases ?? []).flatMap((b) => {
    try {
      return [parseBase(b)];
    } catch {
      return [];
    }
  })];
  const isAllowed = (url: URL): boolean => allowed.some((b) => isUnderBase(url, b));
  const headers: Record<string, string> = { accept: 'application/fhir+json' };
  if (config.accessToken) headers.authorization = `Bearer ${config.accessToken}`;
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;

  /** The only place a request leaves: `url` is absolute and already checked to be under the base. */
  async function getAbsolute(url: URL, resourceType: string, options: FetchOptions | undefined): Promise<FhirResource> {
    if (!isAllowed(url)) throw new FetchError('invalid-request', resourceType, `FHIR ${resourceType}: URL outside the FHIR base refused`);
    const signals = [AbortSignal.timeout(timeoutMs)];
    if (options?.signal) signals.push(options.signal);
    const signal = AbortSignal.any(signals);
    const started = performance.now();
    let ok = false;
    try {
      if (signal.aborted) throw signal.reason;
      const body = await getFollowingRedirects(url, resourceType, signal);
      let res: unknown;
      try {
        res = JSON.parse(utf8.decode(body));
      } catch {
        throw new FetchError('invalid-response', resourceType, `FHIR ${resourceType}: response is not JSON`);
      }
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

  /**
   * GET with `redirect: 'manual'`: a redirect is followed (with the token) only to a URL under an
   * allowed base, at most MAX_REDIRECTS times; anything else fails without contacting the target.
   */
  async function getFollowingRedirects(first: URL, resourceType: string, signal: AbortSignal): Promise<Uint8Array> {
    let url = first;
    for (let hops = 0; ; hops++) {
      const res = await fetch(url, { method: 'GET', headers, redirect: 'manual', signal });
      if (REDIRECT_STATUSES.has(res.status)) {
        await discard(res);
        const location = res.headers.get('location');
        let target: URL | undefined;
        try {
          target = location ? new URL(location, url) : undefined;
        } catch {
          target = undefined;
        }
        if (!target || !isAllowed(target)) throw new FetchError('redirect', resourceType, `FHIR ${resourceType}: redirect outside the allowed FHIR bases refused`);
        if (hops >= MAX_REDIRECTS) throw new FetchError('redirect', resourceType, `FHIR ${resourceType}: too many redirects`);
        url = target;
        continue;
      }
      if (!res.ok) {
        await discard(res);
        throw new FetchError('http', resourceType, `FHIR ${resourceType}: HTTP ${res.status}`, res.status);
      }
      return readCapped(res, maxBytes, resourceType);
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
      if (!isAllowed(url)) return { resources, pages, truncated: 'foreign-next-link' };
      if (seen.has(url.href)) return { resources, pages }; // A server looping on itself.
      seen.add(url.href);
      if (pages >= maxPages) return { resources, pages, truncated: 'max-pages' };
      let page: FhirResource;
      try {
        page = await getAbsolute(url, resourceType, options);
      } catch (e) {
        // An oversized later page: answer from the pages read so far, marked incomplete.
        if (e instanceof FetchError && e.kind === 'too-large') return { resources, pages, truncated: 'too-large' };
        throw e;
      }
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

/**
 * Same origin, and the path inside the base path (after normalising `..`). An encoded '/' or '\\'
 * in the path is refused: the server could decode it and see another path than the one compared.
 */
function isUnderBase(url: URL, base: URL): boolean {
  return url.origin === base.origin && (url.pathname + '/').startsWith(base.pathname) && !url.username && !url.password
    && !/%2f|%5c/i.test(url.pathname);
}

/** Lets go of a body we do not read (a redirect's, an error's): the connection is not left waiting. */
async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

/**
 * The body, read chunk by chunk: past `max` bytes (counted after content decoding, so a compressed
 * answer cannot expand past it) the stream is cancelled, which closes the connection.
 */
async function readCapped(res: Response, max: number, resourceType: string): Promise<Uint8Array> {
  const tooLarge = () => new FetchError('too-large', resourceType, `FHIR ${resourceType}: response larger than ${max} bytes abandoned`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await discard(res);
    throw tooLarge();
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

function firstResourceType(bundle: Bundle): string {
  const r = bundle.entry?.find((e) => e.resource && e.search?.mode !== 'outcome')?.resource;
  return r?.resourceType ?? 'Bundle';
}

function normaliseError(e: unknown, resourceType: string, callerSignal: AbortSignal | undefined): FetchError {
  if (e instanceof FetchError) return e;
  const err = e as { name?: string } | undefined;
  if (callerSignal?.aborted) return new FetchError('aborted', resourceType, `FHIR ${resourceType}: cancelled (time budget)`);
  if (err?.name === 'TimeoutError') return new FetchError('timeout', resourceType, `FHIR ${resourceType}: timed out`);
  if (err?.name === 'AbortError') return new FetchError('aborted', resourceType, `FHIR ${resourceType}: cancelled`);
  // fetch's TypeError('fetch failed'): refused, reset, DNS; its cause may name the host: not kept.
  return new FetchError('network', resourceType, `FHIR ${resourceType}: network error`);
}
