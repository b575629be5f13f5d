// Entry point of an evaluation worker thread (hook-runner.ts): loads the terminology and the services
// once, then evaluates one call per message with the same code as the main thread (hook-call.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../logger.ts';
import { initTerminology } from '../fhir/terminology.ts';
import { allServices } from '../services/registry.ts';
import { HttpError } from '../errors.ts';
import { evaluateHookCall, movable, toHttpErrorData, type HookCall, type HookCallContext } from './hook-call.ts';
import type { WorkerData, WorkerMessage } from './hook-runner.ts';

const port = parentPort;
if (!port) throw new Error('hook-worker.ts runs only as a worker thread');
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

const { config } = workerData as WorkerData;
initTerminology({ siteDir: config.terminologySiteDir });
// Log lines go to the main thread, which writes them to the one log destination.
const logger = createLogger(config.logLevel, { write: (line: string) => post({ log: line }) });
const ctx: HookCallContext = {
  services: new Map(allServices().map((s) => [s.description.id, s])),
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
