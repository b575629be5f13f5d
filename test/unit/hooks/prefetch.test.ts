// Prefetch resolution (CDS Hooks 2.0 §"Prefetch template", §"Prefetch tokens") with a fake fetcher.
import type { Bundle, FhirResource, Observation, OperationOutcome } from 'fhir/r4.js';
import type { CdsRequest } from '../../../src/hooks/types.ts';
import { resolvePrefetch, substituteTokens, type PrefetchLogger } from '../../../src/hooks/prefetch.ts';
import { FetchError, type FhirFetcher, type SearchResult } from '../../../src/fhir/client.ts';

const obs = (id: string): Observation => ({ resourceType: 'Observation', id, status: 'final', code: { text: 'x' } });
const searchset = (resources: FhirResource[], next?: string): Bundle => ({
  resourceType: 'Bundle', type: 'searchset',
  entry: resources.map((resource) => ({ resource, search: { mode: 'match' as const } })),
  ...(next ? { link: [{ relation: 'next', url: next }] } : {}),
});

function request(prefetch?: CdsRequest['prefetch'], context: Partial<CdsRequest['context']> = {}): CdsRequest {
  return {
    hook: 'patient-view', hookInstance: 'hi-1',
    context: { userId: 'Practitioner/dr-1', patientId: 'pat-1', ...context },
    ...(prefetch !== undefined ? { prefetch } : {}),
  };
}

interface FakeCall { kind: 'get' | 'search' | 'continue'; url: string }

/** A fetcher answering from a table; `delayMs` honours the abort signal like the real one. */
function fakeFetcher(table: Record<string, FhirResource | FhirResource[] | Error>, delayMs = 0, pages: Record<string, FhirResource[]> = {}) {
  const calls: FakeCall[] = [];
  const wait = (signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (delayMs === 0) return resolve();
      const t = setTimeout(resolve, delayMs);
      signal?.addEventListener('abort', () => { clearTimeout(t); reject(new FetchError('aborted', 'x', 'cancelled')); }, { once: true });
    });
  const answer = (url: string) => {
    const v = table[url];
    if (v === undefined) throw new FetchError('http', 'x', 'HTTP 404', 404);
    if (v instanceof Error) throw v;
    return v;
  };
  const fetcher: FhirFetcher = {
    baseUrl: 'https://ehr.example/fhir',
    async read() { throw new Error('unused'); },
    async get(url, o) { calls.push({ kind: 'get', url }); await wait(o?.signal); return answer(url) as FhirResource; },
    async search(url, o): Promise<SearchResult> {
      calls.push({ kind: 'search', url }); await wait(o?.signal);
      const v = answer(url);
      return { resources: Array.isArray(v) ? v : [v], pages: 1 };
    },
    async continueSearch(bundle, o): Promise<SearchResult> {
      const next = bundle.link?.find((l) => l.relation === 'next')?.url ?? '';
      calls.push({ kind: 'continue', url: next }); await wait(o?.signal);
      const more = pages[next];
      if (!more) throw new FetchError('http', 'x', 'HTTP 500', 500);
      return { resources: more, pages: 1 };
    },
  };
  return { fetcher, calls };
}

function recordingLogger() {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const logger: PrefetchLogger = { warn: (obj, msg) => lines.push({ obj, msg }), debug: (obj, msg) => lines.push({ obj, msg }) };
  return { logger, lines };
}

const templates = {
  patient: 'Patient/{{context.patientId}}',
  labs: 'Observation?patient={{context.patientId}}&code=http://loinc.org|2160-0',
};

describe('substituteTokens', () => {
  const ctx = { userId: 'Practitioner/dr 1', patientId: 'p&x=1', encounterId: 'enc-9' };
  it('replaces context tokens with URL-encoded values', () => {
    expect(substituteTokens('Observation?patient={{context.patientId}}&encounter={{context.encounterId}}', ctx)).toEqual({ url: 'Observation?patient=p%26x%3D1&encounter=enc-9' });
  });
  it('keeps the / of a userId reference so a read template works', () => {
    expect(substituteTokens('{{context.userId}}', ctx)).toEqual({ url: 'Practitioner/dr%201' });
  });
  it('derives the user tokens from context.userId', () => {
    expect(substituteTokens('Practitioner/{{userPractitionerId}}', { userId: 'Practitioner/abc', patientId: 'p' })).toEqual({ url: 'Practitioner/abc' });
    expect(substituteTokens('PractitionerRole?_id={{userPractitionerRoleId}}', { userId: 'PractitionerRole/r1', patientId: 'p' })).toEqual({ url: 'PractitionerRole?_id=r1' });
    expect(substituteTokens('Patient/{{userPatientId}}', { userId: 'Patient/p9', patientId: 'p9' })).toEqual({ url: 'Patient/p9' });
    expect(substituteTokens('RelatedPerson/{{userRelatedPersonId}}', { userId: 'RelatedPerson/rp', patientId: 'p' })).toEqual({ url: 'RelatedPerson/rp' });
  });
  it('refuses tokens without a value, nested fields and path tricks', () => {
    expect(substituteTokens('Encounter/{{context.encounterId}}', { userId: 'Practitioner/a', patientId: 'p' })).toEqual({ unresolved: 'context.encounterId' });
    expect(substituteTokens('{{userPatientId}}', { userId: 'Practitioner/a', patientId: 'p' })).toEqual({ unresolved: 'userPatientId' });
    expect(substituteTokens('{{context.patient.id}}', { userId: 'Practitioner/a', patientId: 'p', patient: { id: 'x' } })).toEqual({ unresolved: 'context.patient.id' });
    expect(substituteTokens('Patient/{{context.patientId}}', { userId: 'Practitioner/a', patientId: '..' })).toEqual({ unresolved: 'context.patientId' });
    expect(substituteTokens('{{context.userId}}', { userId: 'Practitioner/../x', patientId: 'p' })).toEqual({ url: 'Practitioner%2F..%2Fx' });
  });
  it('names the first token without a value when there are several', () => {
    expect(substituteTokens('Observation?patient={{context.patientId}}&encounter={{context.encounterId}}&x={{userPatientId}}', { userId: 'Practitioner/a', patientId: 'p' }))
      .toEqual({ unresolved: 'context.encounterId' });
  });
});

describe('resolvePrefetch', () => {
  it('uses present resources and flattens searchsets (dropping outcome entries)', async () => {
    const bundle = searchset([obs('o1'), obs('o2')]);
    bundle.entry!.push({ resource: { resourceType: 'OperationOutcome', issue: [] } as OperationOutcome, search: { mode: 'outcome' } });
    const r = await resolvePrefetch({ templates, request: request({ patient: { resourceType: 'Patient', id: 'pat-1' }, labs: bundle }), budgetMs: 1000 });
    expect(r.data.patient).toEqual({ resourceType: 'Patient', id: 'pat-1' });
    expect((r.data.labs as FhirResource[]).map((x) => x.id)).toEqual(['o1', 'o2']);
    expect(r).toMatchObject({ unavailable: [], fetched: [], incomplete: [] });
  });

  it('null means no data: null for a read, [] for a search; never fetched', async () => {
    const { fetcher, calls } = fakeFetcher({});
    const r = await resolvePrefetch({ templates, request: request({ patient: null, labs: null }), fetcher, budgetMs: 1000 });
    expect(r.data).toEqual({ patient: null, labs: [] });
    expect(r.unavailable).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('fetches absent keys with substituted URLs when a fetcher exists', async () => {
    const { fetcher, calls } = fakeFetcher({
      'Patient/pat-1': { resourceType: 'Patient', id: 'pat-1' },
      'Observation?patient=pat-1&code=http://loinc.org|2160-0': [obs('o9')],
    });
    const r = await resolvePrefetch({ templates, request: request(), fetcher, budgetMs: 1000 });
    expect(r.data.patient).toEqual({ resourceType: 'Patient', id: 'pat-1' });
    expect(r.data.labs).toEqual([obs('o9')]);
    expect(r.fetched.sort()).toEqual(['labs', 'patient']);
    expect(calls.map((c) => c.kind).sort()).toEqual(['get', 'search']);
  });

  it('marks absent keys unavailable without a fetcher', async () => {
    const r = await resolvePrefetch({ templates, request: request({ patient: { resourceType: 'Patient', id: 'pat-1' } }), budgetMs: 1000 });
    expect(r.unavailable).toEqual(['labs']);
    expect(r.data.labs).toBeNull();
  });

  it('treats an OperationOutcome as an EHR failure: fetched with a fetcher, unavailable without', async () => {
    const oo = { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'error' as const, code: 'exception' as const }] };
    const { fetcher } = fakeFetcher({ 'Observation?patient=pat-1&code=http://loinc.org|2160-0': [obs('o3')] });
    const withF = await resolvePrefetch({ templates, request: request({ patient: null, labs: oo }), fetcher, budgetMs: 1000 });
    expect(withF.data.labs).toEqual([obs('o3')]);
    expect(withF.fetched).toEqual(['labs']);
    const without = await resolvePrefetch({ templates, request: request({ patient: null, labs: oo }), budgetMs: 1000 });
    expect(without.unavailable).toEqual(['labs']);
    expect(without.data.labs).toBeNull();
  });

  it('treats garbage, wrong Bundle types and wrong resources as failures', async () => {
    const cases: unknown[] = [
      { resourceType: 'Bundle', type: 'collection', entry: [] },
      { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: 'x' }] },
      { resourceType: 'Bundle', type: 'searchset', entry: 'nope' },
      { resourceType: 'Bundle', type: 'searchset', entry: [], link: 'nope' },
      'a string',
      [obs('x')],
      obs('not-a-bundle'),
    ];
    for (const labs of cases) {
      const r = await resolvePrefetch({ templates, request: request({ patient: null, labs: labs as FhirResource }), budgetMs: 1000 });
      expect(r.unavailable).toEqual(['labs']);
    }
    // A read answered with another patient's record, or another type, is not used.
    for (const patient of [{ resourceType: 'Patient', id: 'someone-else' }, { resourceType: 'Practitioner', id: 'pat-1' }]) {
      const r = await resolvePrefetch({ templates, request: request({ patient: patient as FhirResource, labs: null }), budgetMs: 1000 });
      expect(r.unavailable).toEqual(['patient']);
    }
    // ... but fetched when we can.
    const { fetcher } = fakeFetcher({ 'Patient/pat-1': { resourceType: 'Patient', id: 'pat-1' } });
    const r = await resolvePrefetch({ templates, request: request({ patient: { resourceType: 'Patient', id: 'x' }, labs: null }), fetcher, budgetMs: 1000 });
    expect(r.data.patient).toEqual({ resourceType: 'Patient', id: 'pat-1' });
  });

  it('follows next links of a prefetched searchset with a fetcher, else marks it incomplete', async () => {
    const next = 'https://ehr.example/fhir/Observation?page=2';
    const bundle = searchset([obs('o1')], next);
    const { fetcher, calls } = fakeFetcher({}, 0, { [next]: [obs('o2'), obs('o3')] });
    const r = await resolvePrefetch({ templates, request: request({ patient: null, labs: bundle }), fetcher, budgetMs: 1000 });
    expect((r.data.labs as FhirResource[]).map((x) => x.id)).toEqual(['o1', 'o2', 'o3']);
    expect(r.fetched).toEqual(['labs']);
    expect(r.incomplete).toEqual([]);
    expect(calls).toEqual([{ kind: 'continue', url: next }]);

    const without = await resolvePrefetch({ templates, request: request({ patient: null, labs: bundle }), budgetMs: 1000 });
    expect((without.data.labs as FhirResource[]).map((x) => x.id)).toEqual(['o1']);
    expect(without.incomplete).toEqual(['labs']);
    expect(without.unavailable).toEqual([]);
  });

  it('keeps the first page when a next page fails, and says it is incomplete', async () => {
    const bundle = searchset([obs('o1')], 'https://ehr.example/fhir/Observation?page=2');
    const { fetcher } = fakeFetcher({});
    const r = await resolvePrefetch({ templates, request: request({ patient: null, labs: bundle }), fetcher, budgetMs: 1000 });
    expect((r.data.labs as FhirResource[]).map((x) => x.id)).toEqual(['o1']);
    expect(r.incomplete).toEqual(['labs']);
  });

  it('keeps the first page when the budget runs out while reading further pages', async () => {
    const next = 'https://ehr.example/fhir/Observation?page=2';
    const { fetcher } = fakeFetcher({}, 500, { [next]: [obs('o2')] });
    const r = await resolvePrefetch({ templates, request: request({ patient: null, labs: searchset([obs('o1')], next) }), fetcher, budgetMs: 50 });
    expect((r.data.labs as FhirResource[]).map((x) => x.id)).toEqual(['o1']);
    expect(r.incomplete).toEqual(['labs']);
    expect(r.unavailable).toEqual([]);
  });

  it('a read that finds nothing (404) is no data; other errors make the key unavailable', async () => {
    const { fetcher } = fakeFetcher({ 'Observation?patient=pat-1&code=http://loinc.org|2160-0': new FetchError('http', 'Observation', 'HTTP 500', 500) });
    const r = await resolvePrefetch({ templates, request: request(), fetcher, budgetMs: 1000 });
    expect(r.data.patient).toBeNull();
    expect(r.fetched).toContain('patient');
    expect(r.unavailable).toEqual(['labs']);
  });

  it('runs fetches in parallel under one budget; late keys are unavailable, logged by key only', async () => {
    const { fetcher, calls } = fakeFetcher(
      { 'Patient/pat-1': { resourceType: 'Patient', id: 'pat-1' }, 'Observation?patient=pat-1&code=http://loinc.org|2160-0': [obs('o1')] },
      400,
    );
    const { logger, lines } = recordingLogger();
    const started = Date.now();
    const r = await resolvePrefetch({ templates, request: request(), fetcher, budgetMs: 100, logger });
    const took = Date.now() - started;
    expect(took).toBeLessThan(350);
    expect(r.unavailable.sort()).toEqual(['labs', 'patient']);
    expect(calls).toHaveLength(2); // both started at once
    const text = JSON.stringify(lines);
    expect(text).toContain('"key":"labs"');
    expect(text).not.toContain('pat-1');
  });

  it('parallel: total time is the slowest fetch, not the sum', async () => {
    const many = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, `Observation?patient={{context.patientId}}&n=${i}`]));
    const table = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`Observation?patient=pat-1&n=${i}`, [obs(`o${i}`)]]));
    const { fetcher } = fakeFetcher(table, 100);
    const started = Date.now();
    const r = await resolvePrefetch({ templates: many, request: request(), fetcher, budgetMs: 2000 });
    expect(Date.now() - started).toBeLessThan(500);
    expect(r.fetched).toHaveLength(6);
  });

  it('a template with an unresolvable token is unavailable (unless the EHR sent it)', async () => {
    const t = { encounter: 'Encounter/{{context.encounterId}}' };
    const { fetcher } = fakeFetcher({});
    expect((await resolvePrefetch({ templates: t, request: request(), fetcher, budgetMs: 1000 })).unavailable).toEqual(['encounter']);
    const given = await resolvePrefetch({ templates: t, request: request({ encounter: { resourceType: 'Encounter', status: 'in-progress', class: { code: 'AMB' } } }), budgetMs: 1000 });
    expect(given.unavailable).toEqual([]);
  });

  it('never logs resource content or tokens', async () => {
    const { logger, lines } = recordingLogger();
    const req = request({ patient: { resourceType: 'Patient', id: 'pat-1', name: [{ family: 'Secret' }] } });
    req.fhirAuthorization = { access_token: 'tok-123', token_type: 'Bearer', expires_in: 60, scope: 's', subject: 'c' };
    await resolvePrefetch({ templates, request: req, budgetMs: 1000, logger });
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/Secret|tok-123|pat-1/);
  });
});
