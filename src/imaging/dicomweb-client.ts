// A strict local face for dicomweb-client (https://github.com/dcmjs-org/dicomweb-client), whose own
// types are loose (QIDO methods typed as returning any[], metadata as one object where an array comes
// back). Every answer is validated (DICOM JSON model, multipart frames) and every failure becomes an
// ArchiveError with a kind, never the client's raw error (which carries the request, hence the URL and
// the patient's ID).
//
// One `DicomWebAccess` serves one hook call: it carries the caller's deadline, the call's concurrency
// limit under the process-wide one, and the request/byte counters the result reports.
import { api, type DICOMwebClient, type RequestOptions } from 'dicomweb-client';
import type { LimitFunction } from 'p-limit';
import pLimit from 'p-limit';
import { datasetListSchema, type DicomDataset } from './dicom-json.ts';
import { FetchXhr, type FailureKind } from './fetch-xhr.ts';

export type ArchiveErrorKind = FailureKind | 'unauthorized' | 'http-error' | 'not-found';

export class ArchiveError extends Error {
  readonly kind: ArchiveErrorKind;
  readonly status: number | undefined;
  constructor(kind: ArchiveErrorKind, status?: number) {
    super(status ? `archive ${kind} (HTTP ${status})` : `archive ${kind}`);
    this.name = 'ArchiveError';
    this.kind = kind;
    this.status = status;
  }
}

/** Explicit VR little endian: Orthanc (and PS3.18 8.7.3.5.3) transcode to it on request. */
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

export interface ArchiveConfig {
  url: string;
  /** Authorization header value (e.g. 'Basic …' or 'Bearer …'); never logged. */
  authorization?: string;
  requestTimeoutMs: number;
  maxResponseBytes: number;
}

/** Built once at start-up (runtime object): the client and the process-wide request limit. */
export interface ArchiveClient {
  readonly client: DICOMwebClient;
  readonly processLimit: LimitFunction;
  readonly config: ArchiveConfig;
}

export function createArchiveClient(config: ArchiveConfig, processConcurrency: number): ArchiveClient {
  const client = new api.DICOMwebClient({
    url: config.url.replace(/\/+$/, ''),
    // verbose would console.error the failed request object (its URL holds the PatientID).
    verbose: false,
    ...(config.authorization ? { headers: { Authorization: config.authorization } } : {}),
  });
  return { client, processLimit: pLimit(processConcurrency), config };
}

export type RequestKind = 'qido' | 'metadata' | 'instance' | 'frames';

export interface Counters {
  requests: number;
  bytes: number;
  /** The same, per kind of request (the benchmark shows that only the SEG and its frame carry pixels). */
  byKind: Record<RequestKind, { requests: number; bytes: number }>;
}

export interface DicomWebAccess {
  readonly counters: Counters;
  searchStudies(query: Record<string, string>): Promise<DicomDataset[]>;
  searchSeries(studyUid: string, query: Record<string, string>): Promise<DicomDataset[]>;
  searchInstances(query: Record<string, string>): Promise<DicomDataset[]>;
  instanceMetadata(studyUid: string, seriesUid: string, sopUid: string): Promise<DicomDataset>;
  /** The whole instance as Part 10 bytes (explicit VR little endian). */
  retrieveInstance(studyUid: string, seriesUid: string, sopUid: string): Promise<Uint8Array>;
  /** Raw (uncompressed, explicit VR little endian) pixel data of the given 1-based frames. */
  retrieveFrames(studyUid: string, seriesUid: string, sopUid: string, frames: number[]): Promise<Uint8Array[]>;
}

/** One call's access: its deadline, its own concurrency limit (under the process limit), its counters. */
export function accessFor(archive: ArchiveClient, opts: { signal: AbortSignal; callConcurrency: number }): DicomWebAccess {
  const counters: Counters = {
    requests: 0,
    bytes: 0,
    byKind: { qido: { requests: 0, bytes: 0 }, metadata: { requests: 0, bytes: 0 }, instance: { requests: 0, bytes: 0 }, frames: { requests: 0, bytes: 0 } },
  };
  const callLimit = pLimit(opts.callConcurrency);
  const { client, config } = archive;

  const send = <T>(kind: RequestKind, call: (request: RequestOptions) => unknown, check: (v: unknown) => T): Promise<T> =>
    callLimit(() => archive.processLimit(async () => {
      if (opts.signal.aborted) throw new ArchiveError(opts.signal.reason instanceof DOMException && opts.signal.reason.name === 'TimeoutError' ? 'timeout' : 'aborted');
      const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(config.requestTimeoutMs)]);
      const xhr = new FetchXhr({
        signal,
        maxResponseBytes: config.maxResponseBytes,
        onResponse: (bytes) => {
          counters.requests += 1;
          counters.bytes += bytes;
          counters.byKind[kind].requests += 1;
          counters.byKind[kind].bytes += bytes;
        },
      });
      let value: unknown;
      try {
        value = await call({ instance: xhr });
      } catch {
        throw failureOf(xhr);
      }
      return check(value);
    }));

  const datasets = (v: unknown): DicomDataset[] => {
    const parsed = datasetListSchema.safeParse(v ?? []);
    if (!parsed.success) throw new ArchiveError('malformed');
    return parsed.data;
  };
  const parts = (v: unknown): Uint8Array[] => {
    if (!Array.isArray(v) || v.length === 0 || !v.every((p) => p instanceof ArrayBuffer)) throw new ArchiveError('malformed');
    return v.map((p: ArrayBuffer) => new Uint8Array(p));
  };

  return {
    counters,
    searchStudies: (queryParams) => send('qido', (request) => client.searchForStudies({ queryParams, request }), datasets),
    searchSeries: (studyInstanceUID, queryParams) =>
      send('qido', (request) => client.searchForSeries({ studyInstanceUID, queryParams, request }), datasets),
    searchInstances: (queryParams) => send('qido', (request) => client.searchForInstances({ queryParams, request }), datasets),
    instanceMetadata: (studyInstanceUID, seriesInstanceUID, sopInstanceUID) =>
      send('metadata', (request) => client.retrieveInstanceMetadata({ studyInstanceUID, seriesInstanceUID, sopInstanceUID, request }), (v) => {
        const list = datasets(v);
        if (list.length !== 1 || !list[0]) throw new ArchiveError('malformed');
        return list[0];
      }),
    retrieveInstance: (studyInstanceUID, seriesInstanceUID, sopInstanceUID) =>
      // No mediaTypes: dicomweb-client 0.11.3's retrieveInstance rejects every list (its
      // _getCommonMediaType yields the type prefix 'application/', compared with 'application/dicom').
      // Without a transfer-syntax parameter the default is Explicit VR Little Endian (PS3.18 8.7.3.5.2,
      // Table 8.7.3-2; Orthanc's DICOMweb plugin transcodes to it since 1.5).
      send('instance', (request) => client.retrieveInstance({ studyInstanceUID, seriesInstanceUID, sopInstanceUID, request }), (v) => {
        // The client returns the first part of the multipart answer.
        if (!(v instanceof ArrayBuffer) || v.byteLength === 0) throw new ArchiveError('malformed');
        return new Uint8Array(v);
      }),
    retrieveFrames: (studyInstanceUID, seriesInstanceUID, sopInstanceUID, frames) =>
      send('frames', (request) => client.retrieveInstanceFrames({
        studyInstanceUID, seriesInstanceUID, sopInstanceUID, request,
        frameNumbers: frames.join(','),
        mediaTypes: [{ mediaType: 'application/octet-stream', transferSyntaxUID: EXPLICIT_LE }],
      }), (v) => {
        const list = parts(v);
        if (list.length !== frames.length) throw new ArchiveError('malformed');
        return list;
      }),
  };
}

function failureOf(xhr: FetchXhr): ArchiveError {
  if (xhr.failure) return new ArchiveError(xhr.failure);
  if (xhr.status === 401 || xhr.status === 403) return new ArchiveError('unauthorized', xhr.status);
  if (xhr.status === 404) return new ArchiveError('not-found', 404);
  // A 200 the client could not decode (e.g. a multipart type over a body that is not multipart).
  if (xhr.status === 0 || xhr.status === 200 || xhr.status === 206) return new ArchiveError('malformed');
  return new ArchiveError('http-error', xhr.status);
}
