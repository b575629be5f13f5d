// CDS Hooks 2.0 §"Trusting CDS Clients" over HTTP: every CDS call carries `Authorization: Bearer <JWT>`
// whose `aud` is the URL called; any failure is a bare 401 that echoes nothing of the token.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from '@jest/globals';
import express, { type NextFunction, type Request, type Response } from 'express';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import request from 'supertest';
import { JwtVerifier, cdsAuth, cdsClientOf, type AuthLogger } from '../../src/hooks/auth.ts';
import { HttpError, operationOutcome } from '../../src/errors.ts';

const BASE = 'https://cds.example.org/'; // trailing slash on purpose: PUBLIC_BASE_URL may carry one
const SERVICE_URL = 'https://cds.example.org/cds-services/cirrhosis-sarcopenia';
const ISS = 'https://ehr.example.org';

let key: CryptoKey;
let otherKey: CryptoKey;
let app: express.Express;
let handled = 0;
const logged: string[] = [];

async function token(aud: string | string[] = SERVICE_URL, claims: Record<string, unknown> = {}, signer?: CryptoKey): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISS, sub: 'epic-client', aud, iat: now, nbf: now - 300, exp: now + 300, jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: 'RS384', kid: 'k1', typ: 'JWT' })
    .sign(signer ?? key);
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS384');
  key = pair.privateKey;
  otherKey = (await generateKeyPair('RS384')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS384' };
  const logger: AuthLogger = { warn: (obj, msg) => { logged.push(JSON.stringify({ obj, msg })); } };
  const verifier = new JwtVerifier({
    clients: [{ iss: ISS, jwks: { keys: [jwk] }, fhirServers: ['https://ehr.example.org/fhir'] }],
    clockSkewS: 30,
    logger,
  });

  app = express();
  const cds = express.Router();
  cds.use(cdsAuth(verifier, BASE));
  cds.use(express.json());
  cds.get('/', (_req, res) => { handled++; res.json({ services: [], caller: cdsClientOf(res)?.iss }); });
  cds.post('/:id', (req: Request<{ id: string }>, res) => {
    handled++;
    const c = cdsClientOf(res);
    res.json({ id: req.params.id, iss: c?.iss, sub: c?.sub, fhirServers: c?.client.fhirServers });
  });
  cds.post('/:id/feedback', (_req, res) => { handled++; res.json({ ok: true }); });
  app.use('/cds-services', cds);
  // Stand-in for the app's single error handler: HttpError → OperationOutcome, nothing else leaks.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) res.status(err.status).json(operationOutcome(err.code, err.message));
    else res.status(500).json(operationOutcome('exception', 'Internal error'));
  });
});

function expectBare401(res: request.Response, tok?: string): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  expect(res.body).toEqual({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'login', diagnostics: 'Unauthorized' }],
  });
  expect(res.text).not.toMatch(/stack|\.ts:\d+|at [A-Za-z.]+ \(/);
  if (tok) {
    for (const part of tok.split('.')) expect(res.text).not.toContain(part);
    for (const line of logged) expect(line).not.toContain(tok.split('.')[2]);
  }
}

describe('cdsAuth over HTTP', () => {
  it('accepts a valid token and exposes the caller on res.locals.cdsClient', async () => {
    const res = await request(app).post('/cds-services/cirrhosis-sarcopenia').set('Authorization', `Bearer ${await token()}`).send({});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'cirrhosis-sarcopenia', iss: ISS, sub: 'epic-client', fhirServers: ['https://ehr.example.org/fhir'] });
  });

  it('ignores the query string and accepts a lower-case scheme', async () => {
    const res = await request(app).post('/cds-services/cirrhosis-sarcopenia?debug=1').set('Authorization', `bearer ${await token()}`).send({});
    expect(res.status).toBe(200);
  });

  it('checks aud for discovery (with or without trailing slash) and feedback', async () => {
    const discovery = await token('https://cds.example.org/cds-services');
    expect((await request(app).get('/cds-services').set('Authorization', `Bearer ${discovery}`)).status).toBe(200);
    const discovery2 = await token('https://cds.example.org/cds-services');
    expect((await request(app).get('/cds-services/').set('Authorization', `Bearer ${discovery2}`)).status).toBe(200);
    const fb = await token(`${SERVICE_URL}/feedback`);
    expect((await request(app).post('/cds-services/cirrhosis-sarcopenia/feedback').set('Authorization', `Bearer ${fb}`).send({})).status).toBe(200);
  });

  it('answers a bare 401 without Authorization, and never reaches the handler', async () => {
    const before = handled;
    expectBare401(await request(app).post('/cds-services/cirrhosis-sarcopenia').send({}));
    expectBare401(await request(app).get('/cds-services'));
    expect(handled).toBe(before);
  });

  it.each([
    ['Bearer garbage'],
    ['Bearer '],
    ['Bearer'],
    ['Bearer a.b.c'],
    ['Bearer eyJhbGciOiJub25lIn0.e30.'],
    ['Basic dXNlcjpwYXNzd29yZA=='],
    ['Token abc.def.ghi'],
  ])('answers a bare 401 to Authorization: %s', async (header) => {
    expectBare401(await request(app).post('/cds-services/cirrhosis-sarcopenia').set('Authorization', header).send({}));
  });

  it('refuses a token minted for another service, echoing nothing of it', async () => {
    const tok = await token('https://cds.example.org/cds-services/cmr-ihd-macce');
    expectBare401(await request(app).post('/cds-services/cirrhosis-sarcopenia').set('Authorization', `Bearer ${tok}`).send({}), tok);
  });

  it('derives aud from PUBLIC_BASE_URL, not from the Host header', async () => {
    const tok = await token('https://evil.example.com/cds-services/cirrhosis-sarcopenia');
    const res = await request(app).post('/cds-services/cirrhosis-sarcopenia')
      .set('Host', 'evil.example.com').set('X-Forwarded-Host', 'evil.example.com')
      .set('Authorization', `Bearer ${tok}`).send({});
    expectBare401(res, tok);
  });

  it('refuses expired, badly signed and replayed tokens with the same bare 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await token(SERVICE_URL, { iat: now - 600, nbf: now - 600, exp: now - 120 });
    expectBare401(await request(app).post('/cds-services/cirrhosis-sarcopenia').set('Authorization', `Bearer ${expired}`).send({}), expired);
    const forged = await token(SERVICE_URL, {}, otherKey);
    expectBare401(await request(app).post('/cds-services/cirrhosis-sarcopenia').set('Authorization', `Bearer ${forged}`).send({}), forged);
    const once = await token();
    expect((await request(app).post('/cds-services/cirrhosis-sarcopenia').set('Authorization', `Bearer ${once}`).send({})).status).toBe(200);
    expectBare401(await request(app).post('/cds-services/cirrhosis-sarcopenia').set('Authorization', `Bearer ${once}`).send({}), once);
  });

  it('logs only reason categories and the issuer', () => {
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) {
      const { obj } = JSON.parse(line) as { obj: Record<string, unknown> };
      expect(Object.keys(obj).every((k) => k === 'reason' || k === 'iss')).toBe(true);
    }
    expect(logged.some((l) => l.includes('"reason":"replay"'))).toBe(true);
    expect(logged.some((l) => l.includes('"reason":"missing-token"'))).toBe(true);
  });
});
