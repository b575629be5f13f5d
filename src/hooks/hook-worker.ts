// Entry point of an evaluation worker thread (hook-runner.ts): builds the thread's runtime (terminology,
// services, wording: src/runtime.ts) once from the same config as the main thread, then runs the use
// case (call-service.ts) for each request, as the main thread would.
import { workerData } from 'node:worker_threads';
import { createLogger } from '../logger.ts';
import { createRuntime } from '../runtime.ts';
import { emitEvent, movable, serveRequests, type Reply } from '../threads/worker-rpc.ts';
import { callService, type CallResult, type CallServiceDeps, type ServiceCall } from './call-service.ts';
import type { HookWorkerEvent, WorkerData } from './hook-runner.ts';

const { config, imagingCacheChannel } = workerData as WorkerData;
// Log lines go to the main thread, which writes them to the one log destination.
const logger = createLogger(config.logLevel, { write: (line: string) => emitEvent<HookWorkerEvent>(line) });
const runtime = createRuntime(config, { logger, ...(imagingCacheChannel ? { imagingCacheChannel } : {}) });
const deps: CallServiceDeps = {
  runtime,
  services: new Map(runtime.services.map((s) => [s.description.id, s])),
  config,
  logger,
  now: runtime.now,
};

serveRequests(async (call: ServiceCall): Promise<Reply<CallResult>> => {
  const result = await callService(call, deps);
  if (!result.ok) return { value: result };
  const body = movable(result.body);
  return { value: { ...result, body }, transfer: [body.buffer] };
});
