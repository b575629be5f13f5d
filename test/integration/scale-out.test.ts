// Several instances behind a load balancer, on shared PostgreSQL and Redis (issue 15; DESIGN.md,
// Several instances). Everything is real and on loopback: a private PostgreSQL cluster, a private
// Redis, HAProxy health-checking /readyz, and service instances as child processes of
// src/server.ts configured by their environment, as in production.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import express from 'express';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import pg from 'pg';
import { createEmbeddedFhirServer } from '../../src/fhir/embedded-server.ts';
import { demoPatients, demoResources } from '../../src/demo/patients/index.ts';
import { freePort } from '../../src/demo/free-port.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { startHaproxy, type Haproxy } from '../support/haproxy.ts';
import { startInstance, type ServiceInstance } from '../support/service-instance.ts';

jest.setTimeout(120_000);

const ISSUER = 'https://ehr.scale.example';
const OTHER_ISSUER = 'https://other-ehr.scale.example';
const SERVICE = 'cirrhosis-sarcopenia';
const PATIENT = 'demo-cirrhosis-decompensated';
const SERVICE_PATH = `/cds-services/${SERVICE}`;
const FEEDBACK_PATH = `${SERVICE_PATH}/feedback`;

let postgres: PostgresServer;
let redis: RedisServer;
let haproxy: Haproxy;
let db: pg.Pool;
let a: ServiceInstance;
let b: ServiceInstance;
let c: ServiceInstance;
let privateKey: CryptoKey;
let publicBaseUrl: string;
let hookBody: string;
const tmp = mkdtempSync(join(tmpdir(), 'cds-scale-'));

async function sign(path: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS384', kid: 'scale-key', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(`${publicBaseUrl}${path}`)
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti(randomUUID())
    .sign(privateKey);
}

async function post(base: string, path: string, body: string, token?: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? (await sign(path))}` },
    body,
  });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, json };
}

async function readyz(base: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const hookCall = (): string => JSON.stringify({ ...(JSON.parse(hookBody) as object), hookInstance: randomUUID() });
const feedbackOn = (card: string, outcomeTimestamp = new Date().toISOString()): string =>
  JSON.stringify({ feedback: [{ card, outcome: 'accepted', outcomeTimestamp }] });
const firstCard = (json: unknown): string => (json as { cards: { uuid: string }[] }).cards[0]!.uuid;

beforeAll(async () => {
  const [pgServer, redisServer, keys] = await Promise.all([startPostgres({ database: 'cds_scale' }), startRedis(), generateKeyPair('RS384')]);
  postgres = pgServer;
  redis = redisServer;
  privateKey = keys.privateKey;
  db = new pg.Pool({ connectionString: postgres.url, max: 2 });

  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'scale-key', alg: 'RS384', use: 'sig' };
  const client = { iss: ISSUER, jwks: { keys: [jwk] }, fhirServers: ['https://ehr.scale.example/fhir'] };
  const clientsFile = join(tmp, 'clients.json');
  writeFileSync(clientsFile, JSON.stringify([client]));
  // The same list plus one more EHR: what a half-done client-list rotation looks like.
  const other = await generateKeyPair('ES384');
  const otherClientsFile = join(tmp, 'clients-other.json');
  writeFileSync(otherClientsFile, JSON.stringify([client, {
    iss: OTHER_ISSUER, jwks: { keys: [{ ...(await exportJWK(other.publicKey)), kid: 'o', alg: 'ES384', use: 'sig' }] }, fhirServers: [],
  }]));

  const [portA, portB, portC] = [await freePort(), await freePort(), await freePort()];
  haproxy = await startHaproxy({ backends: [{ name: 'a', port: portA }, { name: 'b', port: portB }] });
  publicBaseUrl = haproxy.url;
  const env = {
    DEMO: 'false', PUBLIC_BASE_URL: publicBaseUrl, DATABASE_URL: postgres.url, REDIS_URL: redis.url,
    CDS_CLIENTS_FILE: clientsFile, DATA_DIR: join(tmp, 'unused'),
  };
  [a, b, c] = await Promise.all([
    startInstance('a', portA, env),
    startInstance('b', portB, env),
    // Not behind the balancer: started with another client list, it must be told apart.
    startInstance('c', portC, { ...env, CDS_CLIENTS_FILE: otherClientsFile }),
  ]);
  await haproxy.waitFor({ a: 'UP', b: 'UP' });

  // The hook request an EHR would send: prefetch built by running the service's discovery
  // templates (read through the balancer) against the demo chart on an embedded FHIR server.
  const discovery = (await (await fetch(`${publicBaseUrl}/cds-services`, { headers: { authorization: `Bearer ${await sign('/cds-services')}` } })).json()) as
    { services: { id: string; prefetch?: Record<string, string> }[] };
  const templates = discovery.services.find((s) => s.id === SERVICE)!.prefetch!;
  const fhir = await createEmbeddedFhirServer({ resources: demoResources(demoPatients(new Date())), accessToken: 'fhir-token', defaultPageSize: 100 });
  const fhirApp = express();
  fhirApp.use('/fhir', fhir.router);
  const fhirServer = await new Promise<Server>((resolve) => { const s = fhirApp.listen(0, '127.0.0.1', () => resolve(s)); });
  const address = fhirServer.address();
  const fhirBase = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/fhir`;
  const prefetch: Record<string, unknown> = {};
  for (const [key, template] of Object.entries(templates)) {
    if (template.includes('{{context.encounterId}}')) continue;
    const res = await fetch(`${fhirBase}/${template.replaceAll('{{context.patientId}}', PATIENT)}`, { headers: { authorization: 'Bearer fhir-token' } });
    prefetch[key] = await res.json();
  }
  await new Promise<void>((resolve) => fhirServer.close(() => resolve()));
  hookBody = JSON.stringify({ hook: 'patient-view', hookInstance: randomUUID(), context: { userId: 'Practitioner/test', patientId: PATIENT }, prefetch });
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  await haproxy?.close();
  await db?.end();
  await redis?.close();
  await postgres?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('several instances behind HAProxy, on shared PostgreSQL and Redis', () => {
  test('a hook call through the balancer answers with cards', async () => {
    const res = await post(publicBaseUrl, SERVICE_PATH, hookCall());
    expect(res.status).toBe(200);
    expect((res.json as { cards: unknown[] }).cards.length).toBeGreaterThan(0);
  });

  test('a token accepted by one instance is refused by another (shared jti record)', async () => {
    const token = await sign(SERVICE_PATH);
    expect((await post(a.url, SERVICE_PATH, hookCall(), token)).status).toBe(200);
    expect((await post(b.url, SERVICE_PATH, hookCall(), token)).status).toBe(401);
    // Presented to both at the same moment: exactly one accepts it.
    for (let i = 0; i < 5; i++) {
      const same = await sign(SERVICE_PATH);
      const statuses = (await Promise.all([post(a.url, SERVICE_PATH, hookCall(), same), post(b.url, SERVICE_PATH, hookCall(), same)])).map((r) => r.status).sort();
      expect(statuses).toEqual([200, 401]);
    }
  });

  test('the same feedback sent through two instances is stored once', async () => {
    const issued = await post(a.url, SERVICE_PATH, hookCall());
    expect(issued.status).toBe(200);
    const card = firstCard(issued.json);
    const body = feedbackOn(card);
    // Card issued by a, feedback at a and b at once: b has to find a's card in the database.
    const [viaA, viaB] = await Promise.all([post(a.url, FEEDBACK_PATH, body), post(b.url, FEEDBACK_PATH, body)]);
    expect([viaA.status, viaB.status]).toEqual([200, 200]);
    const results = [viaA.json, viaB.json] as { stored: number; duplicates: number }[];
    expect(results.map((r) => r.stored).sort()).toEqual([0, 1]);
    expect(results.map((r) => r.duplicates).sort()).toEqual([0, 1]);
    const rows = await db.query('SELECT count(*)::int AS n FROM card_feedback WHERE card_uuid = $1', [card]);
    expect(rows.rows[0].n).toBe(1);
  });

  test('an instance started with another client list shows another config fingerprint', async () => {
    expect(a.configFingerprint).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(b.configFingerprint).toBe(a.configFingerprint);
    expect(c.configFingerprint).not.toBe(a.configFingerprint);
    const [ra, rb, rc] = await Promise.all([readyz(a.url), readyz(b.url), readyz(c.url)]);
    expect(ra.body).toEqual({ status: 'ready', configFingerprint: a.configFingerprint, release: expect.stringMatching(/\+sha256:[0-9a-f]{16}$/), replayStore: 'redis' });
    expect(rb.body.configFingerprint).toBe(a.configFingerprint);
    expect(rc.body.configFingerprint).toBe(c.configFingerprint);
    // One release, other settings: the release is the same on all three.
    expect([rb.body.release, rc.body.release]).toEqual([ra.body.release, ra.body.release]);
    await c.stop();
  });

  test('Redis down: calls are refused with 503, instances are not ready; back when Redis is', async () => {
    await redis.stop();
    try {
      const direct = await post(a.url, SERVICE_PATH, hookCall());
      expect(direct.status).toBe(503);
      expect((direct.json as { issue: { code: string }[] }).issue[0]!.code).toBe('transient');
      expect((await readyz(b.url)).status).toBe(503);
      await haproxy.waitFor({ a: 'DOWN', b: 'DOWN' });
    } finally {
      await redis.start();
    }
    await haproxy.waitFor({ a: 'UP', b: 'UP' });
    expect((await post(publicBaseUrl, SERVICE_PATH, hookCall())).status).toBe(200);
  });

  test('Redis stalled: a call is refused after REDIS_TIMEOUT_MS, it does not hang', async () => {
    process.kill(redis.pid, 'SIGSTOP');
    try {
      const started = performance.now();
      const stalled = await post(a.url, SERVICE_PATH, hookCall());
      const ms = performance.now() - started;
      expect(stalled.status).toBe(503);
      expect(ms).toBeLessThan(5_000); // REDIS_TIMEOUT_MS, 1 s by default; generous for a loaded test machine
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    await haproxy.waitFor({ a: 'UP', b: 'UP' });
    expect((await post(a.url, SERVICE_PATH, hookCall())).status).toBe(200);
  });

  test('/metrics shows the replay claims by outcome: accepted, replays refused, Redis unavailable', async () => {
    // Both instances together: which one refused a replayed token depends on the race.
    const texts = await Promise.all([a, b].map(async (i) => (await fetch(`${i.url}/metrics`)).text()));
    const count = (outcome: string): number => texts.reduce((n, text) =>
      n + Number(new RegExp(`^cds_jwt_replay_claim_duration_seconds_count\\{store="redis",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0), 0);
    expect(count('ok')).toBeGreaterThan(0);
    expect(count('replay')).toBeGreaterThan(0); // the replay test presented tokens b had taken
    expect(count('unavailable')).toBeGreaterThan(0); // the Redis outage tests
  });

  test('an instance killed during a load run loses only its in-flight calls; no stored feedback is lost', async () => {
    const CONCURRENCY = 6;
    const stored: string[] = [];
    const failures: string[] = [];
    let answered = 0;
    let answeredAfterDown = 0;
    let bDown = false;
    let stop = false;
    const worker = async (): Promise<void> => {
      while (!stop) {
        const call = await post(publicBaseUrl, SERVICE_PATH, hookCall()).catch((e: unknown) => ({ status: 0, json: String(e) }));
        if (call.status !== 200) { failures.push(`hook ${call.status}`); continue; }
        answered++;
        if (bDown) answeredAfterDown++;
        const card = firstCard(call.json);
        const fb = await post(publicBaseUrl, FEEDBACK_PATH, feedbackOn(card)).catch((e: unknown) => ({ status: 0, json: String(e) }));
        if (fb.status === 200 && (fb.json as { stored: number }).stored === 1) stored.push(card);
        else failures.push(`feedback ${fb.status}`);
      }
    };
    const running = Array.from({ length: CONCURRENCY }, () => worker());
    await new Promise((r) => setTimeout(r, 1_500));
    const beforeKill = answered;
    await b.kill();
    await haproxy.waitFor({ b: 'DOWN' });
    bDown = true;
    await new Promise((r) => setTimeout(r, 1_500));
    stop = true;
    await Promise.all(running);

    expect(beforeKill).toBeGreaterThan(CONCURRENCY);
    expect(answeredAfterDown).toBeGreaterThan(CONCURRENCY);
    // At most one request per load connection was in flight at b when it died (a hook call, or the
    // feedback on a card whose issued-card row was still in b's write-behind buffer).
    expect(failures.length).toBeLessThanOrEqual(CONCURRENCY);
    // Every feedback acknowledged as stored is in PostgreSQL, whichever instance took it.
    const rows = await db.query<{ card_uuid: string }>('SELECT card_uuid FROM card_feedback WHERE card_uuid = ANY($1::text[])', [stored]);
    expect(new Set(rows.rows.map((r) => r.card_uuid))).toEqual(new Set(stored));
    expect((await haproxy.serverStatus()).a).toBe('UP');
  });
});
