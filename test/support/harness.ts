// A real instance of the service for contract and integration tests: the production app factory,
// a real embedded FHIR server on its own loopback port, a PGlite store, and a trusted test client
// whose JWTs the tests sign (RS384, as Epic does by default).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { FhirResource } from 'fhir/r4.js';
import { createApp } from '../../src/app.ts';
import { testConfig, type AppConfig } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { JwtVerifier, type TrustedClient } from '../../src/hooks/auth.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { createRuntime } from '../../src/runtime.ts';
import { memoryReplayStore, type ReplayStore } from '../../src/hooks/replay-store.ts';
import { configFingerprint, releaseId } from '../../src/config-fingerprint.ts';
import { createEmbeddedFhirServer } from '../../src/fhir/embedded-server.ts';
import { demoPatients, demoResources } from '../../src/demo/patients/index.ts';

export const PUBLIC_BASE_URL = 'https://cds.test';
export const ISSUER = 'https://ehr.test';
/** A second trusted client, with the same FHIR server: feedback on ISSUER's cards is not its to give. */
export const OTHER_ISSUER = 'https://other-ehr.test';
export const FHIR_TOKEN = 'test-fhir-access-token';

export interface Harness {
  app: express.Express;
  config: AppConfig;
  store: Store;
  fhirBaseUrl: string;
  /** A JWT from the trusted test client for the given path (aud = PUBLIC_BASE_URL + path). */
  sign(path: string, claims?: Record<string, unknown>): Promise<string>;
  /** The same from the other trusted client (OTHER_ISSUER). */
  signAsOther(path: string): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(opts: {
  resources?: FhirResource[];
  config?: Partial<AppConfig>;
  now?: Date;
  logger?: Logger;
  /** More FHIR bases on the test client's allowlist (e.g. a misbehaving server of a test). */
  extraFhirServers?: string[];
  /** The JWT replay record (default: the in-process one). */
  replayStore?: ReplayStore;
} = {}): Promise<Harness> {
  const resources = opts.resources ?? demoResources(demoPatients(opts.now ?? new Date()));
  const fhir = await createEmbeddedFhirServer({ resources, accessToken: FHIR_TOKEN, defaultPageSize: 20 });
  const fhirApp = express();
  fhirApp.use('/fhir', fhir.router);
  const fhirServer = await new Promise<Server>((resolve) => {
    const s = fhirApp.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = fhirServer.address();
  const fhirBaseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/fhir`;

  const { publicKey, privateKey } = await generateKeyPair('RS384');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS384', use: 'sig' };
  const client: TrustedClient = { iss: ISSUER, jwks: { keys: [jwk] }, fhirServers: [fhirBaseUrl, ...(opts.extraFhirServers ?? [])] };
  const other = await generateKeyPair('ES384');
  const otherJwk: JWK = { ...(await exportJWK(other.publicKey)), kid: 'other-key', alg: 'ES384', use: 'sig' };
  const otherClient: TrustedClient = { iss: OTHER_ISSUER, jwks: { keys: [otherJwk] }, fhirServers: [fhirBaseUrl] };

  const dataDir = mkdtempSync(join(tmpdir(), 'cds-test-'));
  const config = testConfig({ publicBaseUrl: PUBLIC_BASE_URL, dataDir, demo: false, ...opts.config });
  const logger = opts.logger ?? createLogger('silent');
  const store = await openStore({ dataDir, logger });
  const clients = [client, otherClient];
  const replayStore = opts.replayStore ?? memoryReplayStore();
  const app = createApp({
    config, logger, metrics: createMetrics(), store, runtime: createRuntime(config, { logger }),
    verifier: new JwtVerifier({ clients, clockSkewS: config.jwtClockSkewS, logger, replayStore }),
    configFingerprint: configFingerprint(config, clients, replayStore.kind), release: releaseId(),
  });

  const sign = (path: string, claims: Record<string, unknown> = {}): Promise<string> =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS384', kid: 'test-key', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(ISSUER)
      .setAudience(`${PUBLIC_BASE_URL}${path}`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(randomUUID())
      .sign(privateKey);

  const signAsOther = (path: string): Promise<string> =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid: 'other-key', typ: 'JWT' })
      .setIssuer(OTHER_ISSUER)
      .setAudience(`${PUBLIC_BASE_URL}${path}`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(randomUUID())
      .sign(other.privateKey);

  return {
    app, config, store, fhirBaseUrl, sign, signAsOther,
    close: async () => {
      await new Promise<void>((resolve) => fhirServer.close(() => resolve()));
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A patient-view request body; prefetch is built by the caller. */
export function hookRequest(patientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hook: 'patient-view',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/test', patientId },
    ...extra,
  };
}

export function fhirAccess(h: Harness): Record<string, unknown> {
  return {
    fhirServer: h.fhirBaseUrl,
    fhirAuthorization: { access_token: FHIR_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.rs', subject: 'test' },
  };
}

/** Executes a service's prefetch templates against the test FHIR server, as an EHR would. */
export async function buildPrefetch(h: Harness, templates: Record<string, string>, patientId: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, template] of Object.entries(templates)) {
    if (template.includes('{{context.encounterId}}')) continue;
    const url = `${h.fhirBaseUrl}/${template.replaceAll('{{context.patientId}}', encodeURIComponent(patientId))}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${FHIR_TOKEN}`, accept: 'application/fhir+json' } });
    out[key] = await res.json();
  }
  return out;
}
