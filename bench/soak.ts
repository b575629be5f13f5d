// `npm run soak`: does the service's memory stay flat under a steady mixed load? (bench/README.md)
//
// The service runs as in `npm run bench` (startServer in a child process, PGlite store, its default
// evaluation workers). An open-loop load at a fixed rate (open-loop.ts) mixes full-prefetch calls
// (the (a) body and the three (d) bodies) with calls that carry no prefetch, for which the service
// fetches from a FHIR server in another child process (the (b) body). Every SOAK_SAMPLE_SECONDS the
// soak records the service process's resident memory (VmRSS: every thread, V8 heaps, WASM memory,
// malloc arenas) with the main thread's heap, external and arrayBuffers figures and the worker
// threads' V8 heaps, prints them as a table and gives a verdict: after the warm-up, no sample may
// exceed by more than 10 % the mean of the first third of them. One more sample after the load
// stops shows whether memory comes back.
//
// Environment (all optional): SOAK_SECONDS (load duration, default 600), SOAK_SAMPLE_SECONDS (30),
// SOAK_WARMUP_SECONDS (default 120, or a fifth of a shorter run), SOAK_RATE (calls per second, 40),
// SOAK_FETCH_EVERY (every Nth call makes the service fetch from the FHIR server, default 8; 0: none),
// SOAK_HOOK_WORKERS (the service's HOOK_WORKERS), SOAK_SERVICE_NODE_ARGS (extra node options for the
// service child), SOAK_STRICT=1 (exit 1 when RSS is not flat, not only when the run is invalid).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CIRRHOSIS_PATIENT, COMPOSITE_PATIENT } from './fixtures.ts';
import {
  CARDS_PREFIX, ISSUER, PUBLIC_BASE_URL, SERVICES, buildPrefetch, childBaseEnv, cpuMs, discoveryTemplates, fhirAccess,
  guardRun, hookRequest, makeSigner, percentile, signTokens, signing, startChild, startFhirServers, stopChild, stopChildren,
  type Child, type ServiceId, type Signer,
} from './common.ts';
import { openLoop, type OpenLoopRequest, type OpenLoopStats } from './open-loop.ts';
import type { MemorySample } from './children/service.ts';
import { SERVICE_NODE_OPTIONS } from '../src/node-options.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_FILE = join(ROOT, '.bench', 'soak.json');
const env = process.env;
const num = (v: string | undefined, dflt: number): number => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : dflt);
const SECONDS = num(env.SOAK_SECONDS, 600);
const SAMPLE_SECONDS = num(env.SOAK_SAMPLE_SECONDS, 30);
const WARMUP_SECONDS = num(env.SOAK_WARMUP_SECONDS, Math.min(120, SECONDS / 5));
const RATE = num(env.SOAK_RATE, 40);
const FETCH_EVERY = Math.max(0, Math.round(num(env.SOAK_FETCH_EVERY, 8)));
/** RSS after the warm-up may exceed its value at the end of the warm-up by this share at most. */
const FLAT_TOLERANCE = 0.1;
/** Signed tokens kept ready per target: this many seconds of load at the full rate. */
const TOKEN_LEAD_SECONDS = 10;
const TIME_LIMIT_MS = (SECONDS + 4 * SAMPLE_SECONDS + 240) * 1000;

interface SoakTarget {
  name: string;
  path: string;
  body: Buffer;
  tokens: string[];
}

interface Row {
  t: number;
  phase: 'load' | 'idle';
  rssMb: number;
  anonMb: number;
  mem: MemorySample;
  /** Calls answered in the interval, calls sent without prefetch (the service fetches), bad answers. */
  calls: number;
  fetchCalls: number;
  bad: number;
  p99: number;
}

const mb = (bytes: number): number => bytes / 1024 / 1024;
const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');

/** Resident memory of a process, all threads (kB figures of /proc/<pid>/smaps_rollup). */
function residentMb(pid: number): { rss: number; anon: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rss: kb('Rss') / 1024, anon: kb('Anonymous') / 1024 };
}

function memoryOf(child: Child): Promise<MemorySample> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${child.name} did not report its memory`)), 10_000);
    const onMessage = (m: { mem?: MemorySample }): void => {
      if (!m.mem) return;
      clearTimeout(timer);
      child.proc.off('message', onMessage);
      resolve(m.mem);
    };
    child.proc.on('message', onMessage);
    child.proc.send({ cmd: 'mem' });
  });
}

/** Keeps TOKEN_LEAD_SECONDS of freshly signed tokens (5 min lifetime) ready for each target. */
function feedTokens(signer: Signer, targets: SoakTarget[], stop: AbortSignal): Promise<void> {
  const want = Math.ceil(RATE * TOKEN_LEAD_SECONDS);
  return (async () => {
    while (!stop.aborted) {
      for (const t of targets) {
        const missing = want - t.tokens.length;
        if (missing > 0) t.tokens.push(...(await signTokens(signer, t.path, Math.min(256, missing))));
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
}

async function main(): Promise<number> {
  const wallStart = performance.now();
  const now = new Date();
  const stopFeeding = new AbortController();
  const stopLoad = new AbortController();
  const { tmp, cleanup, release } = guardRun('soak', TIME_LIMIT_MS, () => stopFeeding.abort());

  try {
    const loadStart = loadavg();
    console.log(`CDS Hooks soak — Node ${process.version}, ${cpus().length} CPU, ${SECONDS} s at ${RATE} calls/s (open loop), ` +
      `${FETCH_EVERY > 0 ? `every ${FETCH_EVERY}th call without prefetch (the service fetches from the FHIR server)` : 'full prefetch only'}; ` +
      `RSS sampled every ${SAMPLE_SECONDS} s, warm-up ${WARMUP_SECONDS} s; load average ${loadStart.map((x) => x.toFixed(2)).join(' ')}`);
    const rs = await makeSigner('RS384');
    const baseEnv = childBaseEnv();
    const [fhir, fhirB] = await startFhirServers(baseEnv, now);
    const clientsFile = join(tmp, 'cds-clients.json');
    writeFileSync(clientsFile, JSON.stringify([{ iss: ISSUER, name: 'soak EHR', jwks: { keys: [rs.publicJwk] }, fhirServers: [fhirB.url] }]));
    const service = await startChild('service', './children/service.ts', {
      ...baseEnv,
      DEMO: 'false', CDS_CLIENTS_FILE: clientsFile, DATA_DIR: join(tmp, 'data'), LOG_LEVEL: 'warn',
      HOST: '127.0.0.1', PORT: '0', PUBLIC_BASE_URL,
      // As in the bench: the fetch calls measure memory, not the time budget.
      FETCH_BUDGET_MS: '10000',
      ...(env.SOAK_HOOK_WORKERS ? { HOOK_WORKERS: env.SOAK_HOOK_WORKERS } : {}),
    }, [...SERVICE_NODE_OPTIONS, ...(env.SOAK_SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? [])]);
    const pid = service.proc.pid;
    if (pid === undefined) throw new Error('service child has no pid');
    console.log(`service: pid ${pid}, ${service.hookWorkers ?? '?'} evaluation worker thread(s)`);

    const templates = await discoveryTemplates(service.url, rs);
    const pathOf = (id: ServiceId): string => `/cds-services/${id}`;
    const full: SoakTarget[] = [{
      name: 'a', path: pathOf('cirrhosis-sarcopenia'), tokens: [],
      body: Buffer.from(JSON.stringify(hookRequest(CIRRHOSIS_PATIENT, { prefetch: (await buildPrefetch(fhir.url, templates('cirrhosis-sarcopenia'), CIRRHOSIS_PATIENT)).prefetch }))),
    }];
    for (const id of SERVICES) {
      const p = await buildPrefetch(fhir.url, templates(id), COMPOSITE_PATIENT);
      full.push({ name: `d:${id}`, path: pathOf(id), tokens: [], body: Buffer.from(JSON.stringify(hookRequest(COMPOSITE_PATIENT, { prefetch: p.prefetch }))) });
    }
    const fetching: SoakTarget = { name: 'b', path: pathOf('cirrhosis-sarcopenia'), tokens: [], body: Buffer.from(JSON.stringify(hookRequest(CIRRHOSIS_PATIENT, fhirAccess(fhirB.url)))) };
    await stopChild(fhir);
    const targets = FETCH_EVERY > 0 ? [...full, fetching] : full;

    // One checked call per body before the load.
    for (const t of targets) {
      const [token] = await signTokens(rs, t.path, 1);
      const res = await fetch(`${service.url}${t.path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: new Uint8Array(t.body) });
      const text = await res.text();
      if (res.status !== 200 || !text.startsWith(CARDS_PREFIX)) throw new Error(`check ${t.name}: answered ${res.status}: ${text.slice(0, 200)}`);
    }

    const feeding = feedTokens(rs, targets, stopFeeding.signal);
    while (targets.some((t) => t.tokens.length < RATE)) await new Promise((r) => setTimeout(r, 100));

    // Interval figures, reset at each sample.
    let calls = 0;
    let fetchCalls = 0;
    let bad = 0;
    let latencies: number[] = [];
    const rows: Row[] = [];
    const t0 = performance.now();
    const cpuStart = await cpuMs(service);
    const fhirCpuStart = await cpuMs(fhirB);
    const sample = async (phase: Row['phase']): Promise<void> => {
      const [mem, res] = [await memoryOf(service), residentMb(pid)];
      const sorted = Float64Array.from(latencies).sort();
      rows.push({ t: (performance.now() - t0) / 1000, phase, rssMb: res.rss, anonMb: res.anon, mem, calls, fetchCalls, bad, p99: percentile(sorted, 99) });
      calls = 0;
      fetchCalls = 0;
      bad = 0;
      latencies = [];
      printRow(rows[rows.length - 1]!, rows.length === 1);
    };
    await sample('load');
    const sampler = setInterval(() => void sample('load').catch((err: unknown) => console.error(`sample failed: ${(err as Error).message}`)), SAMPLE_SECONDS * 1000);

    let runOutOfTokens = 0;
    const next = (i: number): OpenLoopRequest | undefined => {
      const isFetch = FETCH_EVERY > 0 && i % FETCH_EVERY === FETCH_EVERY - 1;
      const t = isFetch ? fetching : full[i % full.length]!;
      const token = t.tokens.shift();
      if (token === undefined) {
        runOutOfTokens++;
        return undefined;
      }
      if (isFetch) fetchCalls++;
      return {
        path: t.path, body: t.body,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        check: (status, body) => (status === 200 && body.startsWith(CARDS_PREFIX) ? undefined : `${t.name} -> ${status}: ${body.slice(0, 200)}`),
      };
    };
    let stats: OpenLoopStats;
    try {
      stats = await openLoop({
        origin: service.url, rate: RATE, seconds: SECONDS, connections: 256, timeoutMs: 30_000, signal: stopLoad.signal, next,
        onDone: (ms, problem) => {
          calls++;
          latencies.push(ms);
          if (problem !== undefined) bad++;
        },
      });
    } finally {
      clearInterval(sampler);
    }
    const cpuEnd = await cpuMs(service);
    const fhirCpuEnd = await cpuMs(fhirB);
    await sample('load');
    stopFeeding.abort();
    await feeding;
    // Memory after the load: does it come back?
    await new Promise((r) => setTimeout(r, SAMPLE_SECONDS * 1000));
    await sample('idle');

    // Verdict: every sample after the warm-up against the mean of the first third of them. RSS
    // swings by ±5 % as V8 heaps fill and are collected, so one sample is no baseline.
    const loadRows = rows.filter((r) => r.phase === 'load');
    const afterWarmUp = loadRows.filter((r) => r.t >= WARMUP_SECONDS - 1);
    const after = afterWarmUp.length > 0 ? afterWarmUp : loadRows.slice(-1);
    const firstThird = after.slice(0, Math.max(1, Math.ceil(after.length / 3)));
    const lastThird = after.slice(-Math.max(1, Math.ceil(after.length / 3)));
    const mean = (xs: Row[]): number => xs.reduce((a, r) => a + r.rssMb, 0) / xs.length;
    const baseline = { rssMb: mean(firstThird), t: firstThird[0]!.t, until: firstThird[firstThird.length - 1]!.t };
    const peak = Math.max(...after.map((r) => r.rssMb));
    const last = after[after.length - 1]!;
    const growth = peak / baseline.rssMb - 1;
    const drift = mean(lastThird) / baseline.rssMb - 1;
    const flat = growth <= FLAT_TOLERANCE;
    const idle = rows.find((r) => r.phase === 'idle');
    console.log('');
    console.log(`requests ${stats.requests} in ${f0(stats.seconds)} s (${f1(stats.rps)}/s of ${RATE} intended), statuses ${JSON.stringify(stats.statuses)}, errors ${stats.errors}; ` +
      `latency from intended send p50 ${f1(stats.p50)} ms, p99 ${f1(stats.p99)} ms; generator send lag p99 ${f1(stats.sendLagP99)} ms`);
    console.log(`service CPU ${f1((cpuEnd - cpuStart) / stats.requests)} ms per call (all threads); FHIR server CPU ${f0(fhirCpuEnd - fhirCpuStart)} ms in all`);
    const pct = (x: number): string => `${x >= 0 ? '+' : ''}${f1(x * 100)} %`;
    console.log(`${flat ? 'FLAT ' : 'GROWS'} RSS after the warm-up: ${f0(baseline.rssMb)} MB (mean of ${f0(baseline.t)}–${f0(baseline.until)} s), ` +
      `peak ${f0(peak)} MB (${pct(growth)}, limit +${FLAT_TOLERANCE * 100} %), last third ${f0(mean(lastThird))} MB (${pct(drift)}), last ${f0(last.rssMb)} MB` +
      `${idle ? `; ${f0(idle.rssMb)} MB ${SAMPLE_SECONDS} s after the load` : ''}`);

    const invalid: string[] = [];
    if (stats.errors > 0) invalid.push(`${stats.errors} connection errors or timeouts`);
    const non200 = Object.entries(stats.statuses).filter(([k]) => k !== '200').reduce((a, [, v]) => a + v, 0);
    if (non200 > 0) invalid.push(`${non200} non-200 answers (${JSON.stringify(stats.statuses)})`);
    if (stats.mismatches > 0) invalid.push(`${stats.mismatches} answers without cards`);
    if (runOutOfTokens > 0) invalid.push(`${runOutOfTokens} calls not sent: no signed token ready (the load generator fell behind)`);
    if (stats.sample) invalid.push(`first bad answer: ${stats.sample}`);

    mkdirSync(join(ROOT, '.bench'), { recursive: true });
    writeFileSync(RESULTS_FILE, `${JSON.stringify({
      when: now.toISOString(), node: process.version, cpus: cpus().length, seconds: SECONDS, rate: RATE, fetchEvery: FETCH_EVERY,
      sampleSeconds: SAMPLE_SECONDS, warmupSeconds: WARMUP_SECONDS, hookWorkers: service.hookWorkers,
      loadAverage: { start: loadStart, end: loadavg() },
      rows: rows.map((r) => ({ ...r, mem: { usage: r.mem.usage, threads: r.mem.threads } })),
      verdict: { flat, baselineMb: baseline.rssMb, baselineFrom: baseline.t, baselineUntil: baseline.until, peakMb: peak, growth, lastThirdMb: mean(lastThird), drift, lastMb: last.rssMb, idleMb: idle?.rssMb },
      latency: { p50Ms: stats.p50, p99Ms: stats.p99, maxMs: stats.max, sendLagP99Ms: stats.sendLagP99 },
      requests: stats.requests, statuses: stats.statuses, errors: stats.errors, invalid,
      signing: signing, wallSeconds: (performance.now() - wallStart) / 1000,
    }, null, 2)}\n`);
    console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}; results: ${RESULTS_FILE}`);
    if (invalid.length > 0) {
      console.error('\n!!! SOAK INVALID: some calls did not get a good answer !!!');
      for (const i of invalid) console.error(`  ${i}`);
      return 1;
    }
    if (env.SOAK_STRICT === '1' && !flat) return 1;
    return 0;
  } finally {
    stopLoad.abort();
    await cleanup();
    release();
  }
}

function printRow(r: Row, header: boolean): void {
  if (header) {
    console.log('');
    console.log('     t  phase   RSS MB  anon MB | main heap used/total  external  arrayBuffers | worker heaps used/total (each) | calls  fetch  bad  p99 ms');
  }
  const u = r.mem.usage;
  const threads = r.mem.threads.map((w) => `${f0(mb(w.heapUsed))}/${f0(mb(w.heapTotal))}`).join(' ');
  const used = r.mem.threads.reduce((a, w) => a + w.heapUsed, 0);
  const total = r.mem.threads.reduce((a, w) => a + w.heapTotal, 0);
  console.log(`${f0(r.t).padStart(6)}  ${r.phase.padEnd(5)} ${f0(r.rssMb).padStart(7)} ${f0(r.anonMb).padStart(8)} | ${`${f0(mb(u.heapUsed))}/${f0(mb(u.heapTotal))}`.padStart(20)} ${f0(mb(u.external)).padStart(9)} ${f0(mb(u.arrayBuffers)).padStart(13)} | ` +
    `${`${f0(mb(used))}/${f0(mb(total))} (${threads})`.padEnd(30)} | ${String(r.calls).padStart(5)} ${String(r.fetchCalls).padStart(6)} ${String(r.bad).padStart(4)} ${f1(r.p99).padStart(7)}`);
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(`\nsoak: FAILED — ${(err as Error).stack ?? String(err)}`);
    await stopChildren();
    process.exit(1);
  },
);
