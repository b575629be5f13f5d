// dicomweb-client's own declarations (types/*.d.ts) type QIDO results as any[], instance metadata as
// one object where the client resolves an array, and a request instance as the browser's whole
// XMLHttpRequest. tsconfig's `paths` points the typecheck here instead: only what src/imaging uses,
// with `unknown` results that src/imaging/dicomweb-client.ts validates. The request instance is the
// subset of XMLHttpRequest the client calls (read in its src/api.js `_httpRequest`).
declare module 'dicomweb-client' {
  export interface XhrLike {
    open(method: string, url: string, async?: boolean): void;
    setRequestHeader(name: string, value: string): void;
    getResponseHeader(name: string): string | null;
    getAllResponseHeaders(): string;
    send(body?: unknown): void;
    readonly readyState: number;
    readonly status: number;
    readonly response: unknown;
    responseType: string;
    withCredentials: boolean;
    onreadystatechange: ((this: unknown, ev?: unknown) => unknown) | null;
    onloadstart: ((this: unknown, ev?: unknown) => unknown) | null;
    onloadend: ((this: unknown, ev?: unknown) => unknown) | null;
    onprogress: ((this: unknown, ev?: unknown) => unknown) | null;
  }
  export interface RequestOptions {
    instance: XhrLike;
  }
  export interface MediaType {
    mediaType: string;
    transferSyntaxUID?: string;
  }
  interface Instance {
    studyInstanceUID: string;
    seriesInstanceUID: string;
    sopInstanceUID: string;
    request: RequestOptions;
  }
  export class DICOMwebClient {
    constructor(options: { url: string; headers?: Record<string, string>; verbose?: boolean });
    searchForStudies(o: { queryParams: Record<string, string>; request: RequestOptions }): Promise<unknown>;
    searchForSeries(o: { studyInstanceUID: string; queryParams: Record<string, string>; request: RequestOptions }): Promise<unknown>;
    searchForInstances(o: { studyInstanceUID?: string; queryParams: Record<string, string>; request: RequestOptions }): Promise<unknown>;
    retrieveInstanceMetadata(o: Instance): Promise<unknown>;
    retrieveInstance(o: Instance & { mediaTypes?: MediaType[] }): Promise<unknown>;
    retrieveInstanceFrames(o: Instance & { frameNumbers: string; mediaTypes: MediaType[] }): Promise<unknown>;
  }
  export const api: { DICOMwebClient: typeof DICOMwebClient };
}
