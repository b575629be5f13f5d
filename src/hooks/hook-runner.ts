// Where hook calls are evaluated: on the main thread, or in a pool of worker threads (HOOK_WORKERS).
// Either way each call is one run of the use case (call-service.ts), and its result a value.
//
// Why workers: evaluating a call (JSON parse of a ~100-resource prefetch, models, cards, JSON out)
// is CPU work of about 1–2 ms that would otherwise block the event loop which also serves HTTP,
// checks JWTs, answers /healthz and writes to the database. With workers, a 2-core machine uses
// both cores, and a long evaluation cannot stall the other requests (bench/README.md has figures).
// The main thread keeps everything that is shared state: the JWT replay cache, the database, the
// metrics registry and the log destination. A worker only ever sees one call's bytes and the
// caller's fhirServer allowlist, and sends back bytes, issued-card rows and metric observations.
import type { Worker } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { errorValue, internalError } from '../errors.ts';
import { movable, WorkerRpc, workerEntry } from '../threads/worker-rpc.ts';
import { callService, type CallResult, type CallServiceDeps, type ServiceCall } from './call-service.ts';

export interface HookRunner {
  /** Never rejects: a worker that dies or a pool that is closing answer as error values too. */
  run(call: ServiceCall): Promise<CallResult>;
  close(): Promise<void>;
}

export interface HookWorkerPool extends HookRunner {
  /** The live worker threads, in dispatch order (operations and tests). */
  workers(): readonly Worker[];
}

export function inProcessHookRunner(deps: CallServiceDeps): HookRunner {
  return { run: (call) => callService(call, deps), close: async () => undefined };
}

export interface WorkerData {
  config: AppConfig;
  /** imaging/shared-caches.ts: the process's channel for imaging cache entries. */
  imagingCacheChannel?: string;
}

/** A hook worker's own messages: its pino log lines, for the main thread's one destination. */
export type HookWorkerEvent = string;

type HookWorker = WorkerRpc<ServiceCall, CallResult, HookWorkerEvent>;

const WORKER_URL = workerEntry(import.meta.url, 'hook-worker');
const PINO_LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal',
};
/**
 * A worker that dies is replaced at once; one that dies while starting is retried after 1 s, then
 * less often (a broken install must not spin).
 */
const RESTART = { firstDelayMs: 0, retryDelayMs: 1_000, maxDelayMs: 60_000 };
/**
 * Young generation of each evaluation worker's V8 heap (MB: two semi-spaces and the new large-object
 * space, a third each). Left to V8, it is sized from the machine's memory: 192 MB per isolate in
 * Node's build (no pointer compression) on this 24 GB machine. A call that fetches from the FHIR
 * server keeps its objects alive across scavenges while it waits, V8 then grows the semi-spaces to
 * their maximum and keeps them committed, and each worker held about 130–230 MB of heap of which
 * 25 MB was live: resident memory climbed by 250 MB and more within minutes under a mixed load and
 * did not come back (bench/README.md § Soak). 48 MB keeps the soak's RSS flat; a call's own data
 * is far smaller, and what outlives a scavenge moves to the old generation as before.
 */
export const HOOK_WORKER_YOUNG_GENERATION_MB = 48;
/**
 * The same as a V8 flag: a process-wide --max-semi-space-size (the main thread's, src/node-options.ts)
 * overrides a worker's resourceLimits, and V8 reads the flag when it creates an isolate, so it is set
 * to the workers' size (a third of the young generation) just before they start.
 */
const HOOK_WORKER_SEMI_SPACE_FLAG = `--max-semi-space-size=${HOOK_WORKER_YOUNG_GENERATION_MB / 3}`;

/**
 * Starts `size` workers and resolves once every one has loaded the services and terminology (a
 * broken profile fails the start, as on the main thread). A worker that dies is replaced; the calls
 * it held answer 500.
 */
export async function startHookWorkers(size: number, config: AppConfig, logger: Logger, options: { imagingCacheChannel?: string } = {}): Promise<HookWorkerPool> {
  if (!Number.isInteger(size) || size < 1) throw new Error('startHookWorkers: size must be a positive integer');
  setFlagsFromString(HOOK_WORKER_SEMI_SPACE_FLAG);
  const start = (): Promise<HookWorker> => WorkerRpc.start<ServiceCall, CallResult, HookWorkerEvent>({
    entry: WORKER_URL,
    name: 'hook worker',
    workerData: { config, ...options } satisfies WorkerData,
    resourceLimits: { maxYoungGenerationSizeMb: HOOK_WORKER_YOUNG_GENERATION_MB },
    restart: RESTART,
    stoppedError: () => new Error('The hook worker stopped'),
    onEvent: (line) => relayLog(logger, line),
    // An uncaught exception in the worker: message only (never a stack or request data).
    onError: (err) => logger.error({ err: { name: err.name, message: err.message } }, 'hook worker failed'),
    onStopped: (cause) => logger.error({ err: { message: cause.message } }, 'hook worker exited; starting a new one'),
    onRestartFailed: (err) => logger.error({ err: { message: err.message } }, 'hook worker could not start; retrying'),
  });
  const started = await Promise.allSettled(Array.from({ length: size }, start));
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(workers.map((w) => w.close()));
    throw failed.reason;
  }
  let closing = false;

  return {
    run(call: ServiceCall): Promise<CallResult> {
      // The least busy live worker; ties go to the first, which keeps a lightly loaded pool warm.
      let target: HookWorker | undefined;
      for (const w of workers) if (w.worker && (!target || w.pending < target.pending)) target = w;
      if (!target || closing) return Promise.resolve(restarting());
      const body = movable(call.body);
      return target.call({ ...call, body }, [body.buffer]).catch(workerLost);
    },
    async close() {
      closing = true;
      await Promise.all(workers.map((w) => w.close()));
    },
    workers: () => workers.flatMap((w) => (w.worker ? [w.worker] : [])),
  };
}

function restarting(): CallResult {
  return { ok: false, error: { status: 503, code: 'transient', message: 'The service is restarting; try again' }, observations: [] };
}

/** The worker died holding the call (or it threw, a bug): 500, as for any unexpected error. */
function workerLost(): CallResult {
  return { ok: false, error: errorValue(internalError()), observations: [] };
}

/** A worker's pino line, written through the main logger (one destination, same redaction). */
function relayLog(logger: Logger, line: string): void {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  const { level, msg, time: _time, ...fields } = entry;
  const method = PINO_LEVELS[Number(level)] ?? 'info';
  logger[method](fields, typeof msg === 'string' ? msg : undefined);
}
