// Entry point of an evaluation worker thread (hook-runner.ts): loads the terminology and the services
// once, then runs the use case (call-service.ts) for each request, as the main thread would.
import { workerData } from 'node:worker_threads';
import { createLogger } from '../logger.ts';
import { initTerminology } from '../fhir/terminology.ts';
import { allServices } from '../services/registry.ts';
import { emitEvent, movable, serveRequests, type Reply } from '../threads/worker-rpc.ts';
import { callService, type CallResult, type CallServiceDeps, type ServiceCall } from './call-service.ts';
import type { HookWorkerEvent, WorkerData } from './hook-runner.ts';

const { config } = workerData as WorkerData;
initTerminology({ siteDir: config.terminologySiteDir });
// Log lines go to the main thread, which writes them to the one log destination.
const logger = createLogger(config.logLevel, { write: (line: string) => emitEvent<HookWorkerEvent>(line) });
const deps: CallServiceDeps = {
  services: new Map(allServices().map((s) => [s.description.id, s])),
  config,
  logger,
  now: () => new Date(),
};

serveRequests(async (call: ServiceCall): Promise<Reply<CallResult>> => {
  const result = await callService(call, deps);
  if (!result.ok) return { value: result };
  const body = movable(result.body);
  return { value: { ...result, body }, transfer: [body.buffer] };
});
