// dicomweb-client is written against the browser's XMLHttpRequest, which Node lacks (its issue #101:
// "XMLHttpRequest is not defined"). Rather than install a global (xhr2), each request gets its own
// instance of this adapter through the client's documented `request.instance` option: the subset of
// XMLHttpRequest the client uses, over Node's fetch. That puts the imaging boundary's rules where the
// bytes arrive:
//   - the caller's AbortSignal (deadline) ends the request;
//   - a response-size cap stops reading and aborts once exceeded;
//   - redirects are refused (a DICOMweb base URL is configured, never followed elsewhere);
//   - bytes and requests are counted for the benchmark;
//   - metadata asked as application/dicom+json may come back as PS3.19 XML (an archive that only
//     speaks XML, or prefers it): it is converted to the DICOM JSON model before the client sees it.
// Failures are recorded on the instance (`failure`), so the wrapper can tell a timeout from a 401.
import type { XhrLike } from 'dicomweb-client';
import { datasetListSchema, type DicomDataset } from './dicom-json.ts';
import { multipartTextParts, parseNativeDicomModel } from './dicom-xml.ts';

export type FailureKind = 'timeout' | 'aborted' | 'unreachable' | 'oversized' | 'malformed';

export interface RequestContext {
  signal: AbortSignal;
  maxResponseBytes: number;
  /** Called once per request with the response body size (decoded bytes). */
  onResponse(bytes: number): void;
}

type Handler = ((this: unknown, ev?: unknown) => unknown) | null;

const DICOM_JSON = 'application/dicom+json';
/** Ask for JSON, accept PS3.19 XML (PS3.18 8.7.3.5.2, Table 8.7.3-5) at a lower preference. */
const METADATA_ACCEPT = `${DICOM_JSON}, multipart/related; type="application/dicom+xml"; q=0.5, application/dicom+xml; q=0.5`;

export class FetchXhr implements XhrLike {
  readyState = 0;
  status = 0;
  responseType = '';
  response: unknown = null;
  withCredentials = false;
  onreadystatechange: Handler = null;
  onloadstart: Handler = null;
  onloadend: Handler = null;
  onprogress: Handler = null;
  /** Why the request failed at the transport level (status 0), when it did. */
  failure: FailureKind | undefined;

  private method = 'GET';
  private url = '';
  private readonly requestHeaders = new Headers();
  private responseHeaders = new Headers();
  private readonly ctx: RequestContext;

  constructor(ctx: RequestContext) {
    this.ctx = ctx;
  }

  open(method: string, url: string): void {
    this.method = method.toUpperCase();
    // dicomweb-client encodes each query value with encodeURIComponent, so includefield=A,B is sent
    // as A%2CB, which Orthanc 1.10 + DICOMweb 1.7 reads as one unknown attribute. A comma is a legal
    // sub-delimiter in a query (RFC 3986 3.4) and PS3.18 writes attribute lists comma-separated.
    const q = url.indexOf('?');
    this.url = q < 0 ? url : url.slice(0, q) + url.slice(q).replace(/%2C/gi, ',');
    this.readyState = 1;
  }

  setRequestHeader(name: string, value: string): void {
    if (name.toLowerCase() === 'accept' && value === DICOM_JSON) this.requestHeaders.set('accept', METADATA_ACCEPT);
    else this.requestHeaders.set(name, value);
  }

  getResponseHeader(name: string): string | null {
    return this.responseHeaders.get(name);
  }

  getAllResponseHeaders(): string {
    const lines: string[] = [];
    this.responseHeaders.forEach((v, k) => lines.push(`${k}: ${v}`));
    return lines.join('\r\n');
  }

  abort(): void {
    // The caller's signal is the only way this adapter is aborted.
  }

  send(body?: unknown): void {
    if (body !== undefined && body !== null) throw new Error('FetchXhr sends GET requests only');
    void this.run();
  }

  private finish(status: number, failure?: FailureKind): void {
    this.status = status;
    this.failure = failure;
    this.readyState = 4;
    this.onreadystatechange?.call(this);
    this.onloadend?.call(this);
  }

  private async run(): Promise<void> {
    const { signal, maxResponseBytes } = this.ctx;
    let res: Response;
    try {
      res = await fetch(this.url, { method: this.method, headers: this.requestHeaders, signal, redirect: 'error' });
    } catch {
      this.ctx.onResponse(0);
      return this.finish(0, signal.aborted ? abortKind(signal) : 'unreachable');
    }
    const declared = Number(res.headers.get('content-length'));
    const chunks: Uint8Array[] = [];
    let total = 0;
    let failure: FailureKind | undefined;
    if (Number.isFinite(declared) && declared > maxResponseBytes) failure = 'oversized';
    else if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          total += value.byteLength;
          if (total > maxResponseBytes) {
            failure = 'oversized';
            break;
          }
          chunks.push(value);
        }
      } catch {
        failure = signal.aborted ? abortKind(signal) : 'unreachable';
      } finally {
        if (failure) await reader.cancel().catch(() => undefined);
      }
    }
    this.ctx.onResponse(total);
    if (failure) return this.finish(0, failure);
    this.responseHeaders = res.headers;
    const bytes = concat(chunks, total);
    if (res.status !== 200 && res.status !== 206) {
      this.response = null;
      return this.finish(res.status);
    }
    if (this.responseType === 'arraybuffer') {
      this.response = bytes.buffer;
      return this.finish(res.status);
    }
    const converted = decodeMetadata(bytes, res.headers.get('content-type') ?? '');
    if (converted === undefined) return this.finish(0, 'malformed');
    this.response = converted;
    // The client branches on the content type: what it receives now is DICOM JSON.
    this.responseHeaders = new Headers({ 'content-type': DICOM_JSON });
    return this.finish(res.status);
  }
}

function abortKind(signal: AbortSignal): FailureKind {
  const reason: unknown = signal.reason;
  return reason instanceof DOMException && reason.name === 'TimeoutError' ? 'timeout' : 'aborted';
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** JSON or PS3.19 XML (single or multipart) → a list of DICOM JSON datasets; undefined = not metadata. */
export function decodeMetadata(bytes: Uint8Array, contentType: string): DicomDataset[] | undefined {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const type = contentType.toLowerCase();
  try {
    if (type.includes('xml')) {
      const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
      const docs = type.startsWith('multipart/') && boundary ? multipartTextParts(text, boundary) : [text];
      return docs.map(parseNativeDicomModel);
    }
    if (type.includes('json') || text.trimStart().startsWith('[')) {
      const parsed = datasetListSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
