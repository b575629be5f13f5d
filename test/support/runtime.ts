// Runtimes and evaluations for tests. Building a runtime reads profiles/ and cards/ (as the server does
// once at start-up), so each distinct configuration gets one runtime per test file.
import type { FhirResource } from 'fhir/r4.js';
import { createRuntime, type Runtime } from '../../src/runtime.ts';
import { testConfig, type AppConfig } from '../../src/config.ts';
import { SMART_LAUNCH_PATH } from '../../src/smart/paths.ts';
import { createEvaluation } from '../../src/services/evaluation.ts';
import { createFhirReader, type FhirReader } from '../../src/fhir/reader.ts';
import type { Card } from '../../src/hooks/types.ts';
import type { CallContext, CdsService, Evaluation, ResolvedPrefetch } from '../../src/services/types.ts';

const runtimes = new Map<string, Runtime>();

/** The runtime of a configuration (default: testConfig()), built once per test file. */
export function testRuntime(config: AppConfig = testConfig()): Runtime {
  const key = JSON.stringify(config);
  let runtime = runtimes.get(key);
  if (!runtime) runtimes.set(key, (runtime = createRuntime(config)));
  return runtime;
}

export function serviceOf(runtime: Runtime, id: string): CdsService {
  const service = runtime.services.find((s) => s.description.id === id);
  if (!service) throw new Error(`No service '${id}' in the runtime`);
  return service;
}

/**
 * What the service unit tests describe a call with: the call context and the configuration (and the
 * base URL of the cards' links) the runtime is built from.
 */
export type TestContext = CallContext & { config: AppConfig; publicBaseUrl?: string };

function runtimeFor(ctx: TestContext): Runtime {
  const { config, publicBaseUrl } = ctx;
  return testRuntime(publicBaseUrl === undefined ? config : { ...config, publicBaseUrl, smartLaunchUrl: `${publicBaseUrl}${SMART_LAUNCH_PATH}` });
}

/** An evaluation as the hook use case builds one (its own FHIR reader and cache). */
export function evaluationOf(ctx: TestContext): Evaluation {
  const { config: _config, publicBaseUrl: _base, ...call } = ctx;
  return createEvaluation(runtimeFor(ctx), call);
}

/** The cards of one service for the data, as the hook use case evaluates them. */
export function evaluateService(id: string, data: ResolvedPrefetch, ctx: TestContext): Card[] {
  return serviceOf(runtimeFor(ctx), id).evaluate(data, evaluationOf(ctx));
}

/** A FHIR reader on the default test runtime's terminology and units, with its own cache. */
export function testReader(runtime: Runtime = testRuntime()): FhirReader {
  return createFhirReader(runtime);
}

/** The resources of a chart by prefetch key, as the services' templates would return them. */
export function chartData(resources: readonly FhirResource[]): ResolvedPrefetch {
  const byType = (t: string): FhirResource[] => resources.filter((r) => r.resourceType === t);
  return {
    patient: byType('Patient')[0] ?? null,
    conditions: byType('Condition'),
    observations: byType('Observation'),
    procedures: byType('Procedure'),
    bloodPressure: byType('Observation'),
    encounter: null,
  };
}
