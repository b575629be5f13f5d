import { appendFileSync } from 'node:fs';
// Shared by `npm run bench` (run.ts) and `npm run soak` (soak.ts): the child processes (service,
// FHIR servers, echo), the bench client's JWTs, and the hook request bodies built as an EHR would.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export const PUBLIC_BASE_URL = 'https://cds.bench.example';
export const ISSUER = 'https://ehr.bench.example';
export const FHIR_TOKEN = randomBytes(24).toString('base64url');
export const SERVICES = ['cirrhosis-sarcopenia', 'cmr-ihd-macce', 'cmr-cardiac-mass'] as const;
export type ServiceId = (typeof SERVICES)[number];
export type Alg = 'RS384' | 'ES384';

/** A demo chart named as `service:patient` in a setting (BENCH_S_CHART, EVAL_CHARTS). */
export function parseChart(setting: string, text: string): { service: ServiceId; patient: string } {
  const [service, patient] = text.trim().split(':');
  const id = SERVICES.find((s) => s === service);
  if (!id || !patient) throw new Error(`${setting}: '${text}' is not service:patient with a service of ${SERVICES.join(', ')}`);
  return { service: id, patient };
}

// Service configuration variables of src/config.ts: never inherited from the caller's shell.
export const CONFIG_VARS = [
  'PORT', 'HOST', 'PUBLIC_BASE_URL', 'CDS_CLIENTS_FILE', 'CORS_ORIGINS', 'DATABASE_URL', 'DATA_DIR',
  'FETCH_BUDGET_MS', 'LAB_LOOKBACK_DAYS', 'BODY_LOOKBACK_DAYS', 'SMI_CUTOFF_SET', 'ACUTE_MI_WINDOW_DAYS',
  'CMR_T1_REFERENCE_MS', 'CMR_T2_REFERENCE_MS', 'TERMINOLOGY_SITE_DIR', 'BODY_LIMIT', 'DEMO', 'LOG_LEVEL',
  'FRAME_ANCESTORS', 'JWT_CLOCK_SKEW_S', 'HOOK_WORKERS', 'FEEDBACK_COMMENT_RETENTION_DAYS', 'REDIS_URL', 'REDIS_TIMEOUT_MS',
];

// ---------------------------------------------------------------------------------------------------
// Child processes

export interface Child {
  name: string;
  proc: ChildProcess;
  url: string;
  /** Lines the child wrote to stdout (pino logs for the service). */
  logLines: number;
  /** The service's evaluation worker threads (HOOK_WORKERS), as it reported at start-up. */
  hookWorkers?: number;
  lastLog: string[];
}
export const children: Child[] = [];

/** CPU time (user + system) the child has used so far, in ms. */
export function cpuMs(child: Child): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${child.name} did not report its CPU time`)), 5_000);
    const onMessage = (m: { cpu?: { user: number; system: number } }): void => {
      if (!m.cpu) return;
      clearTimeout(timer);
      child.proc.off('message', onMessage);
      resolve((m.cpu.user + m.cpu.system) / 1000);
    };
    child.proc.on('message', onMessage);
    child.proc.send({ cmd: 'cpu' });
  });
}

export function startChild(name: string, script: string, childEnv: NodeJS.ProcessEnv, execArgv: string[] = []): Promise<Child> {
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
      env: childEnv,
      execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const child: Child = { name, proc, url: '', logLines: 0, lastLog: [] };
    children.push(child);
    let buffered = '';
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      // BENCH_SERVICE_STDOUT: keep what the service child writes (e.g. with --trace-gc in its options).
      if (process.env.BENCH_SERVICE_STDOUT && name === 'service') appendFileSync(process.env.BENCH_SERVICE_STDOUT, chunk);
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      child.logLines += lines.length;
      child.lastLog.push(...lines.slice(-5));
      child.lastLog.splice(0, Math.max(0, child.lastLog.length - 5));
    });
    proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      process.stderr.write(chunk.replace(/^(?=.)/gm, `[${name}] `));
    });
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s`)), 60_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited during start-up (code ${code})`));
    });
    proc.on('message', (m: { ready?: boolean; url?: string; hookWorkers?: number }) => {
      if (m.ready && m.url) {
        clearTimeout(timer);
        child.url = m.url;
        child.hookWorkers = m.hookWorkers;
        resolve(child);
      }
    });
  });
}

/** SIGTERM (the service closes its store), SIGKILL after 10 s. Only our own children, by handle. */
export function stopChild(c: Child): Promise<void> {
  return new Promise<void>((resolve) => {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
    const kill = setTimeout(() => c.proc.kill('SIGKILL'), 10_000);
    c.proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    c.proc.kill('SIGTERM');
  });
}

export async function stopChildren(): Promise<void> {
  await Promise.all(children.map(stopChild));
}

// ---------------------------------------------------------------------------------------------------
// Client JWTs (RS384 as Epic by default; ES384 for the variant), one per request

export interface Signer {
  alg: Alg;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeSigner(alg: Alg): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair(alg, alg === 'RS384' ? { modulusLength: 2048 } : {});
  const kid = `bench-${alg.toLowerCase()}`;
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** Tokens signed so far, and the time it took (for the report). */
export const signing = { ms: 0, tokens: 0 };

/** `n` JWTs for calls to `path`, each with its own jti (jose signs on libuv's thread pool: batches). */
export async function signTokens(signer: Signer, path: string, n: number): Promise<string[]> {
  const started = performance.now();
  const out: string[] = [];
  const aud = `${PUBLIC_BASE_URL}${path}`;
  for (let i = 0; i < n; i += 256) {
    const batch: Promise<string>[] = [];
    for (let j = i; j < Math.min(n, i + 256); j++) {
      batch.push(
        new SignJWT({})
          .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'JWT' })
          .setIssuer(ISSUER)
          .setSubject(ISSUER)
          .setAudience(aud)
          .setIssuedAt()
          .setExpirationTime('5m')
          .setJti(randomUUID())
          .sign(signer.privateKey),
      );
    }
    out.push(...(await Promise.all(batch)));
  }
  signing.ms += performance.now() - started;
  signing.tokens += n;
  return out;
}

/** Tokens handed out once each; `cyclic` pools (for the echo server, which checks none) wrap around. */
export class TokenPool {
  private i = 0;
  overdrawn = 0;
  readonly tokens: string[];
  readonly cyclic: boolean;
  constructor(tokens: string[], cyclic = false) {
    if (tokens.length === 0) throw new Error('empty token pool');
    this.tokens = tokens;
    this.cyclic = cyclic;
  }
  next(): string {
    if (this.i < this.tokens.length) return this.tokens[this.i++]!;
    if (this.cyclic) return this.tokens[this.i++ % this.tokens.length]!;
    // Reusing a token makes the service answer 401, which fails the run loudly: never silent.
    this.overdrawn++;
    return this.tokens[this.tokens.length - 1]!;
  }
}

// ---------------------------------------------------------------------------------------------------
// Request bodies

export function hookRequest(patientId: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    hook: 'patient-view',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/bench', patientId },
    ...extra,
  };
}

export function fhirAccess(fhirBaseUrl: string): Record<string, unknown> {
  return {
    fhirServer: fhirBaseUrl,
    fhirAuthorization: { access_token: FHIR_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.rs', subject: 'bench' },
  };
}

export interface PrefetchInfo {
  prefetch: Record<string, unknown>;
  resources: number;
}

/** Executes a service's discovery prefetch templates against the FHIR server, as an EHR would. */
export async function buildPrefetch(fhirBaseUrl: string, templates: Record<string, string>, patientId: string): Promise<PrefetchInfo> {
  const prefetch: Record<string, unknown> = {};
  let resources = 0;
  for (const [key, template] of Object.entries(templates)) {
    if (template.includes('{{context.encounterId}}')) continue;
    const url = `${fhirBaseUrl}/${template.replaceAll('{{context.patientId}}', encodeURIComponent(patientId))}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${FHIR_TOKEN}`, accept: 'application/fhir+json' } });
    if (!res.ok) throw new Error(`prefetch ${key}: FHIR server answered ${res.status}`);
    const body = (await res.json()) as { resourceType: string; entry?: unknown[]; link?: { relation: string }[] };
    if (body.link?.some((l) => l.relation === 'next')) throw new Error(`prefetch ${key}: more than one page`);
    resources += body.resourceType === 'Bundle' ? (body.entry?.length ?? 0) : 1;
    prefetch[key] = body;
  }
  return { prefetch, resources };
}

/** The p-th percentile of sorted values (nearest rank). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** How a good answer starts: the service's non-empty card list, or the echoed request. */
export const CARDS_PREFIX = '{"cards":[{';
export const ECHO_PREFIX = '{"hook":"patient-view"';

/**
 * A run's temp folder, its clean-up (children stopped, folder removed) on return, Ctrl-C or SIGTERM,
 * and a watchdog that stops everything after `limitMs`. `release` undoes the signal handlers.
 */
export function guardRun(name: string, limitMs: number, onCleanup: () => void = () => undefined): { tmp: string; cleanup: () => Promise<void>; release: () => void } {
  const tmp = mkdtempSync(join(tmpdir(), `cds-${name}-`));
  const cleanup = async (): Promise<void> => {
    onCleanup();
    await stopChildren();
    rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = (): void => {
    process.stderr.write(`\n${name}: interrupted, stopping children\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    process.stderr.write(`\n${name}: FAILED — exceeded ${limitMs / 1000} s, stopping\n`);
    void cleanup().finally(() => process.exit(1));
  }, limitMs);
  watchdog.unref();
  const release = (): void => {
    clearTimeout(watchdog);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  return { tmp, cleanup, release };
}

/** The caller's environment without the service's configuration variables (never inherited). */
export function childBaseEnv(): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of CONFIG_VARS) delete base[k];
  return base;
}

/**
 * Two FHIR servers: one with all the data (prefetch bodies are built from it, as an EHR would), and
 * one with only the (a)/(b) patient's chart, which the service calls when a body has no prefetch.
 */
export function startFhirServers(baseEnv: NodeJS.ProcessEnv, now: Date): Promise<[Child, Child]> {
  const fhirEnv = { ...baseEnv, BENCH_NOW: now.toISOString(), BENCH_FHIR_TOKEN: FHIR_TOKEN };
  return Promise.all([
    startChild('fhir', './children/fhir.ts', { ...fhirEnv, BENCH_FHIR_DATA: 'all' }),
    startChild('fhir-b', './children/fhir.ts', { ...fhirEnv, BENCH_FHIR_DATA: 'cirrhosis' }),
  ]);
}

/** The service's discovery document, as an EHR reads it: the prefetch templates of each service. */
export async function discoveryTemplates(serviceUrl: string, signer: Signer): Promise<(id: ServiceId) => Record<string, string>> {
  const [token] = await signTokens(signer, '/cds-services', 1);
  const res = await fetch(`${serviceUrl}/cds-services`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  const discovery = (await res.json()) as { services: { id: string; prefetch?: Record<string, string> }[] };
  return (id) => {
    const s = discovery.services.find((x) => x.id === id);
    if (!s?.prefetch) throw new Error(`service ${id} missing from discovery`);
    return s.prefetch;
  };
}
