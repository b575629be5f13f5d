// Entry point: config -> dependencies -> app -> listen. With no configuration it runs the embedded
// demo (DEMO defaults to true): an in-process FHIR server, demo patients and a demo EHR page at '/'.
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { loadConfig, withArchiveShare, type AppConfig } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { createApp } from './app.ts';
import { JwtVerifier, loadTrustedClients, type TrustedClient } from './hooks/auth.ts';
import { openStore } from './store/store.ts';
import { createRuntime } from './runtime.ts';
import { createDemo } from './demo/index.ts';
import { startDemoArchive } from './demo/imaging/demo-archive.ts';
import { startHookWorkers } from './hooks/hook-runner.ts';
import { memoryReplayStore, type ReplayStore } from './hooks/replay-store.ts';
import { openRedisReplayStore } from './replay/redis-replay-store.ts';
import { instrumentReplayStore } from './replay/instrumented.ts';
import { configFingerprint, releaseId } from './config-fingerprint.ts';

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Builds every dependency and starts listening (also used by integration tests and the benchmark). */
export async function startServer(givenConfig: AppConfig, logger: Logger = createLogger(givenConfig.logLevel)): Promise<RunningServer> {
  // What has been started, stopped in reverse order by close(), or at once when a later step fails.
  const started: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of started.splice(0).reverse()) await stop();
  };
  try {
    const { server, port } = await build(givenConfig, logger, started);
    return {
      server,
      url: `http://127.0.0.1:${port}`,
      close: async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function build(givenConfig: AppConfig, logger: Logger, started: Array<() => Promise<void>>): Promise<{ server: Server; port: number }> {
  // The embedded demo's imaging archive (a private Orthanc on loopback, loaded with the demo studies)
  // starts first, in its own process, while the rest is built; without Orthanc the demo runs without
  // imaging and its page says why (demo/imaging/demo-archive.ts). A configured DICOMWEB_URL wins.
  const demoNow = new Date();
  const archive = givenConfig.demo && !givenConfig.imaging.dicomWebUrl
    ? startDemoArchive({ now: demoNow }, { binary: givenConfig.demoOrthancBinary })
    : undefined;
  started.push(async () => {
    const a = await archive;
    if (a?.ok) await a.stop();
  });
  let config = givenConfig;
  const demo = config.demo ? await createDemo({ config, now: demoNow, imaging: archive }) : undefined;
  const a = await archive;
  if (a) {
    if (a.ok) config = { ...config, imaging: { ...config.imaging, dicomWebUrl: a.dicomWebUrl, patientIdSystem: a.patientIdSystem } };
    logger.info(a.ok ? { demoImaging: 'orthanc', instances: a.instances } : { demoImaging: 'off', reason: a.reason }, 'demo imaging archive');
  }
  // Terminology, services and their wording now, so a broken ValueSet or wording file fails the
  // start, not a call. Each hook worker builds its own runtime from the same configuration (with its
  // share of the archive's concurrency: withArchiveShare).
  // The threads share what they read from the archive (imaging/shared-caches.ts), on a channel of
  // this start only.
  const imagingCacheChannel = `imaging-cache-${randomUUID()}`;
  const runtime = createRuntime(withArchiveShare(config, config.hookWorkers + 1), { logger, imagingCacheChannel });
  started.push(async () => runtime.imaging.close());
  const clients: TrustedClient[] = config.cdsClientsFile ? loadTrustedClients(config.cdsClientsFile) : [];
  if (demo) clients.push(demo.trustedClient);
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    logger,
    commentRetentionDays: config.feedbackCommentRetentionDays,
    issuedCardRetentionDays: config.issuedCardRetentionDays,
  });
  started.push(() => store.close());
  const services = runtime.services;
  // The JWT replay record: Redis when several instances serve the same clients (REDIS_URL), else
  // this process's own cache (one instance only: docs/deployment.md).
  const metrics = createMetrics();
  const replay: ReplayStore = instrumentReplayStore(config.redisUrl
    ? await openRedisReplayStore({ url: config.redisUrl, commandTimeoutMs: config.redisTimeoutMs, logger })
    : memoryReplayStore(), metrics.replayClaimDuration);
  started.push(() => replay.close());
  const hookRunner = config.hookWorkers > 0 ? await startHookWorkers(config.hookWorkers, runtime.config, logger, { imagingCacheChannel }) : undefined;
  if (hookRunner) started.push(() => hookRunner.close());
  const fingerprint = configFingerprint(config, clients, replay.kind);
  const release = releaseId();
  const app = createApp({
    config,
    logger,
    metrics,
    verifier: new JwtVerifier({ clients, clockSkewS: config.jwtClockSkewS, logger, replayStore: replay }),
    store,
    configFingerprint: fingerprint,
    release,
    runtime,
    demoRouter: demo?.router,
    hookRunner,
    // A SMART launch may name any FHIR server a trusted EHR may send (the demo's included).
    smartIssuers: clients.flatMap((c) => c.fhirServers),
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // The fingerprint of the shared-must-agree settings: equal on every instance behind one balancer;
  // the release: equal on every instance once a rolling upgrade is done.
  logger.info({
    port, demo: config.demo, hookWorkers: config.hookWorkers, services: services.map((s) => s.description.id),
    configFingerprint: fingerprint, release, replayStore: replay.kind, trustedClients: clients.length,
  }, 'listening');
  return { server, port };
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  const running = await startServer(config, logger);
  if (config.demo) logger.info(`Demo EHR: ${config.publicBaseUrl}/`);
  const shutdown = (): void => {
    running.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`Start-up failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
