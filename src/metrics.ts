// Prometheus metrics (GET /metrics): requests and latency per service, backend fetch latency and errors.
import { Registry, Counter, Histogram, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  hookDuration: Histogram<'service' | 'status'>;
  fhirFetchDuration: Histogram<'resource_type' | 'outcome'>;
  fhirFetchErrors: Counter<'resource_type'>;
  prefetchUnavailable: Counter<'service' | 'key'>;
  otherPatientDropped: Counter<'service' | 'resource_type'>;
  imagingReadDuration: Histogram<'service' | 'outcome'>;
  imagingRequests: Counter<'service'>;
  /** The JWT jti claim (src/replay/instrumented.ts): store memory|redis, outcome ok|replay|full|unavailable. */
  replayClaimDuration: Histogram<'store' | 'outcome'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const ms = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
  return {
    registry,
    httpRequests: new Counter({
      name: 'cds_http_requests_total', help: 'HTTP requests by route pattern and status',
      labelNames: ['route', 'method', 'status'], registers: [registry],
    }),
    hookDuration: new Histogram({
      name: 'cds_hook_duration_seconds', help: 'CDS service call latency (auth to response) per service',
      labelNames: ['service', 'status'], buckets: ms, registers: [registry],
    }),
    fhirFetchDuration: new Histogram({
      name: 'cds_fhir_fetch_duration_seconds', help: 'Latency of FHIR fetches made when prefetch was missing',
      labelNames: ['resource_type', 'outcome'], buckets: ms, registers: [registry],
    }),
    fhirFetchErrors: new Counter({
      name: 'cds_fhir_fetch_errors_total', help: 'FHIR fetches that failed or timed out',
      labelNames: ['resource_type'], registers: [registry],
    }),
    prefetchUnavailable: new Counter({
      name: 'cds_prefetch_unavailable_total', help: 'Prefetch keys that could not be obtained',
      labelNames: ['service', 'key'], registers: [registry],
    }),
    otherPatientDropped: new Counter({
      name: 'cds_other_patient_resources_dropped_total',
      help: 'Resources about another patient than context.patientId, dropped before scoring (prefetch or FHIR answers)',
      labelNames: ['service', 'resource_type'], registers: [registry],
    }),
    imagingReadDuration: new Histogram({
      name: 'cds_imaging_read_duration_seconds',
      help: 'Imaging reads of hook calls (DICOMweb archive), by outcome: ok, or why imaging was unavailable',
      labelNames: ['service', 'outcome'], buckets: ms, registers: [registry],
    }),
    imagingRequests: new Counter({
      name: 'cds_imaging_requests_total', help: 'HTTP requests sent to the DICOMweb archive (a warm call sends none)',
      labelNames: ['service'], registers: [registry],
    }),
    replayClaimDuration: new Histogram({
      name: 'cds_jwt_replay_claim_duration_seconds',
      help: 'Time to claim a JWT jti in the replay store (one Redis round trip with REDIS_URL), by outcome',
      labelNames: ['store', 'outcome'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5],
      registers: [registry],
    }),
  };
}
