// Entry point of an evaluation worker thread (hook-runner.ts): builds the thread's runtime (terminology,
// services, wording: src/runtime.ts) once from the same config as the main thread, then evaluates one
// call per message with the same code as the main thread (hook-call.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../logger.ts';
import { createRuntime } from '../runtime.ts';
import { HttpError } from '../errors.ts';
import { evaluateHookCall, movable, toHttpErrorData, type HookCall, type HookCallContext } from './hook-call.ts';
import type { WorkerData, WorkerMessage } from './hook-runner.ts';

const port = parentPort;
if (!port) throw new Error('hook-worker.ts runs only as a worker thread');
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

const { config } = workerData as WorkerData;
// Log lines go to the main thread, which writes them to the one log destination.
const logger = createLogger(config.logLevel, { write: (line: string) => post({ log: line }) });
const runtime = createRuntime(config, { logger });
const ctx: HookCallContext = {
  runtime,
  services: new Map(runtime.services.map((s) => [s.description.id, s])),
  config,
  logger,
  now: () => new Date(),
};

port.on('message', ({ id, call }: { id: number; call: HookCall }) => {
  evaluateHookCall(call, ctx).then(
    (answer) => {
      const body = movable(answer.body);
      post({ id, answer: { ...answer, body } }, [body.buffer]);
    },
    (err: unknown) => {
      if (err instanceof HttpError) return post({ id, error: toHttpErrorData(err) });
      logger.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'unhandled error');
      post({ id, error: { status: 500, code: 'exception', message: 'Internal error' } });
    },
  );
});
post({ ready: true });
