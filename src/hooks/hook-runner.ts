// Where hook calls are evaluated: on the main thread, or in a pool of worker threads (HOOK_WORKERS).
//
// Why workers: evaluating a call (JSON parse of a ~100-resource prefetch, models, cards, JSON out)
// is CPU work of about 1–2 ms that would otherwise block the event loop which also serves HTTP,
// checks JWTs, answers /healthz and writes to the database. With workers, a 2-core machine uses
// both cores, and a long evaluation cannot stall the other requests (bench/README.md has figures).
// The main thread keeps everything that is shared state: the JWT replay cache, the database, the
// metrics registry and the log destination. A worker only ever sees one call's bytes and the
// caller's fhirServer allowlist, and sends back bytes, issued-card rows and metric observations.
import { Worker } from 'node:worker_threads';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { HttpError } from '../errors.ts';
import { evaluateHookCall, fromHttpErrorData, movable, type HookAnswer, type HookCall, type HookCallContext, type HttpErrorData } from './hook-call.ts';

export interface HookRunner {
  run(call: HookCall): Promise<HookAnswer>;
  close(): Promise<void>;
}

export interface HookWorkerPool extends HookRunner {
  /** The live worker threads, in dispatch order (operations and tests). */
  workers(): readonly Worker[];
}

export function inProcessHookRunner(ctx: HookCallContext): HookRunner {
  return { run: (call) => evaluateHookCall(call, ctx), close: async () => undefined };
}

/** Messages from a worker (hook-worker.ts). */
export type WorkerMessage =
  | { ready: true }
  | { id: number; answer: HookAnswer }
  | { id: number; error: HttpErrorData }
  | { log: string };

export interface WorkerData {
  config: AppConfig;
}

interface Pending {
  resolve: (a: HookAnswer) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

// The worker runs from source (.ts, Node's type stripping) or from a build (.js), as this module does.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './hook-worker.ts' : './hook-worker.js', import.meta.url);
const PINO_LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal',
};
/** Pause before replacing a worker that died while starting (a broken install must not spin). */
const RESPAWN_DELAY_MS = 1_000;
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
 * Starts `size` workers and resolves once every one has loaded the services and terminology (a
 * broken profile fails the start, as on the main thread). A worker that dies is replaced; the calls
 * it held answer 500.
 */
export async function startHookWorkers(size: number, config: AppConfig, logger: Logger): Promise<HookWorkerPool> {
  if (!Number.isInteger(size) || size < 1) throw new Error('startHookWorkers: size must be a positive integer');
  let closing = false;
  let nextId = 1;
  const slots: Slot[] = [];

  const spawn = (): Promise<Slot> =>
    new Promise<Slot>((resolve, reject) => {
      const worker = new Worker(WORKER_URL, {
        workerData: { config } satisfies WorkerData,
        resourceLimits: { maxYoungGenerationSizeMb: HOOK_WORKER_YOUNG_GENERATION_MB },
      });
      const slot: Slot = { worker, pending: new Map() };
      let ready = false;
      worker.on('message', (m: WorkerMessage) => {
        if ('log' in m) return relayLog(logger, m.log);
        if ('ready' in m) {
          ready = true;
          return resolve(slot);
        }
        const p = slot.pending.get(m.id);
        if (!p) return;
        slot.pending.delete(m.id);
        if ('answer' in m) p.resolve(m.answer);
        else p.reject(fromHttpErrorData(m.error));
      });
      worker.on('error', (err) => {
        // An uncaught exception in the worker: message only (never a stack or request data).
        logger.error({ err: { name: err.name, message: err.message } }, 'hook worker failed');
      });
      worker.on('exit', (code) => {
        for (const p of slot.pending.values()) p.reject(new HttpError(500, 'exception', 'Internal error'));
        slot.pending.clear();
        const i = slots.indexOf(slot);
        if (i >= 0) slots.splice(i, 1);
        if (!ready) return reject(new Error(`hook worker exited during start-up (code ${code})`));
        if (closing) return;
        logger.error({ code }, 'hook worker exited; starting a new one');
        respawn(0);
      });
    });

  const respawn = (delayMs: number): void => {
    setTimeout(() => {
      if (closing) return;
      spawn().then(
        (slot) => { if (closing) void slot.worker.terminate(); else slots.push(slot); },
        (err: Error) => {
          logger.error({ err: { message: err.message } }, 'hook worker could not start; retrying');
          respawn(RESPAWN_DELAY_MS);
        },
      );
    }, delayMs).unref();
  };

  const close = async (): Promise<void> => {
    closing = true;
    await Promise.all(slots.splice(0).map((s) => s.worker.terminate()));
  };

  try {
    slots.push(...(await Promise.all(Array.from({ length: size }, spawn))));
  } catch (err) {
    await close();
    throw err;
  }

  return {
    run(call: HookCall): Promise<HookAnswer> {
      // The least busy worker; ties go to the first, which keeps a lightly loaded pool warm.
      let slot: Slot | undefined;
      for (const s of slots) if (!slot || s.pending.size < slot.pending.size) slot = s;
      if (!slot || closing) return Promise.reject(new HttpError(503, 'transient', 'The service is restarting; try again'));
      const id = nextId++;
      const target = slot;
      return new Promise<HookAnswer>((resolve, reject) => {
        target.pending.set(id, { resolve, reject });
        const body = movable(call.body);
        target.worker.postMessage({ id, call: { ...call, body } }, [body.buffer]);
      });
    },
    close,
    workers: () => slots.map((s) => s.worker),
  };
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
