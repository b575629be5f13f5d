// A fingerprint of the settings every instance behind one load balancer must agree on (DESIGN.md,
// Several instances): the trusted-client list (CDS_CLIENTS_FILE: who may call, with which keys, to
// which FHIR servers), the JWT audience and skew, what the scores and cards depend on, the retention
// rules of the shared store, and whether the replay record and the store are shared at all. Shown
// in /readyz and in the start-up log, so that an instance started with another client list (a
// rotation half done, a stale file) is seen by comparing one short string across instances.
//
// No secrets go in (SMART_CLIENT_SECRET, DICOMWEB_AUTHORIZATION, the database and Redis URLs), nor
// what may differ per instance without harm (port, host, data dir, log level, worker threads).
import { createHash } from 'node:crypto';
import type { AppConfig } from './config.ts';
import type { TrustedClient } from './hooks/trusted-clients.ts';

/** The shared-must-agree settings, as hashed (exported for the tests and for a diff by hand). */
export function sharedSettings(config: AppConfig, clients: readonly TrustedClient[], replayStore: 'memory' | 'redis'): Record<string, unknown> {
  const { imaging } = config;
  return {
    trustedClients: [...clients]
      .sort((a, b) => (a.iss < b.iss ? -1 : a.iss > b.iss ? 1 : 0))
      .map((c) => ({
        iss: c.iss,
        jwks: c.jwks ?? null,
        jwksUri: c.jwksUri ?? null,
        fhirServers: [...c.fhirServers].sort(),
        sub: c.sub ? [...c.sub].sort() : null,
      })),
    publicBaseUrl: config.publicBaseUrl,
    jwtClockSkewS: config.jwtClockSkewS,
    replayStore,
    database: config.databaseUrl ? 'postgres' : 'embedded',
    demo: config.demo,
    corsOrigins: config.corsOrigins,
    frameAncestors: config.frameAncestors,
    smartClientId: config.smartClientId,
    smartConfidentialClient: config.smartClientSecret !== undefined,
    bodyLimit: config.bodyLimit,
    fetchBudgetMs: config.fetchBudgetMs,
    fhirResponseMaxBytes: config.fhirResponseMaxBytes,
    labLookbackDays: config.labLookbackDays,
    bodyLookbackDays: config.bodyLookbackDays,
    smiCutoffSet: config.smiCutoffSet,
    acuteMiWindowDays: config.acuteMiWindowDays,
    cmrReferenceRanges: config.cmrReferenceRanges,
    feedbackCommentRetentionDays: config.feedbackCommentRetentionDays ?? null,
    issuedCardRetentionDays: config.issuedCardRetentionDays,
    imaging: {
      dicomWebUrl: imaging.dicomWebUrl ?? null,
      patientIdSystem: imaging.patientIdSystem ?? null,
      viewerUrlTemplate: imaging.viewerUrlTemplate ?? null,
      muscleSegmentLabels: imaging.muscleSegmentLabels,
      l3SegmentLabels: imaging.l3SegmentLabels,
    },
  };
}

/** "sha256:" and the first 16 hex digits of the SHA-256 of the canonical JSON of sharedSettings. */
export function configFingerprint(config: AppConfig, clients: readonly TrustedClient[], replayStore: 'memory' | 'redis'): string {
  const digest = createHash('sha256').update(canonicalJson(sharedSettings(config, clients, replayStore))).digest('hex');
  return `sha256:${digest.slice(0, 16)}`;
}

/** JSON with object keys sorted at every level, so that key order in a file changes nothing. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
