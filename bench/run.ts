// `npm run bench`: load test of the CDS service on loopback with autocannon (see bench/README.md).
//
// Child processes — the service as in production (startServer, PGlite store in a temp DATA_DIR),
// the embedded FHIR server (twice: all the bench data, to build the prefetch bodies; only the (a)/(b)
// patient's chart, for scenario b), and a bare Express echo server — and autocannon here in the
// parent, so that load generator and servers never share an event loop.
// Every request carries its own freshly signed client JWT (the service refuses a replayed jti):
// tokens are signed before each measurement, sized from the warm-up's request rate, and the runs
// are bounded by request count (autocannon `amount`). Any non-200 or card-less answer fails the run.
//
// Scenarios that are compared (a, c, a-main; d, d-echo, d-main) are measured in interleaved rounds
// (a c a-main a c a-main …), so that a drift in the machine's speed hits both sides of a ratio alike.
//
// Environment (all optional): BENCH_SECONDS (target seconds per measured run, default 6),
// BENCH_ROUNDS (slices the measured run of compared scenarios is split into, default 3),
// BENCH_WARMUP (warm-up seconds per scenario, default 2), BENCH_CONNECTIONS (default 10),
// BENCH_ONLY (comma list of scenario keys: a,c,s,s-echo,d,d-echo,a-main,d-main,a-1conn,a-open,a-es384,b,b-1conn,img,
// x1,x1-redis,x2: the scale-out group, which also starts a private PostgreSQL, Redis and HAProxy),
// BENCH_S_CHART (service:patient, the demo chart of (s); default cmr-ihd-macce:demo-stemi-high-risk),
// BENCH_HOOK_WORKERS (the service's HOOK_WORKERS; default: its own default), BENCH_LOG_LEVEL (service
// LOG_LEVEL, default warn), BENCH_CPU_PROF=1 (--cpu-prof on the service child, into .bench/prof),
// BENCH_STRICT=1 (exit 1 when a target is missed, not only when the run is invalid),
// BENCH_SERVICE_SCRIPT (another service child, for experiments; same IPC contract),
// BENCH_SERVICE_NODE_ARGS (extra node options for the service children, e.g. V8 flags to try).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type AutocannonRequest } from 'autocannon';
import { CIRRHOSIS_PATIENT, COMPOSITE_PATIENT, SMALL_BODY_PATIENT, SMALL_BODY_SERVICE, SYNTHETIC_LABS } from './fixtures.ts';
import { openLoop } from './open-loop.ts';
import { runImagingBench } from './imaging.ts';
import { orthancMissing } from '../src/demo/imaging/orthanc-process.ts';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { SERVICE_NODE_OPTIONS } from '../src/node-options.ts';
import { startPostgres } from '../test/support/postgres-server.ts';
import { findRedisServer, startRedis, type RedisServer } from '../test/support/redis-server.ts';
import { findHaproxy, startHaproxy, type Haproxy } from '../test/support/haproxy.ts';
import {
  CARDS_PREFIX, ECHO_PREFIX, FHIR_TOKEN, ISSUER, PUBLIC_BASE_URL, SERVICES, TokenPool, buildPrefetch, childBaseEnv, cpuMs,
  discoveryTemplates, fhirAccess, guardRun, hookRequest, makeSigner, parseChart, percentile, signTokens, signing, startChild,
  startFhirServers, stopChild, stopChildren, type Child, type ServiceId, type Signer,
} from './common.ts';

// ---------------------------------------------------------------------------------------------------
// Settings

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_FILE = join(ROOT, '.bench', 'results.json');
const PROFILE_DIR = join(ROOT, '.bench', 'prof');
const env = process.env;
const num = (v: string | undefined, dflt: number): number => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : dflt);
const SECONDS = num(env.BENCH_SECONDS, 6);
const ROUNDS = Math.max(1, Math.round(num(env.BENCH_ROUNDS, 3)));
const WARMUP_SECONDS = num(env.BENCH_WARMUP, 2);
const WARMUP_MAX = 5_000;
/**
 * The scale-out group warms up three times as long: after 2 s its instances were still getting
 * faster through the measured rounds ((x2)/(x1) by round 0.66 → 0.80, 0.64 → 0.94); after 6 s the
 * rounds were flat.
 */
const X_WARMUP_SECONDS = 3 * WARMUP_SECONDS;
const CONNECTIONS = num(env.BENCH_CONNECTIONS, 10);
const MAX_REQUESTS = 30_000;
/** (a-open) runs at this share of (a)'s closed-loop req/s (its saturation): a load with no queue. */
const OPEN_LOOP_SHARE = 0.25;
/** Hard stop: the whole run normally takes about 2 min. */
const TIME_LIMIT_MS = 300_000;
const LOG_LEVEL = env.BENCH_LOG_LEVEL ?? 'warn';
const BODY_LIMIT = env.BODY_LIMIT ?? '1mb';
const ONLY = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined;
const { service: S_SERVICE, patient: S_PATIENT }: ReturnType<typeof parseChart> = env.BENCH_S_CHART
  ? parseChart('BENCH_S_CHART', env.BENCH_S_CHART)
  : { service: SMALL_BODY_SERVICE, patient: SMALL_BODY_PATIENT };


// ---------------------------------------------------------------------------------------------------
// Load runs

interface Target {
  path: string;
  body: Buffer;
  pool: TokenPool;
  /** What a good answer looks like: a non-empty card list, or the body echoed back. */
  expect: 'cards' | 'echo';
}

interface RunStats {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** 200 answers that were not what `expect` says (e.g. an empty card list). */
  mismatches: number;
  /** Tokens needed beyond the pool (each one a replayed jti: a 401). */
  overdrawn: number;
  /** Share of one core the load generator (this process) used during the run, 0..1. */
  clientBusy?: number;
  sample?: string;
  /** Every latency of the run, sorted (ms): merged across rounds. */
  latencies: Float64Array;
}

function load(baseUrl: string, targets: Target[], amount: number, connections = CONNECTIONS): Promise<RunStats> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let mismatches = 0;
  let sample: string | undefined;
  const overdrawnBefore = targets.reduce((s, t) => s + t.pool.overdrawn, 0);
  const requests: AutocannonRequest[] = targets.map((t) => ({
    method: 'POST',
    path: t.path,
    body: t.body,
    setupRequest: (req) => {
      req.headers = { ...req.headers, authorization: `Bearer ${t.pool.next()}` };
      return req;
    },
    onResponse: (status, body) => {
      if (status !== 200) {
        sample ??= `${t.path} -> ${status}: ${body.slice(0, 300)}`;
        return;
      }
      if (!body.startsWith(t.expect === 'cards' ? CARDS_PREFIX : ECHO_PREFIX)) {
        mismatches++;
        sample ??= `${t.path} -> 200 but unexpected body: ${body.slice(0, 300)}`;
      }
    },
  }));
  // Rate over the time requests were in flight: from the first request sent to the last answer
  // (autocannon's own set-up and tear-down are left out).
  let firstSent = 0;
  let lastDone = 0;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: baseUrl,
        connections,
        amount,
        timeout: 10,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        requests,
      },
      (err, result) => {
        if (err) return reject(err);
        const seconds = (lastDone - firstSent) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const clientBusy = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
        const sorted = Float64Array.from(latencies).sort();
        const n = Object.values(statuses).reduce((a, b) => a + b, 0);
        resolve({
          requests: n,
          seconds,
          rps: n / seconds,
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
          statuses,
          errors: result.errors,
          timeouts: result.timeouts,
          mismatches,
          overdrawn: targets.reduce((s, t) => s + t.pool.overdrawn, 0) - overdrawnBefore,
          clientBusy,
          ...(sample !== undefined ? { sample } : {}),
          latencies: sorted,
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      const t = performance.now();
      if (latencies.length === 0) firstSent = t - responseTimeMs;
      lastDone = t;
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      latencies.push(responseTimeMs);
    });
  });
}

function problems(s: RunStats): string[] {
  const out: string[] = [];
  const non200 = Object.entries(s.statuses).filter(([k]) => k !== '200').reduce((a, [, v]) => a + v, 0);
  if (non200 > 0) out.push(`${non200} non-200 answers (${JSON.stringify(s.statuses)})`);
  if (s.errors > 0) out.push(`${s.errors} connection errors`);
  if (s.timeouts > 0) out.push(`${s.timeouts} timeouts`);
  if (s.mismatches > 0) out.push(`${s.mismatches} answers without cards / not echoed`);
  if (s.overdrawn > 0) out.push(`${s.overdrawn} requests ran out of pre-signed tokens`);
  if (s.sample) out.push(`first bad answer: ${s.sample}`);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Scenarios

interface ScenarioSpec {
  key: string;
  label: string;
  /** The child under load, and (for b) the FHIR server it calls: their CPU time is reported. */
  server: () => Child;
  upstream?: () => Child;
  /** Where the load goes when not straight to `server` (the HAProxy of x2). */
  url?: () => string;
  /** More service children behind `url`: their CPU time counts with the server's (x2). */
  others?: () => Child[];
  /** Processes beside the service whose CPU per request is reported on its own (HAProxy, Redis). */
  side?: () => { name: string; pid: number }[];
  /** Default CONNECTIONS. */
  connections?: number;
  /** Default WARMUP_SECONDS (per instance). */
  warmupSeconds?: number;
  /** Scenarios with the same group are measured in interleaved rounds (their ratios are the targets). */
  group?: string;
  /** Open loop (open-loop.ts) at OPEN_LOOP_SHARE of (a)'s saturation, instead of autocannon's closed loop. */
  openLoop?: boolean;
  /** Per target: path, body, and either a signer (fresh tokens) or tokens to reuse (echo). */
  targets: { path: string; body: Buffer; expect: 'cards' | 'echo'; signer?: Signer; reuse?: () => string[] }[];
}

interface ScenarioResult {
  key: string;
  label: string;
  warmup: RunStats;
  run: RunStats;
  /** req/s of each measured slice (one per round). */
  rounds: number[];
  /** CPU time of the server child per request during the measured run (ms), and of the upstream. */
  serverCpuMsPerReq: number;
  upstreamCpuMsPerReq?: number;
  /** CPU ms per request of the side processes (HAProxy, Redis), by name. */
  sideCpuMsPerReq?: Record<string, number>;
  /** Context switches of the service children (all threads) per request: thread wake-ups. */
  ctxSwitchesPerReq?: number;
  /** CPU ms per request of the service children's threads, by kind (threadKind). */
  threadCpuMsPerReq?: Record<string, number>;
  serviceLogLines: number;
  /** Open-loop runs: the arrival rate, the saturation it derives from, and the generator's own delay. */
  open?: { rate: number; saturation: number; sendLagP99Ms: number; sendLagMaxMs: number; maxInFlight: number };
}

async function poolsFor(spec: ScenarioSpec, total: number, connections: number): Promise<TokenPool[]> {
  // autocannon cycles each connection through the targets from the first: bound per target.
  const perTarget = Math.ceil(Math.ceil(total / connections) / spec.targets.length) * connections + connections;
  const pools: TokenPool[] = [];
  for (const t of spec.targets) {
    if (t.signer) pools.push(new TokenPool(await signTokens(t.signer, t.path, perTarget)));
    else if (t.reuse) pools.push(new TokenPool(t.reuse(), true));
    else throw new Error('target without tokens');
  }
  return pools;
}

interface Slice extends RunStats {
  serverCpuMs: number;
  upstreamCpuMs: number;
  sideCpuMs: Record<string, number>;
  ctxSwitches: number;
  threadCpuMs: Record<string, number>;
  /** Lines the server child logged during the slice. */
  logLines: number;
}

/** One autocannon run of `amount` requests, with the CPU time the server (and upstream) used. */
async function runSlice(spec: ScenarioSpec, amount: number): Promise<Slice> {
  const servers = [spec.server(), ...(spec.others?.() ?? [])];
  const upstream = spec.upstream?.();
  const side = spec.side?.() ?? [];
  const connections = spec.connections ?? CONNECTIONS;
  const pools = await poolsFor(spec, amount, connections);
  const targets: Target[] = spec.targets.map((t, i) => ({ path: t.path, body: t.body, expect: t.expect, pool: pools[i]! }));
  const serversCpu = async (): Promise<number> => sum(await Promise.all(servers.map(cpuMs)));
  const [s0, u0] = await Promise.all([serversCpu(), upstream ? cpuMs(upstream) : 0]);
  const side0 = side.map((p) => procCpuMs(p.pid));
  const threads = (): ThreadStats => addThreadStats(servers.map((x) => threadStats(x.proc.pid ?? -1)));
  const t0 = threads();
  const logBefore = sum(servers.map((x) => x.logLines));
  const stats = await load(spec.url?.() ?? servers[0]!.url, targets, amount, connections);
  const [s1, u1] = await Promise.all([serversCpu(), upstream ? cpuMs(upstream) : 0]);
  const sideCpuMs = Object.fromEntries(side.map((p, i) => [p.name, procCpuMs(p.pid) - side0[i]!]));
  const t1 = threads();
  const threadCpuMs = Object.fromEntries(Object.entries(t1.cpuMs).map(([kind, ms]) => [kind, ms - (t0.cpuMs[kind] ?? 0)]));
  return { ...stats, serverCpuMs: s1 - s0, upstreamCpuMs: u1 - u0, sideCpuMs, ctxSwitches: t1.ctxSwitches - t0.ctxSwitches, threadCpuMs, logLines: sum(servers.map((x) => x.logLines)) - logBefore };
}

interface ThreadStats {
  /** Voluntary and involuntary context switches of every thread so far. */
  ctxSwitches: number;
  /** CPU time (user + system) so far, ms, by kind of thread (threadKind). */
  cpuMs: Record<string, number>;
}

/**
 * What a Linux thread of a Node process is, from its name: the main thread; Node's worker threads
 * (the evaluation workers and the PGlite thread, which share the name); V8's platform threads
 * (concurrent and parallel GC, background compilation); libuv's pool (file system, crypto, DNS).
 */
function threadKind(comm: string): string {
  if (comm === 'MainThread') return 'main';
  if (comm === 'WorkerThread') return 'workers';
  if (comm.startsWith('V8Worker')) return 'V8 helpers';
  if (comm.startsWith('libuv-worker')) return 'libuv';
  return 'other';
}

/** Context switches and CPU time by kind of every thread of a process so far, from /proc. */
function threadStats(pid: number): ThreadStats {
  const out: ThreadStats = { ctxSwitches: 0, cpuMs: {} };
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
      for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) out.ctxSwitches += Number(m[1]);
      const kind = threadKind(/^Name:\s+(.*)$/m.exec(status)?.[1] ?? '');
      out.cpuMs[kind] = (out.cpuMs[kind] ?? 0) + statCpuMs(readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8'));
    }
  } catch {
    return { ctxSwitches: Number.NaN, cpuMs: {} };
  }
  return out;
}

function addThreadStats(all: ThreadStats[]): ThreadStats {
  return { ctxSwitches: sum(all.map((t) => t.ctxSwitches)), cpuMs: sumByKey(all.map((t) => t.cpuMs)) };
}

/** Per-kind figures added up key by key. */
function sumByKey(all: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of all) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** utime + stime of a /proc/…/stat line, ms. */
function statCpuMs(stat: string): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

/** CPU time (user + system) of a process that is not a Node child (HAProxy, Redis), ms, from /proc. */
function procCpuMs(pid: number): number {
  try {
    return statCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}
/** USER_HZ: 100 on every Linux build the bench runs on (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS_PER_S = 100;

/**
 * A short probe, then the warm-up, each sized from the rate of the step before, so that slow and
 * fast targets alike take about the seconds asked. Returns the request count of the measured run.
 * The warm-up is per instance: behind a balancer each instance gets its share of the calls, and
 * each instance's JIT and heaps must reach the state a single instance reaches in its warm-up
 * (with one instance's worth, (x2)/(x1) was 0.63–0.71 where a five-fold warm-up gave 0.80).
 */
async function warmUp(spec: ScenarioSpec): Promise<{ warmup: RunStats; amount: number }> {
  process.stdout.write(`  ${spec.key.padEnd(8)} ${spec.label}: warm-up`);
  const connections = spec.connections ?? CONNECTIONS;
  const instances = 1 + (spec.others?.().length ?? 0);
  const probe = await runSlice(spec, connections * 5);
  const warmupAmount = Math.round(instances * Math.min(WARMUP_MAX, Math.max(connections * 2, probe.rps * (spec.warmupSeconds ?? WARMUP_SECONDS))));
  const warmup = await runSlice(spec, warmupAmount);
  const amount = Math.round(Math.min(MAX_REQUESTS, Math.max(connections * 3, warmup.rps * SECONDS)));
  process.stdout.write(` ${Math.round(warmup.rps)} req/s; will measure ${amount} requests\n`);
  const merged: RunStats = {
    ...warmup,
    errors: warmup.errors + probe.errors, timeouts: warmup.timeouts + probe.timeouts,
    mismatches: warmup.mismatches + probe.mismatches, overdrawn: warmup.overdrawn + probe.overdrawn,
    statuses: mergeCounts(probe.statuses, warmup.statuses),
    ...(warmup.sample ?? probe.sample ? { sample: warmup.sample ?? probe.sample } : {}),
  };
  return { warmup: merged, amount };
}

/**
 * Warms every scenario of a group up, then measures them in `rounds` interleaved slices (x y z x y z
 * …) and merges each scenario's slices. One scenario alone is one slice.
 */
async function runGroup(specs: ScenarioSpec[], rounds: number): Promise<ScenarioResult[]> {
  const warm: { warmup: RunStats; amount: number }[] = [];
  for (const spec of specs) warm.push(await warmUp(spec));
  const slices: Slice[][] = specs.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, spec] of specs.entries()) {
      const slice = await runSlice(spec, Math.max(spec.connections ?? CONNECTIONS, Math.round(warm[i]!.amount / rounds)));
      slices[i]!.push(slice);
    }
  }
  const results = specs.map((spec, i): ScenarioResult => {
    const own = slices[i]!;
    const run = mergeRuns(own);
    const upstream = spec.upstream ? sum(own.map((x) => x.upstreamCpuMs)) / run.requests : undefined;
    const sideNames = Object.keys(own[0]?.sideCpuMs ?? {});
    return {
      key: spec.key, label: spec.label, warmup: warm[i]!.warmup, run,
      rounds: own.map((x) => x.rps),
      serverCpuMsPerReq: sum(own.map((x) => x.serverCpuMs)) / run.requests,
      ctxSwitchesPerReq: sum(own.map((x) => x.ctxSwitches)) / run.requests,
      threadCpuMsPerReq: perRequest(sumByKey(own.map((x) => x.threadCpuMs)), run.requests),
      ...(upstream !== undefined ? { upstreamCpuMsPerReq: upstream } : {}),
      ...(sideNames.length > 0 ? { sideCpuMsPerReq: Object.fromEntries(sideNames.map((n) => [n, sum(own.map((x) => x.sideCpuMs[n] ?? 0)) / run.requests])) } : {}),
      serviceLogLines: sum(own.map((x) => x.logLines)),
    };
  });
  for (const r of results) {
    const by = r.rounds.length > 1 ? ` (rounds ${r.rounds.map((x) => Math.round(x)).join(', ')})` : '';
    console.log(`  ${r.key.padEnd(8)} measured ${r.run.requests} requests: ${Math.round(r.run.rps)} req/s${by}`);
  }
  return results;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const perRequest = (ms: Record<string, number>, requests: number): Record<string, number> =>
  Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, v / requests]));

/** Slices of one scenario as one run: rates over the summed in-flight time, percentiles over all. */
function mergeRuns(runs: readonly RunStats[]): RunStats {
  if (runs.length === 1) return runs[0]!;
  const latencies = Float64Array.from(runs.flatMap((r) => Array.from(r.latencies))).sort();
  const requests = sum(runs.map((r) => r.requests));
  const seconds = sum(runs.map((r) => r.seconds));
  const sample = runs.find((r) => r.sample !== undefined)?.sample;
  return {
    requests, seconds, rps: requests / seconds,
    p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99),
    max: latencies.length ? latencies[latencies.length - 1]! : Number.NaN,
    statuses: runs.reduce<Record<string, number>>((acc, r) => mergeCounts(acc, r.statuses), {}),
    errors: sum(runs.map((r) => r.errors)), timeouts: sum(runs.map((r) => r.timeouts)),
    mismatches: sum(runs.map((r) => r.mismatches)), overdrawn: sum(runs.map((r) => r.overdrawn)),
    clientBusy: sum(runs.map((r) => (r.clientBusy ?? 0) * r.seconds)) / seconds,
    ...(sample !== undefined ? { sample } : {}),
    latencies,
  };
}

function mergeCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/**
 * An open-loop scenario: a warm-up, then the measured run, each at OPEN_LOOP_SHARE of `saturation`
 * req/s; latency counts from each request's intended send time (open-loop.ts).
 */
async function runOpen(spec: ScenarioSpec, saturation: number): Promise<ScenarioResult> {
  const server = spec.server();
  const target = spec.targets[0];
  if (!target?.signer || spec.targets.length !== 1) throw new Error(`${spec.key}: an open-loop scenario has one target with a signer`);
  const signer = target.signer;
  const rate = Math.max(1, saturation * OPEN_LOOP_SHARE);
  process.stdout.write(`  ${spec.key.padEnd(8)} ${spec.label}: ${f1(rate)} req/s (saturation ${f1(saturation)} req/s)`);
  const run = async (seconds: number): Promise<{ stats: RunStats; lagP99: number; lagMax: number; maxInFlight: number; cpu: number; logLines: number }> => {
    const count = Math.max(10, Math.ceil(rate * seconds));
    const tokens = await signTokens(signer, target.path, count);
    const cpu0 = await cpuMs(server);
    const logBefore = server.logLines;
    const o = await openLoop({
      origin: server.url, rate, count, connections: 64, timeoutMs: 10_000,
      next: () => {
        const token = tokens.shift();
        if (token === undefined) return undefined;
        return {
          path: target.path, body: target.body,
          headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
          check: (status, body) => (status === 200 && body.startsWith(CARDS_PREFIX) ? undefined : `${target.path} -> ${status}: ${body.slice(0, 300)}`),
        };
      },
    });
    const cpu = (await cpuMs(server)) - cpu0;
    const stats: RunStats = {
      requests: o.requests, seconds: o.seconds, rps: o.rps, p50: o.p50, p90: o.p90, p99: o.p99, max: o.max,
      statuses: o.statuses, errors: o.errors, timeouts: 0, mismatches: o.mismatches, overdrawn: o.unsent,
      ...(o.sample !== undefined ? { sample: o.sample } : {}), latencies: o.latencies,
    };
    return { stats, lagP99: o.sendLagP99, lagMax: o.sendLagMax, maxInFlight: o.maxInFlight, cpu, logLines: server.logLines - logBefore };
  };
  const warm = await run(WARMUP_SECONDS);
  const measured = await run(SECONDS);
  process.stdout.write(`; measured ${measured.stats.requests} requests: p99 ${f2(measured.stats.p99)} ms from the intended send time\n`);
  return {
    key: spec.key, label: spec.label, warmup: warm.stats, run: measured.stats, rounds: [measured.stats.rps],
    serverCpuMsPerReq: measured.cpu / measured.stats.requests, serviceLogLines: measured.logLines,
    open: { rate, saturation, sendLagP99Ms: measured.lagP99, sendLagMaxMs: measured.lagMax, maxInFlight: measured.maxInFlight },
  };
}

/** p50 of one FHIR search, one connection, no other load: the floor of scenario (b). */
async function fhirRoundTrip(fhirBaseUrl: string, relativeUrl: string): Promise<RunStats> {
  const url = new URL(`${fhirBaseUrl}/${relativeUrl}`);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const runOnce = (amount: number): Promise<{ seconds: number; errors: number; timeouts: number }> =>
    new Promise((resolve, reject) => {
      let firstSent = 0;
      let lastDone = 0;
      const instance = autocannon(
        {
          url: url.origin,
          connections: 1,
          amount,
          timeout: 10,
          requests: [{ method: 'GET', path: url.pathname + url.search, headers: { authorization: `Bearer ${FHIR_TOKEN}`, accept: 'application/fhir+json' } }],
        },
        (err, result) => (err ? reject(err) : resolve({ seconds: (lastDone - firstSent) / 1000, errors: result.errors, timeouts: result.timeouts })),
      );
      let n = 0;
      instance.on('response', (_c: unknown, statusCode: number, _b: number, ms: number) => {
        const t = performance.now();
        if (n++ === 0) firstSent = t - ms;
        lastDone = t;
        statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
        latencies.push(ms);
      });
    });
  const warm = await runOnce(30);
  latencies.length = 0;
  for (const k of Object.keys(statuses)) delete statuses[k];
  const r = await runOnce(Math.round(Math.min(1000, Math.max(10, (2 * 30) / warm.seconds))));
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: sorted.length, seconds: r.seconds, rps: sorted.length / r.seconds,
    p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN,
    statuses, errors: r.errors, timeouts: r.timeouts, mismatches: 0, overdrawn: 0, latencies: sorted,
  };
}

// ---------------------------------------------------------------------------------------------------
// Scale-out (issue 15): PostgreSQL, Redis and HAProxy as in the multi-instance test

const SCALE_KEYS = ['x1', 'x1-redis', 'x2'];

interface ScaleOut {
  /** One instance, in-process jti cache. */
  x1: Child;
  /** Two instances with the jti record in Redis (r1 alone is x1-redis; both behind HAProxy are x2). */
  r1: Child;
  r2: Child;
  redis: RedisServer;
  haproxy: Haproxy;
  redisVersion: string;
  haproxyVersion: string;
  close(): Promise<void>;
}

async function startScaleOut(
  startService: (name: string, dataDir: string, hookWorkers: string | undefined, extraEnv?: NodeJS.ProcessEnv) => Promise<Child>,
): Promise<ScaleOut> {
  const [postgres, redis] = await Promise.all([startPostgres({ database: 'cds_bench' }), startRedis()]);
  let haproxy: Haproxy | undefined;
  try {
    const pgEnv = { DATABASE_URL: postgres.url };
    // Started one after the other: three processes compiling the runtime at once on two cores
    // would only slow each other down (and the first one migrates the database).
    const x1 = await startService('x1', 'data-x1', env.BENCH_HOOK_WORKERS, pgEnv);
    // BENCH_X2_HOOK_WORKERS: the two Redis instances' own worker count (e.g. 1 each, so that x2 runs
    // as many evaluation threads as x1), to see what the extra threads cost.
    const x2Workers = env.BENCH_X2_HOOK_WORKERS || env.BENCH_HOOK_WORKERS;
    const r1 = await startService('x-redis-1', 'data-r1', x2Workers, { ...pgEnv, REDIS_URL: redis.url });
    const r2 = await startService('x-redis-2', 'data-r2', x2Workers, { ...pgEnv, REDIS_URL: redis.url });
    const portOf = (c: Child): number => Number(new URL(c.url).port);
    haproxy = await startHaproxy({ backends: [{ name: 'i1', port: portOf(r1) }, { name: 'i2', port: portOf(r2) }], checkIntervalMs: 1_000 });
    await haproxy.waitFor({ i1: 'UP', i2: 'UP' });
    const h = haproxy;
    return {
      x1, r1, r2, redis, haproxy: h,
      redisVersion: versionOf(findRedisServer(), ['--version'], /v=(\S+)/),
      haproxyVersion: versionOf(findHaproxy(), ['-v'], /version (\S+)/),
      async close() {
        await h.close();
        await Promise.all([x1, r1, r2].map(stopChild));
        await redis.close();
        await postgres.stop();
      },
    };
  } catch (err) {
    await haproxy?.close();
    await redis.close();
    await postgres.stop();
    throw err;
  }
}

function versionOf(bin: string, args: string[], pattern: RegExp): string {
  const out = spawnSync(bin, args, { encoding: 'utf8' });
  return pattern.exec(`${out.stdout}${out.stderr}`)?.[1] ?? '?';
}

/** One jti claim as the service makes it (SET key 1 PX ttl NX), sequential on one connection. */
async function redisRoundTrip(url: string): Promise<RunStats> {
  const redis = new Redis(url, { lazyConnect: true });
  await redis.connect();
  const latencies: number[] = [];
  const started = performance.now();
  try {
    for (let i = 0; i < 3_000; i++) {
      const t0 = performance.now();
      await redis.set(`bench:rtt:${i}:${Math.random()}`, '1', 'PX', 60_000, 'NX');
      if (i >= 500) latencies.push(performance.now() - t0); // the first 500 warm up
    }
  } finally {
    await redis.quit();
  }
  const sorted = Float64Array.from(latencies).sort();
  const seconds = (performance.now() - started) / 1000;
  return {
    requests: sorted.length, seconds, rps: sorted.length / seconds,
    p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN,
    statuses: { 200: sorted.length }, errors: 0, timeouts: 0, mismatches: 0, overdrawn: 0, latencies: sorted,
  };
}

// ---------------------------------------------------------------------------------------------------
// Main

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');

async function main(): Promise<number> {
  const wallStart = performance.now();
  const now = new Date();
  const { tmp, cleanup, release } = guardRun('bench', TIME_LIMIT_MS);
  let scale: ScaleOut | undefined;

  try {
    const loadStart = loadavg();
    console.log(`CDS Hooks benchmark — Node ${process.version}, ${cpus().length} CPU (${cpus()[0]?.model ?? '?'}), ${CONNECTIONS} connections, loopback; load average ${loadStart.map((x) => x.toFixed(2)).join(' ')}`);
    const [rs, es] = await Promise.all([makeSigner('RS384'), makeSigner('ES384')]);

    // Children: FHIR server first (its URL goes on the client's allowlist), then service and echo.
    const baseEnv = childBaseEnv();
    const [fhir, fhirB] = await startFhirServers(baseEnv, now);
    const clientsFile = join(tmp, 'cds-clients.json');
    writeFileSync(clientsFile, JSON.stringify([{ iss: ISSUER, name: 'bench EHR', jwks: { keys: [rs.publicJwk, es.publicJwk] }, fhirServers: [fhirB.url] }]));
    const profiling = env.BENCH_CPU_PROF === '1';
    if (profiling) mkdirSync(PROFILE_DIR, { recursive: true });
    const startService = (name: string, dataDir: string, hookWorkers: string | undefined, extraEnv: NodeJS.ProcessEnv = {}): Promise<Child> => startChild(
      name,
      env.BENCH_SERVICE_SCRIPT ? new URL(env.BENCH_SERVICE_SCRIPT, `file://${process.cwd()}/`).href : './children/service.ts',
      {
        ...baseEnv,
        DEMO: 'false', CDS_CLIENTS_FILE: clientsFile, DATA_DIR: join(tmp, dataDir), LOG_LEVEL: LOG_LEVEL,
        HOST: '127.0.0.1', PORT: '0', PUBLIC_BASE_URL, BODY_LIMIT,
        // (b) queues 10 call sets × 4 searches at a FHIR server that needs ~70 ms of CPU per search:
        // the first warm-up requests can wait past the default 3 s budget and answer 412, which is
        // right for the service but would void the run. (b) measures throughput, not the budget.
        FETCH_BUDGET_MS: '10000',
        ...(hookWorkers !== undefined && hookWorkers !== '' ? { HOOK_WORKERS: hookWorkers } : {}),
        ...(env.BENCH_DATABASE_URL ? { DATABASE_URL: env.BENCH_DATABASE_URL } : {}),
        ...extraEnv,
      },
      [...SERVICE_NODE_OPTIONS, ...(profiling ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []), ...(env.BENCH_SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    );
    const wantMain = !ONLY || ONLY.has('a-main') || ONLY.has('d-main');
    const [service, echo, serviceMain] = await Promise.all([
      startService('service', 'data', env.BENCH_HOOK_WORKERS),
      startChild('echo', './children/echo.ts', { ...baseEnv, BODY_LIMIT }),
      // The same service evaluating on its main thread (HOOK_WORKERS=0): the single-thread figures.
      wantMain ? startService('service-main', 'data-main', '0') : undefined,
    ]);
    console.log(`service: ${service.hookWorkers ?? '?'} evaluation worker thread(s) (HOOK_WORKERS)${serviceMain ? '; service-main: evaluation on the main thread' : ''}`);
    // Scale-out (x1, x1-redis, x2): a private PostgreSQL shared by every instance, a private Redis,
    // one instance with the in-process replay cache, two with the Redis replay store behind HAProxy.
    scale = SCALE_KEYS.some((k) => !ONLY || ONLY.has(k)) ? await startScaleOut(startService) : undefined;
    if (scale) console.log(`scale-out: PostgreSQL store for x1/x1-redis/x2, Redis ${scale.redisVersion}, HAProxy ${scale.haproxyVersion}; evaluation worker threads: ${scale.x1.hookWorkers ?? '?'} in x1, ${scale.r1.hookWorkers ?? '?'} in each x1-redis/x2 instance`);
    const mainService = (): Child => {
      if (!serviceMain) throw new Error('service-main not started');
      return serviceMain;
    };

    // Discovery, as an EHR reads it; prefetch built by executing its templates.
    const templates = await discoveryTemplates(service.url, rs);

    const fullA = await buildPrefetch(fhir.url, templates('cirrhosis-sarcopenia'), CIRRHOSIS_PATIENT);
    const bodyA = Buffer.from(JSON.stringify(hookRequest(CIRRHOSIS_PATIENT, { prefetch: fullA.prefetch })));
    const bodyB = Buffer.from(JSON.stringify(hookRequest(CIRRHOSIS_PATIENT, fhirAccess(fhirB.url))));
    const fullS = await buildPrefetch(fhir.url, templates(S_SERVICE), S_PATIENT);
    const bodyS = Buffer.from(JSON.stringify(hookRequest(S_PATIENT, { prefetch: fullS.prefetch })));
    const callSet: { id: ServiceId; body: Buffer; resources: number }[] = [];
    for (const id of SERVICES) {
      const p = await buildPrefetch(fhir.url, templates(id), COMPOSITE_PATIENT);
      callSet.push({ id, body: Buffer.from(JSON.stringify(hookRequest(COMPOSITE_PATIENT, { prefetch: p.prefetch }))), resources: p.resources });
    }
    await stopChild(fhir); // only needed to build the bodies
    const pathOf = (id: ServiceId): string => `/cds-services/${id}`;
    const kb = (b: Buffer): string => `${(b.length / 1024).toFixed(1)} kB`;
    console.log(`(a) body: ${fullA.resources} prefetched resources (demo patient + ${SYNTHETIC_LABS} synthetic older labs), ${kb(bodyA)}; (b) body: ${kb(bodyB)}; (s) body: ${fullS.resources} resources (${S_SERVICE}, ${S_PATIENT}), ${kb(bodyS)}`);
    console.log(`(d) call set for '${COMPOSITE_PATIENT}': ${callSet.map((c) => `${c.id} ${c.resources} resources ${kb(c.body)}`).join('; ')}`);

    // One checked call per body: 200 with cards, before any load.
    const cardCheck: Record<string, { cards: number; bytes: number; summaries: string[] }> = {};
    for (const [name, id, body] of [['a', 'cirrhosis-sarcopenia', bodyA], ['b', 'cirrhosis-sarcopenia', bodyB], ['s', S_SERVICE, bodyS], ...callSet.map((c) => [`d:${c.id}`, c.id, c.body] as const)] as const) {
      const [token] = await signTokens(rs, pathOf(id), 1);
      const res = await fetch(`${service.url}${pathOf(id)}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: new Uint8Array(body) });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`check ${name}: ${id} answered ${res.status}: ${text.slice(0, 300)}`);
      const cards = (JSON.parse(text) as { cards: { summary: string }[] }).cards;
      if (!Array.isArray(cards) || cards.length === 0) throw new Error(`check ${name}: ${id} answered no cards — nothing to benchmark`);
      if (!text.startsWith(CARDS_PREFIX)) throw new Error(`check ${name}: answer does not start with ${CARDS_PREFIX}`);
      cardCheck[name] = { cards: cards.length, bytes: Buffer.byteLength(text), summaries: cards.map((c) => c.summary) };
    }
    console.log(`cards: ${Object.entries(cardCheck).map(([k, v]) => `${k} ${v.cards} (${(v.bytes / 1024).toFixed(1)} kB)`).join(', ')}`);
    console.log(`  e.g. "${cardCheck.a?.summaries[0] ?? ''}"`);

    const obsTemplate = Object.values(templates('cirrhosis-sarcopenia')).find((t) => t.startsWith('Observation?'));
    if (!obsTemplate) throw new Error('no Observation template in cirrhosis-sarcopenia discovery');
    let rtt: RunStats | undefined;

    // The scenarios, pairs side by side (the machine's load can drift between runs). Echo targets
    // send the same bytes as their service scenario, tokens included.
    let tokensA: string[] = [];
    let tokensS: string[] = [];
    const tokensD = new Map<ServiceId, string[]>();
    const cirrhosisPath = pathOf('cirrhosis-sarcopenia');
    const scaleOf = (): ScaleOut => {
      if (!scale) throw new Error('scale-out set-up not started');
      return scale;
    };
    const specs: ScenarioSpec[] = [
      { key: 'a', group: 'a', label: `cirrhosis-sarcopenia, full prefetch (${fullA.resources} resources), RS384`, server: () => service, targets: [{ path: cirrhosisPath, body: bodyA, expect: 'cards', signer: rs }] },
      { key: 'c', group: 'a', label: 'bare Express echo of the (a) body', server: () => echo, targets: [{ path: cirrhosisPath, body: bodyA, expect: 'echo', reuse: () => tokensA }] },
      { key: 'd', group: 'd', label: 'patient-view call set: 3 services, full prefetch', server: () => service, targets: callSet.map((c) => ({ path: pathOf(c.id), body: c.body, expect: 'cards' as const, signer: rs })) },
      { key: 'd-echo', group: 'd', label: 'bare Express echo of the (d) bodies', server: () => echo, targets: callSet.map((c) => ({ path: pathOf(c.id), body: c.body, expect: 'echo' as const, reuse: () => tokensD.get(c.id) ?? [] })) },
      { key: 'a-main', group: 'a', label: 'same as (a), evaluated on the main thread (HOOK_WORKERS=0)', server: mainService, targets: [{ path: cirrhosisPath, body: bodyA, expect: 'cards', signer: rs }] },
      { key: 'd-main', group: 'd', label: 'same as (d), evaluated on the main thread (HOOK_WORKERS=0)', server: mainService, targets: callSet.map((c) => ({ path: pathOf(c.id), body: c.body, expect: 'cards' as const, signer: rs })) },
      { key: 's', group: 's', label: `${S_SERVICE}, small full prefetch (${fullS.resources} resources, ${kb(bodyS)})`, server: () => service, targets: [{ path: pathOf(S_SERVICE), body: bodyS, expect: 'cards', signer: rs }] },
      { key: 's-echo', group: 's', label: 'bare Express echo of the (s) body', server: () => echo, targets: [{ path: pathOf(S_SERVICE), body: bodyS, expect: 'echo', reuse: () => tokensS }] },
      { key: 'a-1conn', label: 'same as (a), 1 connection (latency without queueing)', connections: 1, server: () => service, targets: [{ path: cirrhosisPath, body: bodyA, expect: 'cards', signer: rs }] },
      { key: 'a-open', label: `same as (a), open loop at ${OPEN_LOOP_SHARE * 100} % of (a)'s req/s`, openLoop: true, server: () => service, targets: [{ path: cirrhosisPath, body: bodyA, expect: 'cards', signer: rs }] },
      { key: 'a-es384', label: 'same as (a), ES384 client JWTs', server: () => service, targets: [{ path: cirrhosisPath, body: bodyA, expect: 'cards', signer: es }] },
      { key: 'x1', group: 'x', warmupSeconds: X_WARMUP_SECONDS, label: 'same as (a), 1 instance, in-process jti cache, PostgreSQL', server: () => scaleOf().x1, targets: [{ path: cirrhosisPath, body: bodyA, expect: 'cards', signer: rs }] },
      { key: 'x1-redis', group: 'x', warmupSeconds: X_WARMUP_SECONDS, label: 'same as (x1), jti in Redis', server: () => scaleOf().r1, side: () => [{ name: 'redis', pid: scaleOf().redis.pid }], targets: [{ path: cirrhosisPath, body: bodyA, expect: 'cards', signer: rs }] },
      {
        key: 'x2', group: 'x', warmupSeconds: X_WARMUP_SECONDS, label: 'same as (a), HAProxy + 2 instances, jti in Redis, PostgreSQL',
        server: () => scaleOf().r1, others: () => [scaleOf().r2], url: () => scaleOf().haproxy.url,
        side: () => [{ name: 'haproxy', pid: scaleOf().haproxy.pid }, { name: 'redis', pid: scaleOf().redis.pid }],
        targets: [{ path: cirrhosisPath, body: bodyA, expect: 'cards', signer: rs }],
      },
      { key: 'b', label: 'cirrhosis-sarcopenia, no prefetch, FHIR server answers', server: () => service, upstream: () => fhirB, targets: [{ path: cirrhosisPath, body: bodyB, expect: 'cards', signer: rs }] },
      { key: 'b-1conn', label: 'same as (b), 1 connection (unloaded latency)', connections: 1, server: () => service, upstream: () => fhirB, targets: [{ path: cirrhosisPath, body: bodyB, expect: 'cards', signer: rs }] },
    ];
    // Echo runs reuse tokens of the same shape (the echo server verifies nothing).
    if (!ONLY || ONLY.has('c')) tokensA = await signTokens(rs, cirrhosisPath, 64);
    if (!ONLY || ONLY.has('s-echo')) tokensS = await signTokens(rs, pathOf(S_SERVICE), 64);
    if (!ONLY || ONLY.has('d-echo')) for (const c of callSet) tokensD.set(c.id, await signTokens(rs, pathOf(c.id), 64));

    console.log(`\nRunning (warm-up ~${WARMUP_SECONDS} s, then ~${SECONDS} s by request count; compared scenarios in ${ROUNDS} interleaved rounds):`);
    const results: ScenarioResult[] = [];
    const selected = specs.filter((spec) => !ONLY || ONLY.has(spec.key));
    for (const spec of selected) {
      if (results.some((r) => r.key === spec.key)) continue; // measured with its group
      if (spec.upstream && !rtt) {
        // Before the first (b) run: one FHIR round trip, which also warms the FHIR server up.
        rtt = await fhirRoundTrip(fhirB.url, obsTemplate.replaceAll('{{context.patientId}}', CIRRHOSIS_PATIENT));
        if (problems(rtt).length > 0) throw new Error(`FHIR round trip: ${problems(rtt).join('; ')}`);
        console.log(`  fhir-rtt the (a) patient's Observation search, 1 connection: p50 ${f2(rtt.p50)} ms`);
      }
      if (spec.openLoop) {
        // Saturation first: (a)'s closed-loop req/s at CONNECTIONS, measured above or now.
        const aSpec = specs.find((x) => x.key === 'a')!;
        const saturation = results.find((r) => r.key === 'a')?.run.rps ?? (await warmUp(aSpec)).warmup.rps;
        results.push(await runOpen(spec, saturation));
        continue;
      }
      const group = spec.group === undefined ? [spec] : selected.filter((x) => x.group === spec.group);
      results.push(...(await runGroup(group, group.length > 1 ? ROUNDS : 1)));
    }

    // Report
    const by = (k: string): ScenarioResult | undefined => results.find((r) => r.key === k);
    const ratio = (x: string, y: string): number => {
      const a = by(x);
      const b = by(y);
      return a && b ? a.run.rps / b.run.rps : Number.NaN;
    };
    // Per round: the two sides of a ratio measured within seconds of each other.
    const roundRatios = (x: string, y: string): number[] => {
      const a = by(x)?.rounds ?? [];
      const b = by(y)?.rounds ?? [];
      return a.length > 1 && a.length === b.length ? a.map((v, i) => v / b[i]!) : [];
    };
    const ratioA = ratio('a', 'c');
    const ratioD = ratio('d', 'd-echo');
    const ratioS = ratio('s', 's-echo');
    const p99A1 = by('a-1conn')?.run.p99 ?? Number.NaN;
    const p99Open = by('a-open')?.run.p99 ?? Number.NaN;
    const ratioAMain = ratio('a-main', 'c');
    const ratioDMain = ratio('d-main', 'd-echo');
    const p99A = by('a')?.run.p99 ?? Number.NaN;
    const ratioX = ratio('x2', 'x1');
    const ratioXRedis = ratio('x1-redis', 'x1');
    const redisRtt = scale && (by('x2') || by('x1-redis')) ? await redisRoundTrip(scale.redis.url) : undefined;
    const targets = [
      { name: '(a)/(c) req/s ≥ 0.5', value: ratioA, ok: ratioA >= 0.5, pair: ['a', 'c'] as const },
      { name: '(s)/(s-echo) req/s ≥ 0.5', value: ratioS, ok: ratioS >= 0.5, pair: ['s', 's-echo'] as const },
      { name: '(d)/(d-echo) req/s ≥ 0.5', value: ratioD, ok: ratioD >= 0.5, pair: ['d', 'd-echo'] as const },
      { name: '(a-1conn) p99 ≤ 10 ms', value: p99A1, ok: p99A1 <= 10, pair: undefined },
      { name: `(a-open) p99 ≤ 20 ms, open loop at ${OPEN_LOOP_SHARE * 100} % of saturation`, value: p99Open, ok: p99Open <= 20, pair: undefined },
      { name: '(x2)/(x1) req/s ≥ 0.85: scale-out overhead ≤ 15 % (issue 15)', value: ratioX, ok: ratioX >= 0.85, pair: ['x2', 'x1'] as const },
    ].filter((t) => Number.isFinite(t.value));

    console.log('');
    const row = (key: string, label: string, x: RunStats, cpu: string): string => {
      const bad = Object.entries(x.statuses).filter(([k]) => k !== '200').reduce((a, [, v]) => a + v, 0) + x.errors + x.timeouts + x.mismatches;
      return `${key.padEnd(9)}${label.slice(0, 53).padEnd(54)}${f1(x.rps).padStart(8)}${f2(x.p50).padStart(9)}${f2(x.p99).padStart(9)}${cpu.padStart(9)}${String(x.requests).padStart(9)}${String(bad).padStart(6)}`;
    };
    const header = `${'scenario'.padEnd(9)}${'description'.padEnd(54)}${'req/s'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'cpu ms'.padStart(9)}${'requests'.padStart(9)}${'bad'.padStart(6)}`;
    console.log(header);
    console.log('-'.repeat(header.length));
    for (const r of results) console.log(row(r.key, r.label, r.run, f2(r.serverCpuMsPerReq)));
    if (rtt) console.log(row('fhir-rtt', 'one FHIR Observation search of (b), 1 connection', rtt, ''));
    if (redisRtt) console.log(row('jti-rtt', 'one Redis SET NX PX (the jti claim), 1 connection', redisRtt, ''));
    console.log('cpu ms = CPU time of the server child per request (user + system) during the measured run; bad = non-200, errors, timeouts, answers without cards');
    for (const r of results) {
      if ((r.run.clientBusy ?? 0) > 0.85) console.log(`(${r.key}): the load generator used ${Math.round((r.run.clientBusy ?? 0) * 100)} % of a core: the server may not have been the bottleneck (its req/s is then a floor)`);
    }
    // Where the service's CPU went, by kind of thread (bench/README.md, "where a call's CPU goes").
    const KINDS = ['main', 'workers', 'V8 helpers', 'libuv', 'other'];
    for (const r of results) {
      const t = r.threadCpuMsPerReq ?? {};
      if (Object.keys(t).length === 0) continue;
      console.log(`threads ${r.key.padEnd(8)} ${KINDS.filter((k) => (t[k] ?? 0) > 0).map((k) => `${k} ${f2(t[k]!)}`).join(' · ')}`);
    }
    console.log('threads = cpu ms per request by kind of thread of the server child(ren): workers are the evaluation workers and the PGlite thread; V8 helpers run concurrent GC and background compilation');
    for (const r of results) if (r.upstreamCpuMsPerReq !== undefined) console.log(`(${r.key}): the FHIR server used ${f2(r.upstreamCpuMsPerReq)} ms CPU per hook call`);
    for (const r of results) {
      if (r.sideCpuMsPerReq) console.log(`(${r.key}): ${Object.entries(r.sideCpuMsPerReq).map(([n, v]) => `${n} used ${f2(v)} ms CPU per hook call`).join(', ')}`);
    }
    if (by('d')) console.log(`(d) = ${f1((by('d')?.run.rps ?? 0) / 3)} chart opens/s (3 POSTs each)`);
    console.log('');
    for (const t of targets) {
      const perRound = t.pair ? roundRatios(t.pair[0], t.pair[1]) : [];
      console.log(`${t.ok ? 'PASS' : 'MISS'}  ${t.name}: ${f2(t.value)}${perRound.length ? ` (by round: ${perRound.map(f2).join(', ')})` : ''}`);
    }
    for (const r of results) {
      if (r.open) console.log(`info  (${r.key}) open loop: ${f1(r.open.rate)} req/s sent at fixed times (${OPEN_LOOP_SHARE * 100} % of ${f1(r.open.saturation)} req/s), latency counted from each intended send time; the generator sent late by p99 ${f2(r.open.sendLagP99Ms)} ms (max ${f2(r.open.sendLagMaxMs)}), at most ${r.open.maxInFlight} in flight`);
      // Lateness of the generator counts in the latency (it is measured from the intended time): a
      // late generator means a busy machine, not a slow service.
      if (r.open && r.open.sendLagP99Ms > 2) console.log(`(${r.key}): the load generator itself sent requests late (p99 ${f2(r.open.sendLagP99Ms)} ms): the machine was busy, and that delay is part of the p99`);
    }
    if (Number.isFinite(ratioXRedis)) {
      console.log(`info  jti in Redis, one instance: (x1-redis)/(x1) ${f2(ratioXRedis)} req/s (by round: ${roundRatios('x1-redis', 'x1').map(f2).join(', ')}); ` +
        `cpu ms per call ${f2(by('x1-redis')?.serverCpuMsPerReq ?? Number.NaN)} against ${f2(by('x1')?.serverCpuMsPerReq ?? Number.NaN)}` +
        (redisRtt ? `; one claim's round trip p50 ${f2(redisRtt.p50)} ms, p99 ${f2(redisRtt.p99)} ms unloaded` : ''));
    }
    const x1 = by('x1');
    const x2 = by('x2');
    // On a shared machine req/s swings with other work; CPU per call does much less. Every
    // process of each set-up counted (instances, HAProxy, Redis; not the load generator).
    const setupCpu = (r: ScenarioResult): number => r.serverCpuMsPerReq + sum(Object.values(r.sideCpuMsPerReq ?? {}));
    const cpuRatioX = x1 && x2 ? setupCpu(x1) / setupCpu(x2) : Number.NaN;
    if (x1 && x2) {
      const cpuX1 = setupCpu(x1);
      const cpuX2 = setupCpu(x2);
      console.log(`info  CPU per call, whole set-up: (x1) ${f2(cpuX1)} ms, (x2) ${f2(cpuX2)} ms (instances ${f2(x2.serverCpuMsPerReq)} + ` +
        `${Object.entries(x2.sideCpuMsPerReq ?? {}).map(([n, v]) => `${n} ${f2(v)}`).join(' + ')}): where CPU is the limit, (x2) can reach ${f2(cpuX1 / cpuX2)} of (x1)'s req/s`);
      console.log(`info  context switches of the service processes per call: (x1) ${f1(x1.ctxSwitchesPerReq ?? Number.NaN)}, (x1-redis) ${f1(by('x1-redis')?.ctxSwitchesPerReq ?? Number.NaN)}, (x2) ${f1(x2.ctxSwitchesPerReq ?? Number.NaN)} (all threads; a wake-up of an idle thread is one)`);
    }
    if (Number.isFinite(p99A)) console.log(`info  (a) p99 at ${CONNECTIONS} connections, closed loop: ${f2(p99A)} ms (about connections / throughput, Little's law: not a latency target)`);
    if (Number.isFinite(ratioAMain) || Number.isFinite(ratioDMain)) {
      console.log(`info  evaluated on the main thread (HOOK_WORKERS=0): (a-main)/(c) ${f2(ratioAMain)}, (d-main)/(d-echo) ${f2(ratioDMain)}`);
    }

    const invalid = [...results.map((r) => ({ key: r.key, issues: [...problems(r.warmup).map((p) => `warm-up: ${p}`), ...problems(r.run)] }))].filter((x) => x.issues.length > 0);
    const logged = results.filter((r) => r.serviceLogLines > 0);
    for (const r of logged) console.log(`note: the service logged ${r.serviceLogLines} lines at LOG_LEVEL=${LOG_LEVEL} during (${r.key}); last: ${service.lastLog.at(-1)?.slice(0, 300) ?? ''}`);

    const report = {
      when: now.toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      connections: CONNECTIONS,
      hookWorkers: service.hookWorkers,
      targetSeconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      serviceLogLevel: LOG_LEVEL,
      bodies: {
        a: { resources: fullA.resources, bytes: bodyA.length },
        b: { bytes: bodyB.length },
        s: { resources: fullS.resources, bytes: bodyS.length },
        d: callSet.map((c) => ({ service: c.id, resources: c.resources, bytes: c.body.length })),
      },
      cardCheck,
      loadAverage: { start: loadStart, end: loadavg() },
      fhirRoundTrip: rtt ? { p50Ms: rtt.p50, p90Ms: rtt.p90, p99Ms: rtt.p99, requests: rtt.requests } : null,
      redisRoundTrip: redisRtt ? { p50Ms: redisRtt.p50, p90Ms: redisRtt.p90, p99Ms: redisRtt.p99, requests: redisRtt.requests } : null,
      scenarios: Object.fromEntries(
        results.map((r) => [r.key, {
          label: r.label,
          rps: r.run.rps, rpsByRound: r.rounds, p50Ms: r.run.p50, p90Ms: r.run.p90, p99Ms: r.run.p99, maxMs: r.run.max,
          requests: r.run.requests, seconds: r.run.seconds, statuses: r.run.statuses, errors: r.run.errors,
          timeouts: r.run.timeouts, mismatches: r.run.mismatches, serviceLogLines: r.serviceLogLines,
          serverCpuMsPerRequest: r.serverCpuMsPerReq,
          serviceContextSwitchesPerRequest: r.ctxSwitchesPerReq,
          serviceThreadCpuMsPerRequest: r.threadCpuMsPerReq,
          loadGeneratorCoreShare: r.run.clientBusy,
          ...(r.upstreamCpuMsPerReq !== undefined ? { fhirServerCpuMsPerRequest: r.upstreamCpuMsPerReq } : {}),
          ...(r.sideCpuMsPerReq ? { sideCpuMsPerRequest: r.sideCpuMsPerReq } : {}),
          ...(r.open ? { openLoop: r.open } : {}),
          warmup: { requests: r.warmup.requests, rps: r.warmup.rps },
        }]),
      ),
      ratios: {
        aOverC: ratioA, sOverSEcho: ratioS, dOverDEcho: ratioD, aMainOverC: ratioAMain, dMainOverDEcho: ratioDMain,
        x2OverX1: ratioX, x1RedisOverX1: ratioXRedis, x2OverX1ByCpu: cpuRatioX,
        byRound: {
          aOverC: roundRatios('a', 'c'), sOverSEcho: roundRatios('s', 's-echo'), dOverDEcho: roundRatios('d', 'd-echo'),
          x2OverX1: roundRatios('x2', 'x1'), x1RedisOverX1: roundRatios('x1-redis', 'x1'),
        },
      },
      targets: targets.map(({ pair: _pair, ...t }) => t),
      signing: { tokens: signing.tokens, ms: signing.ms },
      invalid,
      wallSeconds: (performance.now() - wallStart) / 1000,
    };
    mkdirSync(join(ROOT, '.bench'), { recursive: true });
    writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on the machine skews every figure)`);
    console.log(`\nResults: ${RESULTS_FILE}  (wall ${f1(report.wallSeconds)} s, ${signing.tokens} JWTs signed in ${f1(signing.ms / 1000)} s)`);
    if (profiling) console.log(`CPU profile of the service: ${PROFILE_DIR} (written when the child exits)`);

    if (invalid.length > 0) {
      console.error('\n!!! BENCHMARK INVALID: some requests did not get a good answer !!!');
      for (const x of invalid) for (const i of x.issues) console.error(`  (${x.key}) ${i}`);
      return 1;
    }
    if (env.BENCH_STRICT === '1' && targets.some((t) => !t.ok)) return 1;
    return 0;
  } finally {
    await scale?.close();
    await cleanup();
    release();
  }
}

// The imaging scenario (bench/imaging.ts, key `img`): after the load runs, on its own private Orthanc,
// so that neither disturbs the other's figures.
const IMAGING = !ONLY || ONLY.has('img');
const LOAD = !ONLY || [...ONLY].some((k) => k !== 'img');
(LOAD ? main() : Promise.resolve(0)).then(
  async (code) => {
    if (IMAGING) {
      if (orthancMissing()) console.log(`\n== Imaging: skipped, ${orthancMissing()}`);
      else await runImagingBench();
    }
    process.exit(code || (typeof process.exitCode === 'number' ? process.exitCode : 0));
  },
  async (err: unknown) => {
    console.error(`\nbench: FAILED — ${(err as Error).stack ?? String(err)}`);
    await stopChildren();
    process.exit(1);
  },
);
