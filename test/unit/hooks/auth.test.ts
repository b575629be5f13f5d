// CDS Hooks 2.0 §"Trusting CDS Clients": JWT verification of every CDS call.
import { generateKeyPairSync, randomUUID, sign as nodeSign } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT, base64url, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import {
  JwtVerifier,
  isFhirServerAllowed,
  loadTrustedClients,
  type AuthLogger,
  type TrustedClient,
} from '../../../src/hooks/auth.ts';
import { JtiCache } from '../../../src/hooks/jti-cache.ts';
import { ReplayStoreUnavailable, type ReplayStore } from '../../../src/hooks/replay-store.ts';
import { ConfigError } from '../../../src/config.ts';
import { HttpError } from '../../../src/errors.ts';

const AUD = 'https://cds.example.org/cds-services/cirrhosis-sarcopenia';
const ISS = 'https://ehr.example.org/cds-client';
const NOW_MS = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const NOW_S = NOW_MS / 1000;
const SKEW = 30;

interface KeyPair { privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK }

async function keyPair(alg: string, kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { privateKey, publicKey, jwk };
}

interface SignOptions {
  alg?: string;
  kid?: string;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  omit?: string[];
}

async function sign(key: CryptoKey | Uint8Array, o: SignOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    iss: ISS, aud: AUD, iat: NOW_S, exp: NOW_S + 300, jti: randomUUID(), ...o.claims,
  };
  for (const c of o.omit ?? []) delete claims[c];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: o.alg ?? 'RS384', kid: o.kid ?? 'rs1', typ: 'JWT', ...o.header })
    .sign(key);
}

function recordingLogger(): AuthLogger & { calls: Array<{ obj: Record<string, unknown>; msg: string }> } {
  const calls: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  return { calls, warn: (obj, msg) => { calls.push({ obj, msg }); } };
}

/** Expects a bare 401 and returns the logged reason. */
async function rejected(
  verifier: JwtVerifier, logger: ReturnType<typeof recordingLogger>, token: string, aud = AUD,
): Promise<unknown> {
  const before = logger.calls.length;
  const err = await verifier.verify(token, aud).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(HttpError);
  expect((err as HttpError).status).toBe(401);
  expect((err as HttpError).message).toBe('Unauthorized');
  expect(logger.calls.length).toBe(before + 1);
  const logged = logger.calls[logger.calls.length - 1];
  // Never log the token (nor any part of its signature).
  if (token.length > 16) expect(JSON.stringify(logged)).not.toContain(token);
  const signature = token.split('.')[2];
  if (signature && signature.length > 16) expect(JSON.stringify(logged)).not.toContain(signature);
  return logged?.obj.reason;
}

let rs: KeyPair;
let es: KeyPair;
let other: KeyPair;
let client: TrustedClient;

beforeAll(async () => {
  rs = await keyPair('RS384', 'rs1');
  es = await keyPair('ES384', 'es1');
  other = await keyPair('RS384', 'rs1'); // same kid, different key
  client = { iss: ISS, jwks: { keys: [rs.jwk, es.jwk] }, fhirServers: ['https://ehr.example.org/fhir'] };
});

function makeVerifier(extra: Partial<ConstructorParameters<typeof JwtVerifier>[0]> = {}) {
  const logger = recordingLogger();
  const verifier = new JwtVerifier({ clients: [client], clockSkewS: SKEW, now: () => NOW_MS, logger, ...extra });
  return { verifier, logger };
}

describe('JwtVerifier: valid tokens', () => {
  it('accepts an RS384 token', async () => {
    const { verifier } = makeVerifier();
    const token = await sign(rs.privateKey, { claims: { jti: 'j-rs' } });
    const v = await verifier.verify(token, AUD);
    expect(v).toEqual({ iss: ISS, jti: 'j-rs', client: expect.objectContaining({ iss: ISS }) });
    expect(v.sub).toBeUndefined();
  });

  it('accepts an ES384 token', async () => {
    const { verifier } = makeVerifier();
    const v = await verifier.verify(await sign(es.privateKey, { alg: 'ES384', kid: 'es1' }), AUD);
    expect(v.iss).toBe(ISS);
  });

  it('accepts an Epic-style token with sub and nbf (and tenant), returning sub', async () => {
    const { verifier } = makeVerifier();
    const token = await sign(rs.privateKey, {
      claims: { sub: 'epic-client-id-123', nbf: NOW_S - 300, iat: NOW_S, exp: NOW_S + 300, tenant: 'org-1' },
    });
    const v = await verifier.verify(token, AUD);
    expect(v.sub).toBe('epic-client-id-123');
  });

  it('accepts aud as an array containing the endpoint', async () => {
    const { verifier } = makeVerifier();
    const token = await sign(rs.privateKey, { claims: { aud: ['https://other.example.org/x', AUD] } });
    await expect(verifier.verify(token, AUD)).resolves.toMatchObject({ iss: ISS });
  });

  it('tolerates a trailing-slash difference between aud and the called URL, both ways', async () => {
    const { verifier } = makeVerifier();
    await expect(verifier.verify(await sign(rs.privateKey, { claims: { aud: `${AUD}/` } }), AUD)).resolves.toBeDefined();
    await expect(verifier.verify(await sign(rs.privateKey), `${AUD}/`)).resolves.toBeDefined();
  });

  it('compares aud in linear time even for a hostile called URL', async () => {
    const { verifier, logger } = makeVerifier();
    const started = performance.now();
    expect(await rejected(verifier, logger, await sign(rs.privateKey), `${AUD}${'/'.repeat(100_000)}x`)).toBe('aud');
    expect(performance.now() - started).toBeLessThan(2000); // quadratic would take minutes
  });

  it('accepts exp, nbf and iat within the clock skew', async () => {
    const { verifier } = makeVerifier();
    const token = await sign(rs.privateKey, { claims: { exp: NOW_S - 20, nbf: NOW_S + 20, iat: NOW_S + 20 } });
    await expect(verifier.verify(token, AUD)).resolves.toBeDefined();
  });

  it('accepts EdDSA (Ed25519)', async () => {
    const ed = await keyPair('EdDSA', 'ed1');
    const { verifier } = makeVerifier({ clients: [{ iss: ISS, jwks: { keys: [ed.jwk] }, fhirServers: [] }] });
    await expect(verifier.verify(await sign(ed.privateKey, { alg: 'EdDSA', kid: 'ed1' }), AUD)).resolves.toBeDefined();
  });

  it.each(['RS256', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES512'])('accepts %s', async (alg) => {
    const k = await keyPair(alg, `k-${alg}`);
    const { verifier } = makeVerifier({ clients: [{ iss: ISS, jwks: { keys: [k.jwk] }, fhirServers: [] }] });
    await expect(verifier.verify(await sign(k.privateKey, { alg, kid: `k-${alg}` }), AUD)).resolves.toBeDefined();
  });

  it('accepts a token without typ or kid when exactly one key matches', async () => {
    const { verifier } = makeVerifier();
    const token = await new SignJWT({ iss: ISS, aud: AUD, iat: NOW_S, exp: NOW_S + 60, jti: 'no-kid' })
      .setProtectedHeader({ alg: 'RS384' })
      .sign(rs.privateKey);
    await expect(verifier.verify(token, AUD)).resolves.toBeDefined();
  });
});

describe('JwtVerifier: refusals (bare 401, reason logged, token never logged)', () => {
  it('refuses a wrong aud', async () => {
    const { verifier, logger } = makeVerifier();
    const token = await sign(rs.privateKey, { claims: { aud: 'https://cds.example.org/cds-services/cmr-ihd-macce' } });
    expect(await rejected(verifier, logger, token)).toBe('aud');
  });

  it('refuses an aud that is only a prefix of the called URL, and an aud array without it', async () => {
    const { verifier, logger } = makeVerifier();
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { claims: { aud: 'https://cds.example.org' } }))).toBe('aud');
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { claims: { aud: ['https://x.example.org'] } }))).toBe('aud');
  });

  it('refuses an expired token beyond the skew', async () => {
    const { verifier, logger } = makeVerifier();
    const token = await sign(rs.privateKey, { claims: { iat: NOW_S - 400, exp: NOW_S - SKEW - 1 } });
    expect(await rejected(verifier, logger, token)).toBe('expired');
  });

  it('refuses nbf in the future beyond the skew', async () => {
    const { verifier, logger } = makeVerifier();
    const token = await sign(rs.privateKey, { claims: { nbf: NOW_S + SKEW + 5 } });
    expect(await rejected(verifier, logger, token)).toBe('not-yet-valid');
  });

  it('refuses iat in the future beyond the skew', async () => {
    const { verifier, logger } = makeVerifier();
    const token = await sign(rs.privateKey, { claims: { iat: NOW_S + SKEW + 5, exp: NOW_S + 600 } });
    expect(await rejected(verifier, logger, token)).toBe('iat');
  });

  it('refuses a token issued longer ago than maxTokenAgeS', async () => {
    const { verifier, logger } = makeVerifier({ maxTokenAgeS: 600 });
    const token = await sign(rs.privateKey, { claims: { iat: NOW_S - 700, exp: NOW_S + 3600 } });
    expect(await rejected(verifier, logger, token)).toBe('too-old');
  });

  it.each(['jti', 'exp', 'iat'])('refuses a token without %s', async (claim) => {
    const { verifier, logger } = makeVerifier();
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { omit: [claim] }))).toBe('missing-claim');
  });

  it('refuses an empty or non-string jti', async () => {
    const { verifier, logger } = makeVerifier();
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { claims: { jti: '' } }))).toBe('missing-claim');
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { claims: { jti: 42 } }))).toBe('missing-claim');
  });

  it('refuses a replayed jti, also with a new signature, but not the same jti from another issuer', async () => {
    const second = await keyPair('ES384', 'k2');
    const client2: TrustedClient = { iss: 'https://other-ehr.example.org', jwks: { keys: [second.jwk] }, fhirServers: [] };
    const { verifier, logger } = makeVerifier({ clients: [client, client2] });
    const token = await sign(rs.privateKey, { claims: { jti: 'once' } });
    await expect(verifier.verify(token, AUD)).resolves.toBeDefined();
    expect(await rejected(verifier, logger, token)).toBe('replay');
    // Same jti in a freshly signed token (ES384 signatures also differ each time).
    expect(await rejected(verifier, logger, await sign(es.privateKey, { alg: 'ES384', kid: 'es1', claims: { jti: 'once' } }))).toBe('replay');
    const fromOther = await sign(second.privateKey, { alg: 'ES384', kid: 'k2', claims: { iss: client2.iss, jti: 'once' } });
    await expect(verifier.verify(fromOther, AUD)).resolves.toMatchObject({ iss: client2.iss });
  });

  it('refuses concurrent presentations of one token: exactly one wins', async () => {
    const { verifier } = makeVerifier();
    const token = await sign(rs.privateKey);
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => verifier.verify(token, AUD)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('does not record the jti of a token that fails verification', async () => {
    const { verifier, logger } = makeVerifier();
    expect(await rejected(verifier, logger, await sign(other.privateKey, { claims: { jti: 'victim' } }))).toBe('bad-signature');
    await expect(verifier.verify(await sign(rs.privateKey, { claims: { jti: 'victim' } }), AUD)).resolves.toBeDefined();
  });

  it('fails closed when the replay cache is full of live entries', async () => {
    const { verifier, logger } = makeVerifier({ maxJtiEntries: 2 });
    await verifier.verify(await sign(rs.privateKey), AUD);
    await verifier.verify(await sign(rs.privateKey), AUD);
    expect(await rejected(verifier, logger, await sign(rs.privateKey))).toBe('replay-cache-full');
  });

  it('claims each verified token once in the replay store it is given, with the token\'s expiry', async () => {
    const claims: Array<{ iss: string; jti: string; expiresAtMs: number }> = [];
    const seen = new Set<string>();
    const store: ReplayStore = {
      kind: 'redis',
      claim: async (iss, jti, expiresAtMs) => {
        claims.push({ iss, jti, expiresAtMs });
        if (seen.has(jti)) return 'replay';
        seen.add(jti);
        return 'ok';
      },
      ping: async () => undefined,
      close: async () => undefined,
    };
    const { verifier, logger } = makeVerifier({ replayStore: store });
    const token = await sign(rs.privateKey, { claims: { jti: 'shared-1', exp: NOW_S + 120 } });
    await verifier.verify(token, AUD);
    expect(await rejected(verifier, logger, token)).toBe('replay');
    // Until exp + skew + 1 s; an unsigned or mis-signed token never reaches the store.
    expect(claims).toEqual([
      { iss: ISS, jti: 'shared-1', expiresAtMs: (NOW_S + 120 + SKEW + 1) * 1000 },
      { iss: ISS, jti: 'shared-1', expiresAtMs: (NOW_S + 120 + SKEW + 1) * 1000 },
    ]);
    expect(await rejected(verifier, logger, await sign(other.privateKey))).toBe('bad-signature');
    expect(claims).toHaveLength(2);
  });

  it('refuses with 503 (not 401, not accepted) when the replay store cannot be consulted', async () => {
    const store: ReplayStore = {
      kind: 'redis',
      claim: async () => { throw new ReplayStoreUnavailable('connection refused'); },
      ping: async () => { throw new ReplayStoreUnavailable('connection refused'); },
      close: async () => undefined,
    };
    const { verifier, logger } = makeVerifier({ replayStore: store });
    const token = await sign(rs.privateKey);
    const err = await verifier.verify(token, AUD).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(503);
    expect((err as HttpError).code).toBe('transient');
    expect((err as HttpError).message).not.toContain('connection refused');
    expect(logger.calls.at(-1)?.obj).toEqual({ reason: 'replay-store-unavailable', iss: ISS });
    expect(JSON.stringify(logger.calls)).not.toContain(token.split('.')[2]);
  });

  it('refuses an unknown iss and logs it', async () => {
    const { verifier, logger } = makeVerifier();
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { claims: { iss: 'https://evil.example.com' } }))).toBe('unknown-iss');
    expect(logger.calls.at(-1)?.obj.iss).toBe('https://evil.example.com');
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { omit: ['iss'] }))).toBe('unknown-iss');
  });

  it('refuses alg "none" (crafted, empty signature)', async () => {
    const { verifier, logger } = makeVerifier();
    const enc = (o: object) => base64url.encode(JSON.stringify(o));
    const claims = { iss: ISS, aud: AUD, iat: NOW_S, exp: NOW_S + 300, jti: randomUUID() };
    for (const alg of ['none', 'None', 'NONE']) {
      const token = `${enc({ alg, typ: 'JWT' })}.${enc(claims)}.`;
      expect(await rejected(verifier, logger, token)).toBe('alg-not-allowed');
    }
  });

  it('refuses HS256, including one keyed with the client public key (algorithm confusion)', async () => {
    const { verifier, logger } = makeVerifier();
    const secret = new TextEncoder().encode('a-shared-secret-that-is-long-enough-for-hs256!');
    expect(await rejected(verifier, logger, await sign(secret, { alg: 'HS256' }))).toBe('alg-not-allowed');
    const pem = new TextEncoder().encode(await exportSPKI(rs.publicKey));
    expect(await rejected(verifier, logger, await sign(pem, { alg: 'HS384' }))).toBe('alg-not-allowed');
  });

  it('refuses a bad signature (same kid, other key) and a tampered payload', async () => {
    const { verifier, logger } = makeVerifier();
    expect(await rejected(verifier, logger, await sign(other.privateKey))).toBe('bad-signature');
    const [h, , s] = (await sign(rs.privateKey)).split('.');
    const forged = base64url.encode(JSON.stringify({ iss: ISS, aud: AUD, iat: NOW_S, exp: NOW_S + 9999, jti: 'forged' }));
    expect(await rejected(verifier, logger, `${h}.${forged}.${s}`)).toBe('bad-signature');
  });

  it('refuses an ES384 signature in DER form, a truncated signature and an empty one', async () => {
    const { verifier, logger } = makeVerifier();
    const tok = await sign(es.privateKey, { alg: 'ES384', kid: 'es1' });
    const [h, p, s64] = tok.split('.') as [string, string, string];
    const raw = Buffer.from(s64, 'base64url');
    const int = (b: Buffer) => { let i = 0; while (i < b.length - 1 && b[i] === 0) i++; b = b.subarray(i); return (b[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b; };
    const r = int(raw.subarray(0, 48));
    const sv = int(raw.subarray(48));
    const body = Buffer.concat([Buffer.from([2, r.length]), r, Buffer.from([2, sv.length]), sv]);
    const der = Buffer.concat([Buffer.from([0x30, body.length]), body]).toString('base64url');
    expect(await rejected(verifier, logger, `${h}.${p}.${der}`)).toBe('bad-signature');
    expect(await rejected(verifier, logger, `${h}.${p}.${s64.slice(0, 40)}`)).toBe('bad-signature');
    expect(await rejected(verifier, logger, `${h}.${p}.`)).toBe('bad-signature');
  });

  it('refuses a token whose alg does not fit the key (RS384 token, only an EC key with that kid)', async () => {
    const { verifier, logger } = makeVerifier({ clients: [{ iss: ISS, jwks: { keys: [{ ...es.jwk, kid: 'rs1', alg: undefined }] }, fhirServers: [] }] });
    expect(await rejected(verifier, logger, await sign(rs.privateKey))).toBe('no-matching-key');
  });

  it('refuses RSA keys shorter than 2048 bits', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = { ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS384' };
    const { verifier, logger } = makeVerifier({ clients: [{ iss: ISS, jwks: { keys: [jwk] }, fhirServers: [] }] });
    const enc = (o: object) => base64url.encode(JSON.stringify(o));
    const input = `${enc({ alg: 'RS384', kid: 'weak', typ: 'JWT' })}.${enc({ iss: ISS, aud: AUD, iat: NOW_S, exp: NOW_S + 60, jti: 'w' })}`;
    const token = `${input}.${nodeSign('sha384', Buffer.from(input), weak.privateKey).toString('base64url')}`;
    expect(await rejected(verifier, logger, token)).toBe('key-rejected');
  });

  it('refuses a crit header (no JWS extensions are understood)', async () => {
    const { verifier, logger } = makeVerifier();
    const token = await new SignJWT({ iss: ISS, aud: AUD, iat: NOW_S, exp: NOW_S + 60, jti: 'crit' })
      .setProtectedHeader({ alg: 'RS384', kid: 'rs1', crit: ['exp'], exp: 1 } as never)
      .sign(rs.privateKey, { crit: { exp: true } });
    expect(await rejected(verifier, logger, token)).toBe('malformed');
  });

  it('refuses non-numeric time claims', async () => {
    const { verifier, logger } = makeVerifier();
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { claims: { exp: String(NOW_S + 60) } }))).toBe('claim');
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { claims: { nbf: 'yesterday' } }))).toBe('claim');
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { claims: { sub: 7 } }))).toBe('claim');
  });

  it('refuses an unknown kid with an inline-only client (no fetch to anywhere)', async () => {
    const { verifier, logger } = makeVerifier();
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { kid: 'rotated-away' }))).toBe('no-matching-key');
  });

  it('refuses a jku header for an inline-only client', async () => {
    const { verifier, logger } = makeVerifier();
    const token = await sign(rs.privateKey, { header: { jku: 'https://ehr.example.org/jwks.json' } });
    expect(await rejected(verifier, logger, token)).toBe('jku-mismatch');
  });

  it('refuses a typ other than JWT', async () => {
    const { verifier, logger } = makeVerifier();
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { header: { typ: 'at+jwt' } }))).toBe('typ');
  });

  it('refuses malformed tokens', async () => {
    const { verifier, logger } = makeVerifier();
    for (const t of ['', 'garbage', 'a.b', 'a.b.c.d', '!!!.@@@.###', 'eyJhbGciOiJSUzM4NCJ9.bm90IGpzb24.sig', `${'a'.repeat(20000)}.b.c`]) {
      expect(await rejected(verifier, logger, t)).toBe('malformed');
    }
  });

  it('enforces an optional sub allowlist', async () => {
    const { verifier, logger } = makeVerifier({ clients: [{ ...client, sub: ['client-a'] }] });
    await expect(verifier.verify(await sign(rs.privateKey, { claims: { sub: 'client-a' } }), AUD)).resolves.toBeDefined();
    expect(await rejected(verifier, logger, await sign(rs.privateKey, { claims: { sub: 'client-b' } }))).toBe('sub');
    expect(await rejected(verifier, logger, await sign(rs.privateKey))).toBe('sub');
  });
});

describe('JwtVerifier: clients added later (embedded demo)', () => {
  it('accepts tokens of a client registered after construction, and validates it', async () => {
    const demoKey = await keyPair('ES384', 'demo-1');
    const { verifier, logger } = makeVerifier({ clients: [] });
    const demoIss = 'http://localhost:8080/demo-ehr';
    const token = await sign(demoKey.privateKey, { alg: 'ES384', kid: 'demo-1', claims: { iss: demoIss } });
    expect(await rejected(verifier, logger, token)).toBe('unknown-iss');
    verifier.addClient({ iss: demoIss, jwks: { keys: [demoKey.jwk] }, fhirServers: ['http://localhost:8080/fhir'] });
    await expect(verifier.verify(token, AUD)).resolves.toMatchObject({ iss: demoIss });
    expect(verifier.getClient(demoIss)?.fhirServers).toEqual(['http://localhost:8080/fhir']);
    expect(() => verifier.addClient({ iss: 'x', fhirServers: [] })).toThrow(ConfigError);
    expect(verifier.removeClient(demoIss)).toBe(true);
  });
});

// A tiny JWKS endpoint on loopback, counting fetches.
describe('JwtVerifier: jwksUri clients', () => {
  let server: Server;
  let jwksUri: string;
  let served: JWK[] = [];
  let fetches = 0;
  let k1: KeyPair;
  let k2: KeyPair;
  const REMOTE_ISS = 'https://remote-ehr.example.org';

  beforeAll(async () => {
    k1 = await keyPair('RS384', 'remote-1');
    k2 = await keyPair('RS384', 'remote-2');
    server = createServer((req, res) => {
      if (req.url !== '/jwks.json') { res.writeHead(404).end(); return; }
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const remoteSign = (k: KeyPair, o: SignOptions = {}) =>
    sign(k.privateKey, { ...o, kid: k.jwk.kid as string, claims: { iss: REMOTE_ISS, ...o.claims } });

  it('fetches once, caches, refreshes once on an unknown kid after key rotation', async () => {
    served = [k1.jwk];
    fetches = 0;
    const cooldownMs = 500;
    const { verifier, logger } = makeVerifier({
      clients: [{ iss: REMOTE_ISS, jwksUri, fhirServers: [] }],
      remoteJwks: { cooldownMs },
    });
    // Signed up front, so that the checks after the refresh run well within the cooldown.
    const afterRotation = [await remoteSign(k2), await remoteSign(k2)];
    const bogus = await Promise.all([0, 1, 2, 3, 4].map((i) => sign(k1.privateKey, { kid: `bogus-${i}`, claims: { iss: REMOTE_ISS } })));
    const oldKey = await remoteSign(k1);

    await verifier.verify(await remoteSign(k1), AUD);
    await verifier.verify(await remoteSign(k1), AUD);
    expect(fetches).toBe(1);

    // Rotation: the client now publishes only k2 and signs with it.
    served = [k2.jwk];
    await new Promise((r) => setTimeout(r, cooldownMs + 100));
    await expect(verifier.verify(afterRotation[0] as string, AUD)).resolves.toMatchObject({ iss: REMOTE_ISS });
    expect(fetches).toBe(2);
    await verifier.verify(afterRotation[1] as string, AUD);
    expect(fetches).toBe(2);

    // Unknown kids right after a fetch do not cause further fetches (jose's cooldown).
    for (const t of bogus) expect(await rejected(verifier, logger, t)).toBe('no-matching-key');
    // The old key is gone after rotation.
    expect(await rejected(verifier, logger, oldKey)).toBe('no-matching-key');
    expect(fetches).toBe(2);
  });

  it('accepts a jku equal to the configured jwksUri and refuses any other jku', async () => {
    served = [k1.jwk];
    const { verifier, logger } = makeVerifier({ clients: [{ iss: REMOTE_ISS, jwksUri, fhirServers: [] }] });
    await expect(verifier.verify(await remoteSign(k1, { header: { jku: jwksUri } }), AUD)).resolves.toBeDefined();
    const fetchesBefore = fetches;
    for (const jku of [`${jwksUri}?x=1`, jwksUri.replace('127.0.0.1', 'localhost'), 'https://evil.example.com/jwks.json', `${jwksUri}/`]) {
      expect(await rejected(verifier, logger, await remoteSign(k1, { header: { jku } }))).toBe('jku-mismatch');
    }
    expect(fetches).toBe(fetchesBefore); // never fetched a URL taken from a token
  });

  it('with both inline jwks and jwksUri: inline first, then remote', async () => {
    served = [k2.jwk];
    fetches = 0;
    const { verifier } = makeVerifier({ clients: [{ iss: REMOTE_ISS, jwks: { keys: [k1.jwk] }, jwksUri, fhirServers: [] }] });
    await verifier.verify(await remoteSign(k1), AUD);
    expect(fetches).toBe(0);
    await verifier.verify(await remoteSign(k2), AUD);
    expect(fetches).toBe(1);
  });

  it('refuses (401) when the JWKS URL cannot be fetched', async () => {
    const { verifier, logger } = makeVerifier({
      clients: [{ iss: REMOTE_ISS, jwksUri: jwksUri.replace('/jwks.json', '/missing'), fhirServers: [] }],
    });
    expect(await rejected(verifier, logger, await remoteSign(k1))).toBe('jwks-unavailable');
    const closed = makeVerifier({ clients: [{ iss: REMOTE_ISS, jwksUri: 'http://127.0.0.1:1/jwks.json', fhirServers: [] }] });
    expect(await rejected(closed.verifier, closed.logger, await remoteSign(k1))).toBe('jwks-unavailable');
  });
});

describe('isFhirServerAllowed', () => {
  const c: TrustedClient = {
    iss: ISS,
    jwks: { keys: [] },
    fhirServers: ['https://ehr.example.org/fhir/', 'https://fhir.example.net', 'http://localhost:8080/fhir'],
  };
  it.each([
    ['https://ehr.example.org/fhir', true],
    ['https://ehr.example.org/fhir/', true],
    ['https://ehr.example.org/fhir//', true],
    ['https://EHR.example.org/fhir', true],
    ['https://ehr.example.org:443/fhir', true],
    ['https://ehr.example.org/fhir/R4', true],
    ['https://fhir.example.net', true],
    ['https://fhir.example.net/', true],
    ['https://fhir.example.net/any/path', true],
    ['http://localhost:8080/fhir', true],
    ['https://ehr.example.org.evil.com/fhir', false],
    ['https://ehr.example.org.evil.com', false],
    ['https://evil.com/ehr.example.org/fhir', false],
    ['https://ehr.example.org/fhir-evil', false],
    ['https://ehr.example.org/fhirx/R4', false],
    ['https://ehr.example.org/', false],
    ['https://ehr.example.org/FHIR', false],
    ['http://ehr.example.org/fhir', false],
    ['https://ehr.example.org:8443/fhir', false],
    ['https://user:pw@ehr.example.org/fhir', false],
    ['https://ehr.example.org@evil.com/fhir', false],
    ['https://ehr.example.org/fhir/../admin', false],
    ['https://ehr.example.org/fhir/%2e%2e/admin', false],
    ['https://ehr.example.org/fhir%2F..%2Fadmin', false],
    ['https://ehr.example.org/fhir?x=https://ehr.example.org/fhir', false],
    ['https://ehr.example.org/fhir#frag', false],
    ['http://localhost:8081/fhir', false],
    ['ftp://ehr.example.org/fhir', false],
    ['ehr.example.org/fhir', false],
    ['', false],
  ])('%s → %s', (url, expected) => {
    expect(isFhirServerAllowed(c, url)).toBe(expected);
  });
  it('stays linear on hostile input (a long run of slashes)', () => {
    const started = performance.now();
    expect(isFhirServerAllowed(c, `https://ehr.example.org/fhir${'/'.repeat(200_000)}x`)).toBe(true);
    expect(isFhirServerAllowed(c, `https://ehr.example.org/${'/'.repeat(200_000)}x`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000); // quadratic would take minutes
  });
  it('allows nothing for a client without fhirServers', () => {
    expect(isFhirServerAllowed({ ...c, fhirServers: [] }, 'https://ehr.example.org/fhir')).toBe(false);
  });
});

describe('loadTrustedClients', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'cds-clients-')); });
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });
  const file = (name: string, content: string) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };

  it('loads a valid file (inline jwks, jwksUri, or both)', () => {
    const clients = [
      { iss: 'a', jwks: { keys: [rs.jwk] }, fhirServers: ['https://ehr.example.org/fhir'] },
      { iss: 'b', jwksUri: 'https://ehr-b.example.org/.well-known/jwks.json', fhirServers: [] },
      { iss: 'c', jwks: { keys: [es.jwk] }, jwksUri: 'http://127.0.0.1:9/jwks', fhirServers: [], sub: ['x'] },
    ];
    const loaded = loadTrustedClients(file('ok.json', JSON.stringify(clients)));
    expect(loaded.map((c) => c.iss)).toEqual(['a', 'b', 'c']);
    expect(loaded[1]?.jwksUri).toBe(clients[1]?.jwksUri);
    // And the verifier accepts them.
    expect(() => new JwtVerifier({ clients: loaded, clockSkewS: 30 })).not.toThrow();
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['not an array', '{"iss":"a"}', /expected array/i],
    ['no keys source', '[{"iss":"a","fhirServers":[]}]', /\[0\]: at least one of "jwks".*"jwksUri" is required/],
    ['empty iss', '[{"iss":"","jwksUri":"https://x.example.org/j","fhirServers":[]}]', /\[0\.iss\]: iss must be a non-empty string/],
    ['missing fhirServers', '[{"iss":"a","jwksUri":"https://x.example.org/j"}]', /\[0\.fhirServers\]/],
    ['bad jwksUri', '[{"iss":"a","jwksUri":"ftp://x/j","fhirServers":[]}]', /\[0\.jwksUri\]: jwksUri must be an absolute http\(s\) URL/],
    ['bad fhirServer', '[{"iss":"a","jwksUri":"https://x.example.org/j","fhirServers":["not a url"]}]', /\[0\.fhirServers\.0\]/],
    ['typo in a key', '[{"iss":"a","jwks_uri":"https://x.example.org/j","fhirServers":[]}]', /jwks_uri/],
    ['duplicate iss', '[{"iss":"a","jwksUri":"https://x.example.org/j","fhirServers":[]},{"iss":"a","jwksUri":"https://y.example.org/j","fhirServers":[]}]', /\[1\.iss\]: duplicate iss "a"/],
    ['symmetric key', '[{"iss":"a","jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0"}]},"fhirServers":[]}]', /symmetric keys/],
    ['private key', '[{"iss":"a","jwks":{"keys":[{"kty":"EC","crv":"P-384","x":"x","y":"y","d":"d"}]},"fhirServers":[]}]', /PUBLIC key only/],
    ['empty key set', '[{"iss":"a","jwks":{"keys":[]},"fhirServers":[]}]', /jwks.keys must not be empty/],
  ])('refuses %s with a clear message naming the file', (name, content, message) => {
    const p = file(`${name.replace(/\W/g, '_')}.json`, content);
    let err: unknown;
    try { loadTrustedClients(p); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(p);
    expect((err as Error).message).toMatch(message);
  });

  it('refuses a missing file', () => {
    expect(() => loadTrustedClients(join(dir, 'nope.json'))).toThrow(/Cannot read CDS_CLIENTS_FILE .*ENOENT/);
  });
});

describe('JtiCache', () => {
  it('detects replays until expiry, then forgets', () => {
    const c = new JtiCache(10);
    expect(c.add('i', 'j', 2000, 1000)).toBe('ok');
    expect(c.add('i', 'j', 2000, 1500)).toBe('replay');
    expect(c.add('i2', 'j', 2000, 1500)).toBe('ok');
    expect(c.add('i', 'j', 3000, 2000)).toBe('ok');
  });
  it('prunes expired entries and stays bounded', () => {
    const c = new JtiCache(3);
    for (let i = 0; i < 3; i++) expect(c.add('i', `j${i}`, (10 + i) * 1000, 0)).toBe('ok');
    expect(c.add('i', 'j3', 50_000, 5000)).toBe('full');
    expect(c.add('other-iss', 'j3', 50_000, 5000)).toBe('full'); // the bound is global
    expect(c.add('i', 'j3', 50_000, 11_000)).toBe('ok'); // j0 and j1 expired
    expect(c.size).toBe(2);
    // A long-lived entry at the front does not block pruning of later expired ones.
    const d = new JtiCache(2);
    d.add('i', 'long', 100_000, 0);
    d.add('i2', 'short', 1000, 0);
    expect(d.add('i', 'new', 100_000, 2000)).toBe('ok');
    expect(d.size).toBe(2);
  });
});
