// A fingerprint of the settings every instance behind one load balancer must agree on (DESIGN.md,
// Several instances): the trusted-client list (CDS_CLIENTS_FILE: who may call, with which keys, to
// which FHIR servers), the JWT audience and skew, what the scores and cards depend on, the retention
// rules of the shared store, and whether the replay record and the store are shared at all. Shown
// in /readyz and in the start-up log, so that an instance started with another client list (a
// rotation half done, a stale file) is seen by comparing one short string across instances.
//
// The clinical content goes in as digests of its files: the terminology (profiles/ and
// TERMINOLOGY_SITE_DIR) and the card wording (cards/), since two instances with other ValueSets or
// other wording answer the same call differently.
//
// No secrets go in (SMART_CLIENT_SECRET, DICOMWEB_AUTHORIZATION, the database and Redis URLs), nor
// what may differ per instance without harm (port, host, data dir, log level, worker threads), nor
// the code: releaseId names that apart, since two releases side by side are a rolling upgrade.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppConfig } from './config.ts';
import { DEFAULT_PROFILES_DIR } from './fhir/terminology.ts';
import { DEFAULT_CARDS_DIR } from './services/card-wording.ts';
import type { TrustedClient } from './hooks/trusted-clients.ts';

/** Digests of the files the scores and cards are made of (contentDigest of each folder). */
export interface ContentDigests {
  profiles: string;
  cards: string;
  /** TERMINOLOGY_SITE_DIR's, or null when unset. */
  siteTerminology: string | null;
}

/**
 * SHA-256 (first 16 hex digits) over every file under `dir`, in path order, each as its path
 * relative to `dir` and its bytes: equal on two hosts exactly when the folders hold the same files.
 */
export function contentDigest(dir: string): string {
  const hash = createHash('sha256');
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  for (const file of files) {
    const bytes = readFileSync(file);
    hash.update(`${relative(dir, file).split(sep).join('/')}\0${bytes.length}\0`).update(bytes);
  }
  return hash.digest('hex').slice(0, 16);
}

/** The digests of the folders this configuration reads its terminology and wording from. */
export function clinicalContent(config: AppConfig): ContentDigests {
  return {
    profiles: contentDigest(DEFAULT_PROFILES_DIR),
    cards: contentDigest(DEFAULT_CARDS_DIR),
    siteTerminology: config.terminologySiteDir ? contentDigest(config.terminologySiteDir) : null,
  };
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Which release this instance runs, for /readyz and the start-up log beside the fingerprint:
 * package.json's version and a digest of the code (`src/`) and of the locked dependencies
 * (`package-lock.json`). Two instances of one release show the same value whatever their settings;
 * during a rolling upgrade two values are expected, after it one. Kept out of the fingerprint, which
 * names a configuration mistake: a second release is not one.
 */
export function releaseId(root: string = ROOT): string {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const hash = createHash('sha256').update(contentDigest(join(root, 'src'))).update(readFileSync(join(root, 'package-lock.json')));
  return `${version}+sha256:${hash.digest('hex').slice(0, 16)}`;
}

/** The shared-must-agree settings, as hashed (exported for the tests and for a diff by hand). */
export function sharedSettings(config: AppConfig, clients: readonly TrustedClient[], replayStore: 'memory' | 'redis'): Record<string, unknown> {
  const { imaging } = config;
  return {
    content: clinicalContent(config),
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
