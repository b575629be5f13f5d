// The FHIR fetcher (src/fhir/client.ts) and prefetch resolution against the embedded FHIR server on an
// ephemeral loopback port: search, paging, read, auth, time budget, foreign next links, and every
// prefetch variant (CDS Hooks 2.0 §"Prefetch").
import express from 'express';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Server } from 'node:http';
import type { Bundle, FhirResource, Observation } from 'fhir/r4.js';
import { createEmbeddedFhirServer } from '../../src/fhir/embedded-server.ts';
import { createFhirFetcher, FetchError } from '../../src/fhir/client.ts';
import { resolvePrefetch } from '../../src/hooks/prefetch.ts';
import type { CdsRequest } from '../../src/hooks/types.ts';

const TOKEN = 'access-token-XYZ';
const LOINC = 'http://loinc.org';

const obs = (id: string, patient: string, code: string, day: number): Observation => ({
  resourceType: 'Observation', id, status: 'final', subject: { reference: `Patient/${patient}` },
  code: { coding: [{ system: LOINC, code }] }, effectiveDateTime: new Date(Date.UTC(2025, 0, day)).toISOString(),
  valueQuantity: { value: day, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
});

const resources: FhirResource[] = [
  { resourceType: 'Patient', id: 'p1' },
  ...Array.from({ length: 23 }, (_, i) => obs(`cr${i + 1}`, 'p1', '2160-0', i + 1)),
  ...Array.from({ length: 3 }, (_, i) => obs(`bi${i + 1}`, 'p1', '1975-2', i + 1)),
  obs('na1', 'p1', '2951-2', 2),
  obs('x1', 'p2', '2160-0', 1),
];

let server: Server;
let evil: Server;
let base: string;
let evilBase: string;
const evilSeen: Array<string | undefined> = [];
const seenAuth: Array<string | undefined> = [];

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
}

beforeAll(async () => {
  const { router } = await createEmbeddedFhirServer({ resources, accessToken: TOKEN, defaultPageSize: 10 });
  // A second server on another port that must never receive our token.
  const evilApp = express();
  evilApp.use((req, res) => {
    evilSeen.push(req.headers.authorization);
    res.type('application/fhir+json').send(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Observation', id: 'evil' } }] }));
  });
  evil = await listen(evilApp);
  evilBase = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;

  const app = express();
  app.use((req, _res, next) => {
    seenAuth.push(req.headers.authorization);
    next();
  });
  app.use('/fhir', router);
  // A slow FHIR server for the time budget.
  app.use('/slow/fhir', (_req, res) => {
    setTimeout(() => res.type('application/fhir+json').send('{"resourceType":"Bundle","type":"searchset"}'), 2000).unref();
  });
  // Misbehaving servers.
  app.get('/odd/fhir/Observation', (req, res) => {
    const kind = String(req.query.kind);
    if (kind === 'foreign') {
      res.type('application/fhir+json').send(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Observation', id: 'a' } }], link: [{ relation: 'next', url: `${evilBase}/fhir/Observation?page=2` }] }));
    } else if (kind === 'outside') {
      res.type('application/fhir+json').send(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [], link: [{ relation: 'next', url: `/other/Observation?page=2` }] }));
    } else if (kind === 'loop') {
      res.type('application/fhir+json').send(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Observation', id: 'l' } }], link: [{ relation: 'next', url: `${base.replace('/fhir', '/odd/fhir')}/Observation?kind=loop&p=${Number(req.query.p ?? 0) + 1}` }] }));
    } else if (kind === 'html') {
      res.type('text/html').send('<html>login</html>');
    } else if (kind === 'error') {
      res.status(500).type('application/fhir+json').send('{"resourceType":"OperationOutcome","issue":[]}');
    } else {
      res.type('application/fhir+json').send('{"resourceType":"Patient","id":"p1"}');
    }
  });
  server = await listen(app);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await new Promise((r) => evil.close(r));
});

describe('createFhirFetcher', () => {
  it('searches Observations by patient and a code list', async () => {
    const timings: Array<[string, boolean]> = [];
    const f = createFhirFetcher({ baseUrl: base, accessToken: TOKEN, onTiming: (rt, ms, ok) => { expect(ms).toBeGreaterThanOrEqual(0); timings.push([rt, ok]); } });
    const r = await f.search(`Observation?patient=p1&code=${encodeURIComponent(`${LOINC}|1975-2,${LOINC}|2951-2`)}&_sort=-date`);
    expect(r.resources.map((x) => x.id).sort()).toEqual(['bi1', 'bi2', 'bi3', 'na1']);
    expect(r.pages).toBe(1);
    expect(r.truncated).toBeUndefined();
    expect(timings).toEqual([['Observation', true]]);
  });

  it('follows next links across pages (_count)', async () => {
    const f = createFhirFetcher({ baseUrl: `${base}/`, accessToken: TOKEN });
    const r = await f.search(`Observation?patient=p1&code=${LOINC}|2160-0&_count=5&_sort=date`);
    expect(r.pages).toBe(5);
    expect(r.resources.map((x) => x.id)).toEqual(Array.from({ length: 23 }, (_, i) => `cr${i + 1}`));
  });

  it('caps pages and entries, and says so', async () => {
    const f = createFhirFetcher({ baseUrl: base, accessToken: TOKEN });
    const byPages = await f.search(`Observation?patient=p1&_count=5`, { maxPages: 2 });
    expect(byPages).toMatchObject({ pages: 2, truncated: 'max-pages' });
    expect(byPages.resources).toHaveLength(10);
    const byEntries = await f.search(`Observation?patient=p1&_count=5`, { maxEntries: 7 });
    expect(byEntries).toMatchObject({ truncated: 'max-entries' });
    expect(byEntries.resources).toHaveLength(7);
  });

  it('reads a resource', async () => {
    const f = createFhirFetcher({ baseUrl: base, accessToken: TOKEN });
    expect(await f.read('Patient', 'p1')).toMatchObject({ resourceType: 'Patient', id: 'p1' });
    expect(await f.get('Patient/p1')).toMatchObject({ id: 'p1' });
    await expect(f.read('Patient', 'missing')).rejects.toMatchObject({ kind: 'http', upstreamStatus: 404 });
    await expect(f.read('Patient', '../x')).rejects.toMatchObject({ kind: 'invalid-request' });
  });

  it('sends the bearer token; without it the server answers 401 and the error does not leak URL or token', async () => {
    seenAuth.length = 0;
    await createFhirFetcher({ baseUrl: base, accessToken: TOKEN }).read('Patient', 'p1');
    expect(seenAuth).toEqual([`Bearer ${TOKEN}`]);
    const anon = createFhirFetcher({ baseUrl: base });
    const err = await anon.read('Patient', 'p1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect(err).toMatchObject({ kind: 'http', upstreamStatus: 401, status: 502, resourceType: 'Patient' });
    const wrong = await createFhirFetcher({ baseUrl: base, accessToken: 'nope-token' }).search('Observation?patient=p1').catch((e: unknown) => e as Error);
    expect((wrong as Error).message).toBe('FHIR Observation: HTTP 401');
    expect((wrong as Error).message).not.toMatch(/p1|nope-token|127\.0\.0\.1/);
  });

  it('times out (per-request timeout and caller signal)', async () => {
    const slow = createFhirFetcher({ baseUrl: base.replace('/fhir', '/slow/fhir'), accessToken: TOKEN, timeoutMs: 150 });
    const started = Date.now();
    await expect(slow.search('Observation?patient=p1')).rejects.toMatchObject({ kind: 'timeout', status: 504 });
    expect(Date.now() - started).toBeLessThan(1500);
    const slow2 = createFhirFetcher({ baseUrl: base.replace('/fhir', '/slow/fhir'), accessToken: TOKEN });
    await expect(slow2.read('Patient', 'p1', { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({ kind: 'aborted' });
  });

  it('never follows a next link to another origin or outside the base (token stays home)', async () => {
    const odd = createFhirFetcher({ baseUrl: base.replace('/fhir', '/odd/fhir'), accessToken: TOKEN });
    evilSeen.length = 0;
    const r = await odd.search('Observation?kind=foreign');
    expect(r).toMatchObject({ pages: 1, truncated: 'foreign-next-link' });
    expect(r.resources.map((x) => x.id)).toEqual(['a']);
    expect(evilSeen).toEqual([]);
    expect(await odd.search('Observation?kind=outside')).toMatchObject({ truncated: 'foreign-next-link' });
    // continueSearch on a prefetched Bundle pointing elsewhere: same rule.
    const foreign: Bundle = { resourceType: 'Bundle', type: 'searchset', link: [{ relation: 'next', url: `${evilBase}/fhir/Observation?x=1` }] };
    expect(await odd.continueSearch(foreign)).toMatchObject({ pages: 0, resources: [], truncated: 'foreign-next-link' });
    expect(evilSeen).toEqual([]);
  });

  it('refuses absolute or protocol-relative URLs passed as relative', async () => {
    const f = createFhirFetcher({ baseUrl: base, accessToken: TOKEN });
    await expect(f.search(`${evilBase}/fhir/Observation`)).rejects.toMatchObject({ kind: 'invalid-request' });
    await expect(f.get(`//127.0.0.1:1/fhir/Patient/p1`)).rejects.toMatchObject({ kind: 'invalid-request' });
    expect(evilSeen).toEqual([]);
    expect(() => createFhirFetcher({ baseUrl: 'ftp://x/fhir' })).toThrow(FetchError);
    expect(() => createFhirFetcher({ baseUrl: 'https://user:pw@x/fhir' })).toThrow(FetchError);
  });

  it('normalises misbehaving servers: non-JSON, 500, not-a-Bundle, next-link loops', async () => {
    const odd = createFhirFetcher({ baseUrl: base.replace('/fhir', '/odd/fhir'), accessToken: TOKEN });
    await expect(odd.search('Observation?kind=html')).rejects.toMatchObject({ kind: 'invalid-response' });
    await expect(odd.search('Observation?kind=error')).rejects.toMatchObject({ kind: 'http', upstreamStatus: 500 });
    await expect(odd.search('Observation?kind=patient')).rejects.toMatchObject({ kind: 'invalid-response' });
    const loop = await odd.search('Observation?kind=loop', { maxPages: 4 });
    expect(loop).toMatchObject({ pages: 4, truncated: 'max-pages' });
  });
});

describe('resolvePrefetch against the embedded server', () => {
  const templates = {
    patient: 'Patient/{{context.patientId}}',
    creatinine: `Observation?patient={{context.patientId}}&code=${LOINC}|2160-0&_sort=-date`,
    bilirubin: `Observation?patient={{context.patientId}}&code=${LOINC}|1975-2`,
    sodium: `Observation?patient={{context.patientId}}&code=${LOINC}|2951-2`,
    conditions: 'Condition?patient={{context.patientId}}',
  };
  const request = (prefetch: CdsRequest['prefetch'], fhirServer?: string): CdsRequest => ({
    hook: 'patient-view', hookInstance: 'h-1',
    context: { userId: 'Practitioner/dr', patientId: 'p1' },
    ...(fhirServer ? { fhirServer } : {}),
    prefetch,
  });
  const ids = (v: unknown) => (v as FhirResource[]).map((r) => r.id);
  const oo: FhirResource = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] };

  it('handles every variant in one call: present, absent→fetched, null, OperationOutcome→fetched, paginated→followed', async () => {
    const fetcher = createFhirFetcher({ baseUrl: base, accessToken: TOKEN });
    // The EHR sent page 1 of 3 of creatinine (10 per page) with a next link on the same server.
    const first = await fetch(`${base}/Observation?patient=p1&code=${encodeURIComponent(`${LOINC}|2160-0`)}&_sort=-date&_count=10`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    const page1 = (await first.json()) as Bundle;
    expect(page1.link?.some((l) => l.relation === 'next')).toBe(true);
    const r = await resolvePrefetch({
      templates,
      request: request({ patient: { resourceType: 'Patient', id: 'p1' }, creatinine: page1, bilirubin: oo, conditions: null }, base),
      fetcher,
      budgetMs: 5000,
    });
    expect(r.unavailable).toEqual([]);
    expect(r.incomplete).toEqual([]);
    expect(r.data.patient).toEqual({ resourceType: 'Patient', id: 'p1' });
    expect(ids(r.data.creatinine)).toEqual(Array.from({ length: 23 }, (_, i) => `cr${23 - i}`));
    expect(ids(r.data.bilirubin)!.sort()).toEqual(['bi1', 'bi2', 'bi3']); // OperationOutcome → fetched
    expect(ids(r.data.sodium)).toEqual(['na1']); // absent → fetched
    expect(r.data.conditions).toEqual([]); // null → no data, not fetched
    expect(r.fetched.sort()).toEqual(['bilirubin', 'creatinine', 'sodium']);
  });

  it('without a FHIR server: OperationOutcome and absent keys are unavailable; a paginated searchset is incomplete', async () => {
    const page1: Bundle = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: obs('cr23', 'p1', '2160-0', 23) }], link: [{ relation: 'next', url: `${base}/Observation?x` }] };
    const r = await resolvePrefetch({
      templates,
      request: request({ patient: { resourceType: 'Patient', id: 'p1' }, creatinine: page1, bilirubin: oo, conditions: null }),
      budgetMs: 1000,
    });
    expect(r.unavailable.sort()).toEqual(['bilirubin', 'sodium']);
    expect(r.incomplete).toEqual(['creatinine']);
    expect(ids(r.data.creatinine)).toEqual(['cr23']);
    expect(r.data.bilirubin).toBeNull();
  });

  it('a read 404 from the server is "no data"', async () => {
    const fetcher = createFhirFetcher({ baseUrl: base, accessToken: TOKEN });
    const r = await resolvePrefetch({ templates: { patient: 'Patient/{{context.patientId}}' }, request: { ...request({}), context: { userId: 'Practitioner/dr', patientId: 'ghost' } }, fetcher, budgetMs: 5000 });
    expect(r.data.patient).toBeNull();
    expect(r.unavailable).toEqual([]);
  });

  it('keeps within the time budget against a slow server: keys not done are unavailable', async () => {
    const slow = createFhirFetcher({ baseUrl: base.replace('/fhir', '/slow/fhir'), accessToken: TOKEN });
    const started = Date.now();
    const r = await resolvePrefetch({ templates, request: request({ patient: { resourceType: 'Patient', id: 'p1' } }), fetcher: slow, budgetMs: 200 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(r.unavailable.sort()).toEqual(['bilirubin', 'conditions', 'creatinine', 'sodium']);
    expect(r.data.patient).toEqual({ resourceType: 'Patient', id: 'p1' });
  });

  it('an expired or wrong token makes fetched keys unavailable (the service then answers 412 if required)', async () => {
    const f = createFhirFetcher({ baseUrl: base, accessToken: 'expired' });
    const r = await resolvePrefetch({ templates: { sodium: templates.sodium }, request: request({}), fetcher: f, budgetMs: 5000 });
    expect(r.unavailable).toEqual(['sodium']);
  });
});

// Redirects (issue 11, item 1): followed only to a URL under an allowed base of the calling client,
// with the token; anything else fails the fetch before the target is contacted.
describe('redirects stay inside the allowed FHIR bases', () => {
  let ehr: Server;
  let foreign: Server;
  let ehrOrigin: string;
  let foreignOrigin: string;
  /** Requests each server received: path and the Authorization header. */
  const ehrSeen: Array<{ path: string; auth: string | undefined }> = [];
  const foreignSeen: Array<{ path: string; auth: string | undefined }> = [];
  const bundle = (id: string) => JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'Observation', id, subject: { reference: 'Patient/p1' } } }] });

  beforeAll(async () => {
    const f = express();
    f.use((req, res) => {
      foreignSeen.push({ path: req.originalUrl, auth: req.headers.authorization });
      res.type('application/fhir+json').send(bundle('from-foreign'));
    });
    foreign = await listen(f);
    foreignOrigin = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;

    const e = express();
    e.use((req, _res, next) => {
      ehrSeen.push({ path: req.originalUrl, auth: req.headers.authorization });
      next();
    });
    e.get('/fhir/Observation', (req, res) => {
      const to = String(req.query.to);
      const targets: Record<string, [number, string]> = {
        foreign: [302, `${foreignOrigin}/fhir/Observation?patient=p1`],
        'protocol-relative': [302, `//127.0.0.1:${(foreign.address() as AddressInfo).port}/fhir/Observation`],
        outside: [302, '/other/Observation?patient=p1'],
        traversal: [302, '/fhir/..%2Fother/Observation'],
        inside: [307, '/fhir/moved/Observation?patient=p1'],
        'other-base': [308, `${ehrOrigin}/alt/fhir/Observation?patient=p1`],
        loop: [302, `/fhir/Observation?to=loop&n=${Number(req.query.n ?? 0) + 1}`],
        'no-location': [302, ''],
      };
      const t = targets[to];
      if (!t) return void res.status(400).end();
      if (t[1]) res.setHeader('location', t[1]);
      res.status(t[0]).type('text/html').send('<a href="elsewhere">moved</a>');
    });
    e.get('/fhir/moved/Observation', (_req, res) => { res.type('application/fhir+json').send(bundle('moved-inside')); });
    e.get('/alt/fhir/Observation', (_req, res) => { res.type('application/fhir+json').send(bundle('other-allowed-base')); });
    e.get('/other/Observation', (_req, res) => { res.type('application/fhir+json').send(bundle('outside-base')); });
    ehr = await listen(e);
    ehrOrigin = `http://127.0.0.1:${(ehr.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => ehr.close(r));
    await new Promise((r) => foreign.close(r));
  });
  beforeEach(() => {
    ehrSeen.length = 0;
    foreignSeen.length = 0;
  });

  const fetcher = () => createFhirFetcher({ baseUrl: `${ehrOrigin}/fhir`, accessToken: TOKEN, allowedBases: [`${ehrOrigin}/fhir`, `${ehrOrigin}/alt/fhir`] });

  it('a 302 to a foreign host fails the fetch, and the foreign host receives nothing', async () => {
    for (const to of ['foreign', 'protocol-relative']) {
      await expect(fetcher().search(`Observation?to=${to}`)).rejects.toMatchObject({ kind: 'redirect', status: 502 });
    }
    expect(foreignSeen).toEqual([]);
  });

  it('a 302 to a path outside the allowed base on the same host is not followed (no token sent there)', async () => {
    for (const to of ['outside', 'traversal']) {
      const err = (await fetcher().search(`Observation?to=${to}`).catch((e: unknown) => e)) as FetchError;
      expect(err).toMatchObject({ kind: 'redirect' });
      expect(err.message).not.toMatch(/127\.0\.0\.1|other|p1/);
    }
    expect(ehrSeen.map((s) => s.path.split('?')[0])).toEqual(['/fhir/Observation', '/fhir/Observation']);
  });

  it('a 307 inside the base, or a 308 to another base of the client, is followed with the token', async () => {
    const inside = await fetcher().search('Observation?to=inside');
    expect(inside.resources.map((r) => r.id)).toEqual(['moved-inside']);
    const other = await fetcher().search('Observation?to=other-base');
    expect(other.resources.map((r) => r.id)).toEqual(['other-allowed-base']);
    expect(ehrSeen).toEqual([
      { path: '/fhir/Observation?to=inside', auth: `Bearer ${TOKEN}` },
      { path: '/fhir/moved/Observation?patient=p1', auth: `Bearer ${TOKEN}` },
      { path: '/fhir/Observation?to=other-base', auth: `Bearer ${TOKEN}` },
      { path: '/alt/fhir/Observation?patient=p1', auth: `Bearer ${TOKEN}` },
    ]);
    // The other base is allowed only because the client's allowlist names it.
    const narrow = createFhirFetcher({ baseUrl: `${ehrOrigin}/fhir`, accessToken: TOKEN });
    await expect(narrow.search('Observation?to=other-base')).rejects.toMatchObject({ kind: 'redirect' });
  });

  it('a redirect loop ends after a bounded number of hops; a redirect without Location fails', async () => {
    await expect(fetcher().search('Observation?to=loop')).rejects.toMatchObject({ kind: 'redirect' });
    expect(ehrSeen.length).toBe(6); // the request and 5 redirects followed
    await expect(fetcher().search('Observation?to=no-location')).rejects.toMatchObject({ kind: 'redirect' });
  });

  it('prefetch resolution: a key whose fetch is redirected to a foreign host is unavailable, and its answer is never scored', async () => {
    const r = await resolvePrefetch({
      templates: { labs: 'Observation?to=foreign', moved: 'Observation?to=inside' },
      request: { hook: 'patient-view', hookInstance: 'h', context: { userId: 'Practitioner/dr', patientId: 'p1' }, fhirServer: `${ehrOrigin}/fhir` },
      fetcher: fetcher(),
      budgetMs: 5000,
    });
    expect(r.unavailable).toEqual(['labs']);
    expect(r.data.labs).toBeNull();
    expect((r.data.moved as FhirResource[]).map((x) => x.id)).toEqual(['moved-inside']);
    expect(foreignSeen).toEqual([]);
  });
});

// Per-response size cap (issue 11, item 5): an answer past FHIR_RESPONSE_MAX_BYTES is abandoned while
// it streams, and the call answers from what is left.
describe('per-response size cap', () => {
  let server: Server;
  let origin: string;
  const CAP = 256 * 1024;
  /** Per huge response: bytes written before the client went away, and whether it did. */
  const streams: Array<{ written: number; closed: boolean }> = [];
  const entry = (i: number) => JSON.stringify({ resource: { resourceType: 'Observation', id: `o${i}`, subject: { reference: 'Patient/p1' }, note: [{ text: 'x'.repeat(1000) }] } });

  beforeAll(async () => {
    const app = express();
    // A huge searchset sent slowly: 64 kB every 10 ms, 200 MB in all (about 30 s if read whole).
    app.get('/fhir/Observation', (req, res) => {
      if (req.query.page === 'small') {
        res.type('application/fhir+json').send(JSON.stringify({
          resourceType: 'Bundle', type: 'searchset',
          entry: [JSON.parse(entry(0)) as object],
          link: [{ relation: 'next', url: `${origin}/fhir/Observation?page=huge` }],
        }));
        return;
      }
      if (req.query.page === 'declared') {
        res.setHeader('content-length', String(50 * 1024 * 1024));
        res.type('application/fhir+json');
        res.write('{"resourceType":"Bundle","type":"searchset","entry":[');
        return; // never finishes: the client must not wait for it
      }
      if (req.query.page === 'gzip') {
        // 20 MB of JSON compressed to about 20 kB: the cap applies to the decoded bytes.
        const body = `{"resourceType":"Bundle","type":"searchset","entry":[${Array.from({ length: 20_000 }, (_, i) => entry(i)).join(',')}]}`;
        res.setHeader('content-encoding', 'gzip');
        res.type('application/fhir+json').send(gzipSync(body));
        return;
      }
      const s = { written: 0, closed: false };
      streams.push(s);
      res.type('application/fhir+json');
      res.write('{"resourceType":"Bundle","type":"searchset","entry":[');
      let i = 0;
      const chunk = () => Array.from({ length: 64 }, () => entry(i++)).join(',') + ',';
      const timer = setInterval(() => {
        if (s.written > 200 * 1024 * 1024) return void res.end(`${entry(i)}]}`);
        const c = chunk();
        s.written += c.length;
        res.write(c);
      }, 10);
      res.on('close', () => {
        s.closed = true;
        clearInterval(timer);
      });
    });
    server = await listen(app);
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const fetcher = () => createFhirFetcher({ baseUrl: `${origin}/fhir`, accessToken: TOKEN, maxResponseBytes: CAP });

  it('abandons a huge, slow answer once past the cap, long before its end, and closes the connection', async () => {
    const started = Date.now();
    await expect(fetcher().search('Observation?page=huge')).rejects.toMatchObject({ kind: 'too-large', status: 502 });
    expect(Date.now() - started).toBeLessThan(5_000);
    const s = streams.at(-1)!;
    await until(() => s.closed);
    expect(s.written).toBeLessThan(8 * 1024 * 1024); // the cap plus what sat in socket buffers
  });

  it('refuses a declared Content-Length over the cap without reading the body', async () => {
    const started = Date.now();
    await expect(fetcher().get('Observation?page=declared')).rejects.toMatchObject({ kind: 'too-large' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('counts decoded bytes: a small gzip that expands past the cap is abandoned', async () => {
    await expect(fetcher().get('Observation?page=gzip')).rejects.toMatchObject({ kind: 'too-large' });
  });

  it('a later page over the cap: the pages read so far, marked incomplete; a first page over it: the key unavailable', async () => {
    const paged = await fetcher().search('Observation?page=small');
    expect(paged).toMatchObject({ pages: 1, truncated: 'too-large' });
    expect(paged.resources.map((r) => r.id)).toEqual(['o0']);
    const r = await resolvePrefetch({
      templates: { paged: 'Observation?page=small', huge: 'Observation?page=huge' },
      request: { hook: 'patient-view', hookInstance: 'h', context: { userId: 'Practitioner/dr', patientId: 'p1' } },
      fetcher: fetcher(),
      budgetMs: 10_000,
    });
    expect(r.incomplete).toEqual(['paged']);
    expect((r.data.paged as FhirResource[]).map((x) => x.id)).toEqual(['o0']);
    expect(r.unavailable).toEqual(['huge']);
    expect(r.data.huge).toBeNull();
  });
});

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
