// `npm run bench:imaging`, and the imaging scenario of `npm run bench` (bench/run.ts calls
// runImagingBench): the imaging path against a private Orthanc (Debian orthanc + orthanc-dicomweb)
// loaded with the benchmark patient (src/demo/imaging/bench-scenario.ts: 3 CMR studies of 15 series ×
// 50 instances, 1 CT with a SEG).
//   1. Per hook's imaging read (readImaging with what the service wants: CMR for cmr-ihd-macce, CT for
//      cirrhosis-sarcopenia, as hooks/call-data.ts asks), the HTTP requests, the sequential
//      round-trip depth and the bytes received, split by kind, cold (a new runtime: empty cache) and
//      warm (the same runtime again).
//   2. The hook over HTTP (the real app, prefetch sent as an EHR does) with DICOMWEB_URL set and
//      without: warm latency of both, sequential calls, and their ratio (target ≤ 2×).
// Environment: BENCH_IMAGING_RUNS (cold/warm reads per part, default 5), BENCH_IMAGING_CALLS (hook
// calls measured per service and configuration, default 60).
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FhirResource, Patient } from 'fhir/r4.js';
import { startOrthanc } from '../src/demo/imaging/orthanc-process.ts';
import { benchImagingPatient } from '../src/demo/imaging/bench-scenario.ts';
import { createImagingRuntime } from '../src/imaging/imaging-runtime.ts';
import { readImaging } from '../src/imaging/imaging-reader.ts';
import { loadTerminology, DEFAULT_PROFILES_DIR } from '../src/fhir/terminology.ts';
import { testConfig, type AppConfig } from '../src/config.ts';
import type { ImagingResult } from '../src/imaging/types.ts';
import { createApp } from '../src/app.ts';
import { configFingerprint, releaseId } from '../src/config-fingerprint.ts';
import { createLogger } from '../src/logger.ts';
import { createMetrics } from '../src/metrics.ts';
import { JwtVerifier } from '../src/hooks/auth.ts';
import { openStore } from '../src/store/store.ts';
import { createRuntime } from '../src/runtime.ts';
import { createEmbeddedFhirServer } from '../src/fhir/embedded-server.ts';
import { demoPatients } from '../src/demo/patients/index.ts';
import express from 'express';
import { FHIR_TOKEN, ISSUER, PUBLIC_BASE_URL, buildPrefetch, hookRequest, makeSigner, percentile, signTokens } from './common.ts';
import { rehome } from './fixtures.ts';

export async function runImagingBench(): Promise<void> {
  const runs = Number(process.env.BENCH_IMAGING_RUNS ?? 5);
  const calls = Number(process.env.BENCH_IMAGING_CALLS ?? 60);
  const t0 = performance.now();
  const scenario = benchImagingPatient();
  const orthanc = await startOrthanc();
  try {
    // Upload 4 at a time (Orthanc stores concurrently); setup time is not part of the figures.
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < scenario.files.length) {
        const file = scenario.files[next++];
        if (file) await orthanc.upload([file]);
      }
    }));
    const setupS = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`\n== Imaging: Orthanc on loopback, ${scenario.files.length} instances ` +
      `(${scenario.counts.cmrStudies} CMR studies × ${scenario.counts.seriesPerStudy} series × ${scenario.counts.instancesPerSeries} instances + SRs; ` +
      `CT ${scenario.counts.ctSlices} slices + SEG) loaded in ${setupS} s`);

    const terminology = loadTerminology([DEFAULT_PROFILES_DIR]);
    const logger = { warn: (fields: object, message: string) => console.error(message, fields) };
    const config = { ...testConfig().imaging, dicomWebUrl: orthanc.dicomWebUrl };
    const check = (r: ImagingResult, part: 'cmr' | 'ct'): void => {
      const ok = !r.unavailable && (part === 'cmr' ? r.cmr.inputs.lvef?.value === scenario.expected.lvef : r.ct.inputs.muscleArea?.value === scenario.expected.muscleAreaCm2);
      if (!ok) {
        console.error('BENCHMARK INVALID', { part, unavailable: r.unavailable, lvef: r.cmr.inputs.lvef?.value, area: r.ct.inputs.muscleArea?.value, expected: scenario.expected });
        process.exitCode = 1;
      }
    };
    // 1. The imaging read of one hook: cmr-ihd-macce wants the CMR, cirrhosis-sarcopenia the CT.
    const rows: Array<{ hook: string; phase: string; r: ImagingResult }> = [];
    for (const [hook, part] of [['cmr-ihd-macce', 'cmr'], ['cirrhosis-sarcopenia', 'ct']] as const) {
      for (let i = 0; i < runs; i++) {
        const runtime = createImagingRuntime(config, { terminology, logger });
        const want = { cmr: part === 'cmr', ct: part === 'ct' };
        const cold = await readImaging(runtime, { patientId: scenario.patientId, signal: AbortSignal.timeout(10_000), want });
        const warm = await readImaging(runtime, { patientId: scenario.patientId, signal: AbortSignal.timeout(10_000), want });
        check(cold, part);
        check(warm, part);
        rows.push({ hook, phase: 'cold', r: cold }, { hook, phase: 'warm', r: warm });
      }
    }
    const kb = (b: number): string => (b / 1024).toFixed(1);
    console.log('\nimaging read per hook (one readImaging per call)');
    console.log('hook                  phase  requests  depth  bytes (KiB)  qido       metadata   instance(SEG)  frames      ms');
    const seen = new Set<string>();
    for (const { hook, phase, r } of rows) {
      // Runs are alike in requests, depth and bytes; print the first of each kind, then the ms range.
      if (seen.has(`${hook}/${phase}`)) continue;
      seen.add(`${hook}/${phase}`);
      const k = r.stats.byKind;
      const cell = (x: { requests: number; bytes: number }): string => `${x.requests}/${kb(x.bytes)}`.padEnd(11);
      const ms = rows.filter((x) => x.hook === hook && x.phase === phase).map((x) => x.r.stats.elapsedMs).sort((a, b) => a - b);
      console.log(`${hook.padEnd(21)} ${phase.padEnd(6)} ${String(r.stats.requests).padStart(8)}  ${String(r.stats.depth).padStart(5)}  ${kb(r.stats.bytes).padStart(11)}  ` +
        `${cell(k.qido)}${cell(k.metadata)}${cell(k.instance).padEnd(15)}${cell(k.frames)} ${ms[0]?.toFixed(0)}–${ms.at(-1)?.toFixed(0)}`);
    }
    console.log('(kind cells: requests/KiB; depth = sequential round trips; ms = range over runs; targets: depth ≤ 3, pixels only from the SEG and its L3 frame)');

    // 2. The hook over HTTP, warm, with and without the archive.
    await hookLatency(orthanc.dicomWebUrl, scenario.patientId, calls);
  } finally {
    await orthanc.stop();
  }
}

/**
 * Warm hook latency over HTTP (the real app in this process, HOOK_WORKERS=0 so both configurations
 * run alike; prefetch sent by the "EHR", as in bench scenario a), with DICOMWEB_URL and without, on
 * the benchmark patient's chart (the demo chronic-IHD and cirrhosis charts without their FHIR imaging
 * results, so the cards' CMR and L3 numbers come from the archive). Interleaved rounds, so that a
 * drift in the machine's speed hits both sides of the ratio alike.
 */
async function hookLatency(dicomWebUrl: string, patientId: string, calls: number): Promise<void> {
  const resources = chartOf(patientId);
  const fhir = await createEmbeddedFhirServer({ resources, accessToken: FHIR_TOKEN });
  const fhirApp = express();
  fhirApp.use('/fhir', fhir.router);
  const servers: Server[] = [];
  const listen = (app: express.Express): Promise<string> => new Promise((resolve) => {
    const srv = app.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      resolve(`http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`);
    });
    servers.push(srv);
  });
  const fhirBaseUrl = `${await listen(fhirApp)}/fhir`;
  const signer = await makeSigner('RS384');
  const dirs: string[] = [];
  const serviceUrl = async (withImaging: boolean): Promise<string> => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-imaging-'));
    dirs.push(dataDir);
    const base = testConfig({ publicBaseUrl: PUBLIC_BASE_URL, dataDir, demo: false, hookWorkers: 0 });
    const config: AppConfig = { ...base, imaging: { ...base.imaging, ...(withImaging ? { dicomWebUrl } : {}) } };
    const logger = createLogger('silent');
    const store = await openStore({ dataDir, logger });
    closers.push(() => store.close());
    const client = { iss: ISSUER, jwks: { keys: [signer.publicJwk] }, fhirServers: [fhirBaseUrl] };
    const app = createApp({
      config, logger, metrics: createMetrics(), store, runtime: createRuntime(config, { logger }),
      verifier: new JwtVerifier({ clients: [client], clockSkewS: config.jwtClockSkewS, logger }),
      configFingerprint: configFingerprint(config, [client], 'memory'), release: releaseId(),
    });
    return listen(app);
  };
  const closers: Array<() => Promise<void>> = [];
  try {
    const urls = { with: await serviceUrl(true), without: await serviceUrl(false) };
    console.log(`\nwarm hook latency over HTTP, ${calls} sequential calls per service and configuration (prefetch sent; HOOK_WORKERS=0)`);
    console.log('hook                  no imaging p50/p90 ms   imaging (warm) p50/p90 ms   ratio p50   DICOM objects named on the cards');
    const cold: string[] = [];
    for (const service of ['cmr-ihd-macce', 'cirrhosis-sarcopenia'] as const) {
      const path = `/cds-services/${service}`;
      const discovery = await fetch(`${urls.without}/cds-services`, { headers: { authorization: `Bearer ${(await signTokens(signer, '/cds-services', 1))[0]}` } });
      const templates = ((await discovery.json()) as { services: Array<{ id: string; prefetch: Record<string, string> }> }).services.find((s) => s.id === service)?.prefetch ?? {};
      const { prefetch } = await buildPrefetch(fhirBaseUrl, templates, patientId);
      const body = JSON.stringify(hookRequest(patientId, { prefetch }));
      const tokens = await signTokens(signer, path, 2 * (calls + 10));
      let t = 0;
      const once = async (url: string): Promise<{ ms: number; dicom: number }> => {
        const started = performance.now();
        const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[t++]}` }, body });
        const text = await res.text();
        const ms = performance.now() - started;
        // Without the archive the CMR service may have nothing to say (its CMR numbers are the archive's).
        if (res.status !== 200 || !text.startsWith('{"cards":[')) {
          console.error('BENCHMARK INVALID', { service, status: res.status });
          process.exitCode = 1;
        }
        // Inputs from the archive, as the cards name them (extension.scores and the inputs tables).
        return { ms, dicom: new Set(text.match(/dicom:[0-9.]+/g) ?? []).size };
      };
      // The first call of each service on each app (cold: empty imaging cache, unoptimised code), then a
      // warm-up: the first imaging call fills the runtime's QIDO and reading caches.
      const firstWithout = await once(urls.without);
      const firstWith = await once(urls.with);
      cold.push(`${service}: first call ${firstWithout.ms.toFixed(1)} ms without imaging, ${firstWith.ms.toFixed(1)} ms with (cold cache)`);
      for (let i = 0; i < 5; i++) { await once(urls.with); await once(urls.without); }
      const times = { with: [] as number[], without: [] as number[] };
      let dicom = 0;
      for (let i = 0; i < calls; i++) {
        const a = await once(urls.without);
        const b = await once(urls.with);
        times.without.push(a.ms);
        times.with.push(b.ms);
        dicom = b.dicom;
      }
      if (dicom === 0) {
        console.error('BENCHMARK INVALID', { service, reason: 'no input from the archive on the cards' });
        process.exitCode = 1;
      }
      const q = (xs: number[], p: number): number => percentile(Float64Array.from(xs).sort(), p * 100);
      const ratio = q(times.with, 0.5) / q(times.without, 0.5);
      console.log(`${service.padEnd(21)} ${`${q(times.without, 0.5).toFixed(1)}/${q(times.without, 0.9).toFixed(1)}`.padStart(21)}   ` +
        `${`${q(times.with, 0.5).toFixed(1)}/${q(times.with, 0.9).toFixed(1)}`.padStart(25)}   ${`${ratio.toFixed(2)}×`.padStart(9)}   ${dicom} (target ≤ 2×: ${ratio <= 2 ? 'met' : 'MISSED'})`);
    }
    for (const line of cold) console.log(line);
  } finally {
    for (const srv of servers) await new Promise<void>((resolve) => srv.close(() => resolve()));
    for (const c of closers) await c();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * The benchmark patient's FHIR chart (Patient id = the archive's PatientID): the demo chronic-IHD and
 * decompensated-cirrhosis charts re-homed to it, without their FHIR imaging results (category
 * imaging), so that the archive's CMR and CT give those inputs.
 */
function chartOf(patientId: string): FhirResource[] {
  const patients = demoPatients(new Date());
  const get = (id: string): FhirResource[] => patients.find((p) => p.id === id)?.resources ?? [];
  const noImaging = (rs: FhirResource[]): FhirResource[] => rs.filter((r) => !(r.resourceType === 'Observation' && JSON.stringify(r.category ?? []).includes('"imaging"')));
  const liver = get('demo-cirrhosis-decompensated');
  const patient = liver.find((r): r is Patient => r.resourceType === 'Patient');
  if (!patient) throw new Error('demo cirrhosis Patient not found');
  return [
    { ...patient, id: patientId },
    ...noImaging(rehome(liver, 'demo-cirrhosis-decompensated', patientId, 'liver')),
    ...noImaging(rehome(get('demo-chronic-ihd'), 'demo-chronic-ihd', patientId, 'ihd')),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) await runImagingBench();
