// `npm run bench:imaging`: the imaging layer against a private Orthanc (Debian orthanc +
// orthanc-dicomweb) loaded with the benchmark patient (src/demo/imaging/bench-scenario.ts: 3 CMR
// studies of 15 series × 50 instances, 1 CT with a SEG). Prints, per readImaging call, the HTTP
// requests, the sequential round-trip depth and the bytes received, split by kind, cold (a new
// runtime: empty cache) and warm (the same runtime again). Phase 2 of issue 13 folds this into
// `npm run bench`. Environment: BENCH_IMAGING_RUNS (default 5).
import { startOrthanc } from '../src/demo/imaging/orthanc-process.ts';
import { benchImagingPatient } from '../src/demo/imaging/bench-scenario.ts';
import { createImagingRuntime } from '../src/imaging/imaging-runtime.ts';
import { readImaging } from '../src/imaging/imaging-reader.ts';
import { loadTerminology, DEFAULT_PROFILES_DIR } from '../src/fhir/terminology.ts';
import { testConfig } from '../src/config.ts';
import type { ImagingResult } from '../src/imaging/types.ts';

const runs = Number(process.env.BENCH_IMAGING_RUNS ?? 5);
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
  console.log(`Orthanc ${orthanc.dicomWebUrl.replace(/^http:\/\/127\.0\.0\.1:\d+/, '(loopback)')}: ${scenario.files.length} instances ` +
    `(${scenario.counts.cmrStudies} CMR studies × ${scenario.counts.seriesPerStudy} series × ${scenario.counts.instancesPerSeries} instances + SRs; ` +
    `CT ${scenario.counts.ctSlices} slices + SEG) loaded in ${setupS} s`);

  const terminology = loadTerminology([DEFAULT_PROFILES_DIR]);
  const logger = { warn: (fields: object, message: string) => console.error(message, fields) };
  const config = { ...testConfig().imaging, dicomWebUrl: orthanc.dicomWebUrl };
  const check = (r: ImagingResult): void => {
    const lvef = r.cmr.inputs.lvef?.value;
    const area = r.ct.inputs.muscleArea?.value;
    if (r.unavailable || lvef !== scenario.expected.lvef || area !== scenario.expected.muscleAreaCm2) {
      console.error('BENCHMARK INVALID', { unavailable: r.unavailable, lvef, area, expected: scenario.expected });
      process.exitCode = 1;
    }
  };
  const rows: Array<{ phase: string; r: ImagingResult }> = [];
  for (let i = 0; i < runs; i++) {
    const runtime = createImagingRuntime(config, { terminology, logger });
    const cold = await readImaging(runtime, { patientId: scenario.patientId, signal: AbortSignal.timeout(10_000) });
    const warm = await readImaging(runtime, { patientId: scenario.patientId, signal: AbortSignal.timeout(10_000) });
    check(cold);
    check(warm);
    rows.push({ phase: 'cold', r: cold }, { phase: 'warm', r: warm });
  }
  const kb = (b: number): string => (b / 1024).toFixed(1);
  console.log('\nphase  requests  depth  bytes (KiB)  qido       metadata   instance(SEG)  frames      ms');
  for (const { phase, r } of rows) {
    const k = r.stats.byKind;
    const cell = (x: { requests: number; bytes: number }): string => `${x.requests}/${kb(x.bytes)}`.padEnd(11);
    console.log(`${phase.padEnd(6)} ${String(r.stats.requests).padStart(8)}  ${String(r.stats.depth).padStart(5)}  ${kb(r.stats.bytes).padStart(11)}  ` +
      `${cell(k.qido)}${cell(k.metadata)}${cell(k.instance).padEnd(15)}${cell(k.frames)} ${r.stats.elapsedMs.toFixed(0).padStart(4)}`);
  }
  const ms = (phase: string): number[] => rows.filter((x) => x.phase === phase).map((x) => x.r.stats.elapsedMs).sort((a, b) => a - b);
  for (const phase of ['cold', 'warm']) {
    const xs = ms(phase);
    console.log(`${phase}: ${xs[0]?.toFixed(1)}–${xs.at(-1)?.toFixed(1)} ms (median ${xs[Math.floor(xs.length / 2)]?.toFixed(1)}) over ${xs.length} calls`);
  }
  console.log('(kind cells: requests/KiB; depth = sequential round trips; targets: depth ≤ 3, pixels only from the SEG and its L3 frame)');
} finally {
  await orthanc.stop();
}
