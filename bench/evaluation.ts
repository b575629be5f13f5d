// `npm run bench:evaluation`: what one hook call costs inside an evaluation worker, without HTTP,
// JWT, threads or the store (bench/README.md, "Where a call's CPU goes").
//
// For each demo chart it runs the use case (hooks/call-service.ts `callService`: JSON parse,
// request schema, prefetch, patient scope, the service's inputs, models and cards, JSON out) on one
// thread, in rounds, and prints the wall and CPU time per call beside the floor any server pays for
// the same bytes: JSON.parse of the request and JSON.stringify of it again (what the bench's echo
// does). Single-threaded, with nothing else in the process, it is steadier than the HTTP benchmark:
// the tool for telling whether a change made evaluation cheaper (run before and after back to back:
// the VM's own speed drifts by tens of per cent within minutes).
//
// The npm script runs it with the evaluation workers' 16 MB semi-spaces (hooks/hook-runner.ts).
// Environment (all optional): EVAL_CHARTS (comma list of service:patient), EVAL_CALLS (calls per
// round, default 2000), EVAL_ROUNDS (default 5; the first is a warm-up and not reported).
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { cpuUsage } from 'node:process';
import express from 'express';
import { createEmbeddedFhirServer } from '../src/fhir/embedded-server.ts';
import { createRuntime } from '../src/runtime.ts';
import { testConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { callService, type CallServiceDeps } from '../src/hooks/call-service.ts';
import { benchResources } from './fixtures.ts';
import { FHIR_TOKEN, buildPrefetch, hookRequest, parseChart } from './common.ts';

const DEFAULT_CHARTS = [
  'cmr-ihd-macce:demo-stemi-high-risk', 'cmr-ihd-macce:demo-nstemi', 'cmr-ihd-macce:demo-chronic-ihd',
  'cirrhosis-sarcopenia:demo-cirrhosis-compensated', 'cirrhosis-sarcopenia:demo-cirrhosis-decompensated',
  'cmr-cardiac-mass:demo-mass-malignant',
];
const charts = (process.env.EVAL_CHARTS?.split(',') ?? DEFAULT_CHARTS).map((c) => parseChart('EVAL_CHARTS', c));
const CALLS = Math.max(1, Number(process.env.EVAL_CALLS ?? 2000));
const ROUNDS = Math.max(2, Number(process.env.EVAL_ROUNDS ?? 5));

// The bench's FHIR data (demo patients, the decompensated chart with its older labs), served
// in-process so that each chart's prefetch is built from its service's own templates.
const now = new Date();
const fhir = await createEmbeddedFhirServer({ resources: benchResources(now), accessToken: FHIR_TOKEN });
const app = express();
app.use('/fhir', fhir.router);
const server = await new Promise<Server>((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
const fhirUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/fhir`;

const config = testConfig();
const runtime = createRuntime(config);
const deps: CallServiceDeps = {
  runtime,
  services: new Map(runtime.services.map((s) => [s.description.id, s])),
  config,
  logger: createLogger('warn'),
  now: runtime.now,
};
const caller = { iss: 'https://ehr.bench.example', fhirServers: [] };

// Every body first: the FHIR server's idle keep-alive connections would not outlast the rounds.
const bodies: Buffer[] = [];
for (const { service, patient } of charts) {
  const templates = runtime.services.find((s) => s.description.id === service)?.description.prefetch ?? {};
  const { prefetch } = await buildPrefetch(fhirUrl, templates, patient);
  bodies.push(Buffer.from(JSON.stringify(hookRequest(patient, { prefetch }))));
}
server.close();

console.log(`Evaluation in process — Node ${process.version}, ${CALLS} calls per round, ${ROUNDS - 1} measured rounds after a warm-up`);
console.log('chart                                              in kB  out kB  wall ms/call  cpu ms/call        JSON floor ms');
for (const [index, { service, patient }] of charts.entries()) {
  const body = bodies[index]!;
  const call = { serviceId: service, body, caller };
  const first = await callService(call, deps);
  if (!first.ok) throw new Error(`${service}:${patient} answered ${first.error.status}: ${first.error.message}`);
  const wall: number[] = [];
  const cpu: number[] = [];
  const floor: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    const c0 = cpuUsage();
    for (let i = 0; i < CALLS; i++) await callService(call, deps);
    const c = cpuUsage(c0);
    const t1 = performance.now();
    for (let i = 0; i < CALLS; i++) Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))));
    if (round === 0) continue;
    wall.push((t1 - t0) / CALLS);
    cpu.push((c.user + c.system) / 1000 / CALLS);
    floor.push((performance.now() - t1) / CALLS);
  }
  const range = (xs: number[]): string => `${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)}`;
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const name = `${service}:${patient}`.padEnd(48);
  console.log(`${name} ${(body.length / 1024).toFixed(1).padStart(6)} ${(first.body.length / 1024).toFixed(1).padStart(7)} ${median(wall).toFixed(3).padStart(13)}  ${range(cpu).padEnd(17)}  ${median(floor).toFixed(3)}`);
}
