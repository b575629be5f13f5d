// An open-loop load generator: requests leave at a fixed arrival rate whether or not earlier answers
// have come back, and each latency is measured from the moment the request was DUE to leave (its
// intended send time), as wrk2 does. A closed loop (autocannon) sends the next request only after an
// answer, so while the server stalls it also stops sending: the stall then shows up in one sample
// instead of in every request that should have been sent meanwhile ("coordinated omission"), and at
// saturation its latency is only connections / throughput (Little's law).
//
// Why our own: on npm, autocannon (and its overallRate) is closed-loop; loadtest's --rps mode sends
// on a timer but measures from the actual send, in whole ms, opening a new connection per request
// unless keep-alive is on; artillery models arriving virtual users, not requests, and is a large
// install. The HTTP side here is undici (a maintained client, Node's own fetch engine): a Pool of
// keep-alive connections; when every connection is busy a request waits in undici's queue, and
// that wait counts in its latency, as it would for a real caller.
import { Pool } from 'undici';
import { percentile } from './common.ts';

export interface OpenLoopRequest {
  path: string;
  body: Buffer;
  headers: Record<string, string>;
  /** A problem with the answer (status, body), or undefined when it is what was expected. */
  check: (status: number, body: string) => string | undefined;
}

export interface OpenLoopOptions {
  origin: string;
  /** Requests per second. */
  rate: number;
  /** Requests to send; with `seconds`, whichever comes first. */
  count?: number;
  seconds?: number;
  /** Keep-alive connections at most (undici opens them as needed). */
  connections?: number;
  /** The i-th request (called at its send time); undefined skips it and counts as `unsent`. */
  next: (i: number) => OpenLoopRequest | undefined;
  timeoutMs?: number;
  /** Called with each completed request (soak sampling). */
  onDone?: (latencyMs: number, problem: string | undefined) => void;
  /** Stop early (e.g. the soak's watchdog). */
  signal?: AbortSignal;
}

export interface OpenLoopStats {
  requests: number;
  /** From the first intended send to the last answer. */
  seconds: number;
  /** Answers per second over `seconds`. */
  rps: number;
  rate: number;
  /** Latency from the intended send time (ms), sorted. */
  latencies: Float64Array;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** How late the generator itself sent requests (ms): its own event-loop delay, not the server's. */
  sendLagP99: number;
  sendLagMax: number;
  statuses: Record<string, number>;
  errors: number;
  /** 200 answers that were not what `check` expects. */
  mismatches: number;
  /** Requests `next` could not supply (e.g. no signed token left). */
  unsent: number;
  /** Most requests in flight at once. */
  maxInFlight: number;
  sample?: string;
}

/** Runs one open-loop load; resolves when every request sent has been answered or has failed. */
export async function openLoop(opts: OpenLoopOptions): Promise<OpenLoopStats> {
  const interval = 1000 / opts.rate;
  const count = opts.count ?? Number.POSITIVE_INFINITY;
  const endAt = opts.seconds !== undefined ? opts.seconds * 1000 : Number.POSITIVE_INFINITY;
  if (!Number.isFinite(count) && !Number.isFinite(endAt)) throw new Error('openLoop: give count or seconds');
  const pool = new Pool(opts.origin, {
    connections: opts.connections ?? 64,
    pipelining: 1,
    headersTimeout: opts.timeoutMs ?? 10_000,
    bodyTimeout: opts.timeoutMs ?? 10_000,
  });
  const latencies: number[] = [];
  const lags: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let mismatches = 0;
  let unsent = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let lastDone = 0;
  let sample: string | undefined;
  const pending = new Set<Promise<void>>();

  const send = (i: number, due: number): void => {
    const req = opts.next(i);
    if (!req) {
      unsent++;
      return;
    }
    lags.push(performance.now() - due);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const p = (async () => {
      let problem: string | undefined;
      try {
        const res = await pool.request({ method: 'POST', path: req.path, headers: req.headers, body: req.body });
        const text = await res.body.text();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        problem = req.check(res.statusCode, text);
        if (problem !== undefined && res.statusCode === 200) mismatches++;
      } catch (err) {
        errors++;
        problem = `${req.path}: ${(err as Error).message}`;
      }
      const t = performance.now();
      lastDone = t;
      inFlight--;
      latencies.push(t - due);
      if (problem !== undefined) sample ??= problem;
      opts.onDone?.(t - due, problem);
    })();
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  // Send times t0 + i·interval. A timer wakes us up to 1 ms early; the last fraction of a
  // millisecond is waited with setImmediate, which still lets answers in between.
  const t0 = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (i < count && i * interval < endAt && t0 + i * interval <= now && !opts.signal?.aborted) {
        send(i, t0 + i * interval);
        i++;
      }
      if (i >= count || i * interval >= endAt || opts.signal?.aborted) return resolve();
      const wait = t0 + i * interval - performance.now();
      if (wait > 1.5) setTimeout(tick, Math.floor(wait - 1));
      else setImmediate(tick);
    };
    tick();
  });
  while (pending.size > 0) await Promise.all([...pending]);
  await pool.close();

  const sorted = Float64Array.from(latencies).sort();
  const sortedLags = Float64Array.from(lags).sort();
  const requests = sorted.length;
  const seconds = requests > 0 ? (lastDone - t0) / 1000 : 0;
  return {
    requests,
    seconds,
    rps: seconds > 0 ? requests / seconds : 0,
    rate: opts.rate,
    latencies: sorted,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: requests > 0 ? sorted[requests - 1]! : Number.NaN,
    sendLagP99: percentile(sortedLags, 99),
    sendLagMax: sortedLags.length > 0 ? sortedLags[sortedLags.length - 1]! : Number.NaN,
    statuses,
    errors,
    mismatches,
    unsent,
    maxInFlight,
    ...(sample !== undefined ? { sample } : {}),
  };
}
