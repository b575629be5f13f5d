// Minimal types for the parts of autocannon 9 the benchmark uses (the package ships none).
declare module 'autocannon' {
  interface AutocannonRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    /** Called before each request is built; a falsy return restarts the request sequence. */
    setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest | null | undefined;
    onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void;
  }
  interface AutocannonOptions {
    url: string;
    connections?: number;
    pipelining?: number;
    duration?: number;
    amount?: number;
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    requests?: AutocannonRequest[];
  }
  interface AutocannonResult {
    errors: number;
    timeouts: number;
    non2xx: number;
    mismatches: number;
    duration: number;
    requests: { total: number; average: number };
    latency: { p50: number; p99: number; average: number };
    statusCodeStats: Record<string, { count: number }>;
  }
  interface AutocannonInstance {
    /** 'response': (client, statusCode, responseBytes, responseTimeMs) for every response. */
    on(event: string, listener: (...args: any[]) => void): AutocannonInstance;
    stop(): void;
  }
  function autocannon(opts: AutocannonOptions, cb: (err: Error | null, result: AutocannonResult) => void): AutocannonInstance;
  export type { AutocannonRequest, AutocannonOptions, AutocannonResult, AutocannonInstance };
  export default autocannon;
}
