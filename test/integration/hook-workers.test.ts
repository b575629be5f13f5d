// The evaluation worker threads (src/hooks/hook-runner.ts), as real threads running the source: they
// answer exactly as the main thread does, errors cross back as the same error values, the metric
// observations, issued cards and log lines reach the main thread, and a worker that dies is replaced.
import { Writable } from 'node:stream';
import { SERVICES } from '../../src/services/registry.ts';
import { createRuntime } from '../../src/runtime.ts';
import { createLogger } from '../../src/logger.ts';
import type { ErrorValue } from '../../src/errors.ts';
import { Worker } from 'node:worker_threads';
import { HOOK_WORKER_YOUNG_GENERATION_MB, inProcessHookRunner, startHookWorkers, type HookWorkerPool } from '../../src/hooks/hook-runner.ts';
import type { CallAnswer, CallFailure, CallResult, ServiceCall } from '../../src/hooks/call-service.ts';
import { FHIR_TOKEN, fhirAccess, hookRequest, startHarness, type Harness } from '../support/harness.ts';

let h: Harness;
let pool: HookWorkerPool;
const logLines: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  pool = await startHookWorkers(2, { ...h.config, logLevel: 'debug' }, createLogger('debug', sink));
}, 60_000);

afterAll(async () => {
  await pool?.close();
  await h?.close();
});

const call = (serviceId: string, body: unknown): ServiceCall => ({
  serviceId,
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  caller: { iss: 'https://ehr.test', fhirServers: [h.fhirBaseUrl] },
});

/** The answer of a call that must succeed. */
function answered(r: CallResult): CallAnswer {
  if (!r.ok) throw new Error(`expected an answer, got ${r.error.status}: ${r.error.message}`);
  return r;
}

/** The error of a call that must fail. */
function failure(r: CallResult): CallFailure {
  if (r.ok) throw new Error('expected an error, got an answer');
  return r;
}

/** What a clinician sees of the cards; uuids and the evaluation instant differ between two runs. */
function visible(a: CallAnswer): unknown {
  const { cards } = JSON.parse(Buffer.from(a.body).toString('utf8')) as { cards: Array<Record<string, unknown>> };
  return cards.map(({ summary, indicator, detail, source, extension }) => ({ summary, indicator, detail, source, extension }));
}

test('workers answer every demo patient exactly as the main thread does', async () => {
  const runtime = createRuntime(h.config);
  const inProcess = inProcessHookRunner({
    runtime,
    services: new Map(runtime.services.map((s) => [s.description.id, s])),
    config: h.config,
    logger: createLogger('silent'),
    now: () => new Date(),
  });
  const patients = ['demo-cirrhosis-decompensated', 'demo-cirrhosis-compensated', 'demo-cirrhosis-missing-labs', 'demo-no-liver-disease',
    'demo-stemi-high-risk', 'demo-chronic-ihd', 'demo-mass-malignant', 'demo-mass-thrombus'];
  let cards = 0;
  for (const id of SERVICES.map((s) => s.id)) {
    for (const pid of patients) {
      const body = hookRequest(pid, fhirAccess(h));
      const [fromWorker, fromMain] = await Promise.all([pool.run(call(id, body)).then(answered), inProcess.run(call(id, body)).then(answered)]);
      expect(visible(fromWorker)).toEqual(visible(fromMain));
      expect(fromWorker.issuedCards.map((r) => r.cardKind)).toEqual(fromMain.issuedCards.map((r) => r.cardKind));
      cards += fromWorker.issuedCards.length;
    }
  }
  expect(cards).toBeGreaterThan(8); // the comparison covered real cards, not only empty answers
}, 60_000);

test('issued cards and metric observations come back with the answer', async () => {
  const answer = answered(await pool.run(call('cmr-ihd-macce', hookRequest('demo-stemi-high-risk', fhirAccess(h)))));
  expect(answer.issuedCards.length).toBeGreaterThan(0);
  // A Date after the structured clone (of the test runner's realm, hence no instanceof).
  expect(Object.prototype.toString.call(answer.issuedCards[0]?.issuedAt)).toBe('[object Date]');
  expect(answer.observations).toEqual(expect.arrayContaining([
    { kind: 'fhir-fetch', resourceType: 'Observation', ms: expect.any(Number), ok: true },
    // patient-view carries no encounterId: the encounter key cannot be built
    { kind: 'prefetch-unavailable', service: 'cmr-ihd-macce', key: 'encounter' },
  ]));
});

test('bytes cross between threads by transfer: a body that owns its memory moves, a pooled one is copied; answers carry only their bytes', async () => {
  // From half of Buffer.poolSize, Buffer.from allocates the body its own ArrayBuffer: after dispatch it is detached.
  const large = call('cmr-ihd-macce', { ...hookRequest('demo-stemi-high-risk', fhirAccess(h)), extension: { padding: 'x'.repeat(Buffer.poolSize) } });
  const largeAnswer = answered(await pool.run(large));
  expect(large.body.byteLength).toBe(0);
  expect(largeAnswer.issuedCards.length).toBeGreaterThan(0);
  // The answer (under 32 kB, so cut from the worker's buffer pool) arrives without the pool around it.
  expect(largeAnswer.body.byteLength).toBeLessThan(Buffer.poolSize / 2);
  expect(largeAnswer.body.buffer.byteLength).toBe(largeAnswer.body.byteLength);
  // A small body shares Node's buffer pool with other data: it must stay intact where it is.
  const small = call('cmr-ihd-macce', hookRequest('demo-stemi-high-risk', fhirAccess(h)));
  expect(small.body.byteLength).toBeLessThan(Buffer.poolSize / 2);
  const before = Buffer.from(small.body).toString('utf8');
  await pool.run(small);
  expect(Buffer.from(small.body).toString('utf8')).toBe(before);
});

test.each([
  ['not JSON', '{"hook":', 400, 'Request body is not valid JSON'],
  ['wrong hook', { ...hookRequest('demo-chronic-ihd'), hook: 'order-sign' }, 400, /answers the 'patient-view' hook/],
  ['required data unavailable', hookRequest('demo-chronic-ihd'), 412, /Required data could not be obtained/],
])('errors cross back as the same error values: %s', async (_name, body, status, message) => {
  const err: ErrorValue = failure(await pool.run(call('cmr-ihd-macce', body))).error;
  expect(err.status).toBe(status);
  expect(err.message).toMatch(message);
});

test('a 412 brings its metric observations back too (which keys were unavailable)', async () => {
  const err = failure(await pool.run(call('cmr-ihd-macce', hookRequest('demo-chronic-ihd'))));
  expect(err.error.status).toBe(412);
  expect(err.observations).toEqual(expect.arrayContaining([
    { kind: 'prefetch-unavailable', service: 'cmr-ihd-macce', key: 'patient' },
  ]));
});

test("the workers' log lines reach the main logger, without the FHIR access token", async () => {
  const body = hookRequest('demo-cirrhosis-decompensated', fhirAccess(h));
  await pool.run(call('cirrhosis-sarcopenia', body));
  const mine = logLines.filter((l) => l.includes(String(body.hookInstance)));
  expect(mine.some((l) => JSON.parse(l).msg === 'evaluated')).toBe(true);
  expect(logLines.join('\n')).not.toContain(FHIR_TOKEN);
});

test('a worker that dies: its calls answer 500, a new worker takes its place', async () => {
  const [victim] = pool.workers();
  const body = hookRequest('demo-cirrhosis-decompensated', fhirAccess(h));
  // Terminated while the call waits on the FHIR server: the call must fail, not hang.
  const pending = pool.run(call('cirrhosis-sarcopenia', body));
  await victim?.terminate();
  const err = failure(await pending).error;
  // Both workers were idle, so the call went to the first one (ties go to the first).
  expect(err.status).toBe(500);
  for (let i = 0; i < 100 && pool.workers().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  expect(pool.workers()).toHaveLength(2);
  expect(pool.workers()).not.toContain(victim);
  const answers = await Promise.all([1, 2, 3, 4].map(() => pool.run(call('cirrhosis-sarcopenia', hookRequest('demo-cirrhosis-decompensated', fhirAccess(h))))));
  expect(answers.every((a) => answered(a).issuedCards.length > 0)).toBe(true);
}, 30_000);

test("every worker's young generation is capped, a replacement's too (V8's own size grew each worker's heap by 100–200 MB under load)", async () => {
  // V8's default for a thread of this process, for comparison: the cap must be below it to matter.
  const plain = new Worker('setInterval(() => undefined, 1000)', { eval: true });
  await new Promise((resolve) => plain.once('online', resolve));
  const v8Default = plain.resourceLimits?.maxYoungGenerationSizeMb ?? 0;
  await plain.terminate();
  expect(HOOK_WORKER_YOUNG_GENERATION_MB).toBeLessThan(v8Default);
  // The pool's workers include the one started after a worker died (test above).
  expect(pool.workers()).toHaveLength(2);
  for (const w of pool.workers()) expect(w.resourceLimits?.maxYoungGenerationSizeMb).toBe(HOOK_WORKER_YOUNG_GENERATION_MB);
});
