// The DICOMweb access boundary (dicomweb-client over the fetch-backed XMLHttpRequest) against a small
// loopback HTTP server that records what it is asked: concurrency limits per call and per process,
// the Authorization header, comma lists in the query, refused redirects.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { accessFor, ArchiveError, createArchiveClient } from '../../../src/imaging/dicomweb-client.ts';

let server: Server;
let base: string;
let active = 0;
let maxActive = 0;
const seen: IncomingMessage[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    if (req.url?.includes('redirect')) {
      res.writeHead(302, { location: 'http://example.org/elsewhere' }).end();
      return;
    }
    active++;
    maxActive = Math.max(maxActive, active);
    setTimeout(() => {
      active--;
      res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[{"00100020":{"vr":"LO","Value":["P1"]}}]');
    }, 40);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no address');
  base = `http://127.0.0.1:${addr.port}/dicom-web`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => { maxActive = 0; seen.length = 0; });

const config = (over: Partial<Parameters<typeof createArchiveClient>[0]> = {}) => ({ url: base, requestTimeoutMs: 2000, maxResponseBytes: 1 << 20, ...over });

describe('DICOMweb access', () => {
  it('keeps a call under its concurrency limit', async () => {
    const access = accessFor(createArchiveClient(config(), 50), { signal: AbortSignal.timeout(5000), callConcurrency: 2 });
    await Promise.all(Array.from({ length: 8 }, () => access.searchStudies({ PatientID: 'P1' })));
    expect(maxActive).toBe(2);
    expect(access.counters).toMatchObject({ requests: 8, byKind: { qido: { requests: 8 } } });
  });

  it('keeps all calls of the process under the process limit', async () => {
    const archive = createArchiveClient(config(), 3);
    const calls = Array.from({ length: 4 }, () => accessFor(archive, { signal: AbortSignal.timeout(5000), callConcurrency: 6 }));
    await Promise.all(calls.flatMap((a) => [a.searchStudies({}), a.searchStudies({}), a.searchStudies({})]));
    expect(maxActive).toBe(3);
  });

  it('sends the configured Authorization header, and comma lists unencoded (Orthanc reads includefield=A,B only so)', async () => {
    const access = accessFor(createArchiveClient(config({ authorization: 'Bearer t0ken' }), 4), { signal: AbortSignal.timeout(5000), callConcurrency: 2 });
    const studies = await access.searchStudies({ PatientID: 'P 1', ModalitiesInStudy: 'MR,CT', includefield: 'StudyDescription,ModalitiesInStudy' });
    expect(studies).toEqual([{ '00100020': { vr: 'LO', Value: ['P1'] } }]);
    expect(seen[0]?.headers.authorization).toBe('Bearer t0ken');
    expect(seen[0]?.headers.accept).toMatch(/^application\/dicom\+json, multipart\/related; type="application\/dicom\+xml"; q=0.5/);
    expect(seen[0]?.url).toBe('/dicom-web/studies?PatientID=P%201&ModalitiesInStudy=MR,CT&includefield=StudyDescription,ModalitiesInStudy');
  });

  it('refuses to follow a redirect away from the archive', async () => {
    const access = accessFor(createArchiveClient({ ...config(), url: `${base}/redirect` }, 4), { signal: AbortSignal.timeout(5000), callConcurrency: 2 });
    await expect(access.searchStudies({})).rejects.toEqual(new ArchiveError('unreachable'));
    expect(seen).toHaveLength(1);
  });
});
