// Authentication of every CDS call by the CDS Client's JWT.
// CDS Hooks 2.0 §"Trusting CDS Clients" (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients):
// every call that needs authentication (discovery, service calls, feedback) carries the client's
// signed JWT as an `Authorization: Bearer` token. The service verifies the signature with the
// client's public JWK Set (configured inline or at its JWKS URL) and checks iss (allowlisted), aud
// (this endpoint), exp, iat, jti (no replay) and, when sent, that jku is the registered JWKS URL.
// DESIGN.md "Security rules": any failure is a bare 401; never log or echo the token.
import { constants as cryptoConstants, KeyObject, verify as cryptoVerify } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JWSHeaderParameters,
  type CryptoKey,
  type RemoteJWKSet,
} from 'jose';
import { ConfigError } from '../config.ts';
import { replayStoreUnavailable, unauthorized, type HttpError } from '../errors.ts';
import { memoryReplayStore, ReplayStoreUnavailable, type ReplayStore } from './replay-store.ts';
import { loadTrustedClients, parseTrustedClient, parseTrustedClients, type TrustedClient } from './trusted-clients.ts';

export { loadTrustedClients, parseTrustedClient, parseTrustedClients };
export type { TrustedClient };

/** The authenticated caller, set on `res.locals.cdsClient` by `cdsAuth`. */
export interface VerifiedClient {
  iss: string;
  sub?: string;
  jti: string;
  client: TrustedClient;
}

/** What a hook call needs to know about its caller: plain data, so it can cross to a worker thread. */
export type HookCaller = Pick<TrustedClient, 'iss' | 'fhirServers'>;

export function hookCaller(client: VerifiedClient): HookCaller {
  return { iss: client.iss, fhirServers: client.client.fhirServers };
}

/** Structured logger (pino-compatible): only a reason category and the issuer are ever logged. */
export interface AuthLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** Why a token was refused; logged (never returned to the caller, who only sees a bare 401). */
export type AuthFailureReason =
  | 'missing-token' | 'malformed' | 'alg-not-allowed' | 'typ' | 'unknown-iss' | 'jku-mismatch'
  | 'no-matching-key' | 'jwks-unavailable' | 'bad-signature' | 'key-rejected' | 'aud' | 'expired'
  | 'not-yet-valid' | 'iat' | 'too-old' | 'missing-claim' | 'claim' | 'sub' | 'replay'
  | 'replay-cache-full' | 'error';

/**
 * Asymmetric signature algorithms only (RFC 7518 §3). The spec requires clients to support ES384
 * and RS384; `none` and HS* are never accepted (an HS* token "signed" with our copy of a public key
 * is the classic algorithm-confusion attack).
 */
interface AlgSpec {
  /** Digest for node:crypto.verify; null for EdDSA (the hash is part of the scheme). */
  hash: string | null;
  keyType: 'rsa' | 'rsa-pss' | 'ec' | 'ed25519';
  /** OpenSSL curve name for ES* (RFC 7518 §3.4: the curve is fixed by the alg). */
  curve?: string;
}
const ALGS: ReadonlyMap<string, AlgSpec> = new Map<string, AlgSpec>([
  ['RS256', { hash: 'sha256', keyType: 'rsa' }],
  ['RS384', { hash: 'sha384', keyType: 'rsa' }],
  ['RS512', { hash: 'sha512', keyType: 'rsa' }],
  ['PS256', { hash: 'sha256', keyType: 'rsa-pss' }],
  ['PS384', { hash: 'sha384', keyType: 'rsa-pss' }],
  ['PS512', { hash: 'sha512', keyType: 'rsa-pss' }],
  ['ES256', { hash: 'sha256', keyType: 'ec', curve: 'prime256v1' }],
  ['ES384', { hash: 'sha384', keyType: 'ec', curve: 'secp384r1' }],
  ['ES512', { hash: 'sha512', keyType: 'ec', curve: 'secp521r1' }],
  ['EdDSA', { hash: null, keyType: 'ed25519' }],
  ['Ed25519', { hash: null, keyType: 'ed25519' }],
]);
export const ALLOWED_ALGORITHMS: readonly string[] = Object.freeze([...ALGS.keys()]);
/** RFC 7518 §3.3: RSA keys of 2048 bits or more. */
const MIN_RSA_BITS = 2048;

/** Larger tokens are refused before any parsing (a CDS Hooks JWT is well under 2 kB). */
const MAX_TOKEN_LENGTH = 16_384;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_JTI_LENGTH = 512;

export interface JwtVerifierOptions {
  clients: TrustedClient[];
  /** Allowed clock skew for exp/nbf/iat, seconds (config.jwtClockSkewS). */
  clockSkewS: number;
  /** Current time in ms since the epoch; for tests. */
  now?: () => number;
  logger?: AuthLogger;
  /**
   * Oldest acceptable `iat`, seconds. Bounds how long a jti must be remembered whatever `exp`
   * says; CDS Client JWTs are minted per request and live minutes. Default 3600.
   */
  maxTokenAgeS?: number;
  /**
   * Where verified jti values are claimed (replay-store.ts): Redis when several instances serve the
   * same clients (REDIS_URL). Default: this process's own cache, bounded by maxJtiEntries.
   */
  replayStore?: ReplayStore;
  /** Bound of the default in-process replay cache; when full of live entries new tokens are refused. Default 500 000. */
  maxJtiEntries?: number;
  /** Remote JWKS (jwksUri) caching, passed to jose's createRemoteJWKSet. */
  remoteJwks?: {
    /** Minimum time between two fetches triggered by an unknown `kid`, ms. Default 30 000. */
    cooldownMs?: number;
    /** Maximum age of the cached JWK Set, ms. Default 600 000. */
    cacheMaxAgeMs?: number;
    /** Fetch timeout, ms. Default 5 000. */
    timeoutMs?: number;
  };
}

type KeyResolver = (header: JWSHeaderParameters) => Promise<CryptoKey>;

interface ClientEntry {
  client: TrustedClient;
  /** Built once per client: jose's JWK Sets cache imported keys, so no import per request. */
  getKey: KeyResolver;
  subs?: ReadonlySet<string>;
}

class AuthFailure extends Error {
  readonly reason: AuthFailureReason;
  constructor(reason: AuthFailureReason) {
    super(reason);
    this.reason = reason;
  }
}

/** Verifies CDS Client JWTs against the trusted-client allowlist. One instance per process. */
export class JwtVerifier {
  private readonly clients = new Map<string, ClientEntry>();
  private readonly clockSkewS: number;
  private readonly maxTokenAgeS: number;
  private readonly now: () => number;
  private readonly logger: AuthLogger | undefined;
  private readonly replay: ReplayStore;
  private readonly remoteOptions: { cooldownDuration: number; cacheMaxAge: number; timeoutDuration: number };

  constructor(opts: JwtVerifierOptions) {
    if (!Number.isFinite(opts.clockSkewS) || opts.clockSkewS < 0) throw new RangeError('clockSkewS must be >= 0');
    this.clockSkewS = opts.clockSkewS;
    this.maxTokenAgeS = opts.maxTokenAgeS ?? 3600;
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger;
    this.replay = opts.replayStore ?? memoryReplayStore(opts.maxJtiEntries);
    this.remoteOptions = {
      cooldownDuration: opts.remoteJwks?.cooldownMs ?? 30_000,
      cacheMaxAge: opts.remoteJwks?.cacheMaxAgeMs ?? 600_000,
      timeoutDuration: opts.remoteJwks?.timeoutMs ?? 5_000,
    };
    for (const client of parseTrustedClients(opts.clients)) this.addClient(client);
  }

  /**
   * Registers (or replaces, by `iss`) a trusted client after start-up, e.g. the embedded demo's
   * own client with an inline JWKS. Throws ConfigError on an invalid client.
   */
  addClient(input: TrustedClient): void {
    const client = parseTrustedClient(input);
    let local: ReturnType<typeof createLocalJWKSet> | undefined;
    let remote: RemoteJWKSet | undefined;
    try {
      if (client.jwks) local = createLocalJWKSet(client.jwks);
      if (client.jwksUri) remote = createRemoteJWKSet(new URL(client.jwksUri), this.remoteOptions);
    } catch (err) {
      throw new ConfigError(`Invalid trusted CDS client "${client.iss}": ${(err as Error).message}`);
    }
    const getKey: KeyResolver = async (header) => {
      // Inline keys first; the remote set only if the inline set has no key for this kid/alg.
      if (local) {
        try {
          return await local(header);
        } catch (err) {
          if (!remote || !(err instanceof errors.JWKSNoMatchingKey)) throw err;
        }
      }
      // jose refetches on an unknown kid at most once per cooldown, so a flood of bogus kids
      // cannot turn into a flood of fetches to the client's JWKS URL.
      if (!remote) throw new errors.JWKSNoMatchingKey();
      try {
        return await remote(header);
      } catch (err) {
        // A refused connection surfaces as a bare TypeError from fetch.
        if (err instanceof errors.JOSEError) throw err;
        throw new AuthFailure('jwks-unavailable');
      }
    };
    const entry: ClientEntry = { client, getKey };
    if (client.sub) entry.subs = new Set(client.sub);
    this.clients.set(client.iss, entry);
  }

  removeClient(iss: string): boolean {
    return this.clients.delete(iss);
  }

  getClient(iss: string): TrustedClient | undefined {
    return this.clients.get(iss)?.client;
  }

  /** The replay record in use (readiness reports whether it answers). */
  get replayStore(): ReplayStore {
    return this.replay;
  }

  /**
   * Verifies `token` for a call to `audience` (the full URL called, without query string).
   * Resolves with the caller, or rejects with a 401 HttpError (the reason is only logged), or with
   * a 503 HttpError when the replay record cannot be consulted (the token is then neither accepted
   * nor called invalid: the client may retry).
   *
   * Keys are selected, imported and cached by jose's JWK Sets (createLocalJWKSet /
   * createRemoteJWKSet, which also refetch on an unknown kid); the signature itself is checked with
   * node:crypto's synchronous verify on a cached KeyObject, which is several times faster than an
   * async WebCrypto round trip on every request (RS384 ≈ the raw RSA verify).
   */
  async verify(token: string, audience: string): Promise<VerifiedClient> {
    let iss: string | undefined;
    try {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
        throw new AuthFailure('malformed');
      }
      const dot1 = token.indexOf('.');
      const dot2 = token.indexOf('.', dot1 + 1);
      const header = decodeSegment(token.slice(0, dot1));
      const claims = decodeSegment(token.slice(dot1 + 1, dot2));
      if (typeof claims.iss === 'string') iss = claims.iss;

      // Header (RFC 7515 §4.1; CDS Hooks 2.0 §"Trusting CDS Clients": alg, kid, typ "JWT", jku).
      const alg = typeof header.alg === 'string' ? ALGS.get(header.alg) : undefined;
      if (!alg) throw new AuthFailure('alg-not-allowed');
      // We implement no JWS extensions: RFC 7515 §4.1.11 requires refusing any `crit`; `b64`
      // (RFC 7797) must be listed in crit, and JWTs always use base64url payloads anyway.
      if (header.crit !== undefined || header.b64 !== undefined) throw new AuthFailure('malformed');
      // Spec: `typ` is the fixed value "JWT" (tolerate its absence, refuse other types).
      if (header.typ !== undefined && (typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT')) {
        throw new AuthFailure('typ');
      }
      const entry = iss === undefined ? undefined : this.clients.get(iss);
      if (!entry || iss === undefined) throw new AuthFailure('unknown-iss');
      // Spec: services SHOULD allowlist `jku`. We never fetch a URL taken from a token: a `jku`
      // must be exactly the configured jwksUri (keys then come from that configured URL).
      if (header.jku !== undefined && (entry.client.jwksUri === undefined || header.jku !== entry.client.jwksUri)) {
        throw new AuthFailure('jku-mismatch');
      }

      // Signature (RFC 7515 §5.2) over the ASCII bytes of "<header>.<payload>" as received.
      const key = usableKey(await entry.getKey(header as JWSHeaderParameters), alg);
      const signature = Buffer.from(token.slice(dot2 + 1), 'base64url');
      let valid = false;
      try {
        const keyInput =
          alg.keyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' as const }
          : alg.keyType === 'rsa-pss' ? { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST }
          : key;
        valid = cryptoVerify(alg.hash, Buffer.from(token.slice(0, dot2), 'latin1'), keyInput, signature);
      } catch {
        valid = false;
      }
      if (!valid) throw new AuthFailure('bad-signature');

      // Claims (RFC 7519 §4.1), as the spec requires them: iss (checked above), aud, exp, iat,
      // jti required; nbf and sub optional (Epic sends both). Times in seconds, with clock skew.
      const nowMs = this.now();
      const now = Math.floor(nowMs / 1000);
      const skew = this.clockSkewS;
      const want = trimTrailingSlashes(audience);
      // aud is "string or array of string" naming this endpoint; tolerate a trailing '/'.
      const audOk = (a: unknown): boolean => a === want || a === `${want}/`;
      if (!(audOk(claims.aud) || (Array.isArray(claims.aud) && claims.aud.some(audOk)))) throw new AuthFailure('aud');
      const { exp, iat, nbf, jti, sub } = claims;
      if (exp === undefined || iat === undefined || jti === undefined) throw new AuthFailure('missing-claim');
      if (!isNumericDate(exp) || !isNumericDate(iat) || (nbf !== undefined && !isNumericDate(nbf))) throw new AuthFailure('claim');
      if (exp <= now - skew) throw new AuthFailure('expired');
      if (nbf !== undefined && nbf > now + skew) throw new AuthFailure('not-yet-valid');
      if (iat > now + skew) throw new AuthFailure('iat');
      if (now - iat - skew > this.maxTokenAgeS) throw new AuthFailure('too-old');
      if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) throw new AuthFailure('missing-claim');
      if (sub !== undefined && typeof sub !== 'string') throw new AuthFailure('claim');
      if (entry.subs && (sub === undefined || !entry.subs.has(sub))) throw new AuthFailure('sub');

      // Remember the jti only for a fully verified token (unsigned junk must not fill the cache),
      // until it would be refused anyway: min(exp, iat + max age) + skew, plus 1 s for rounding.
      const until = (Math.min(exp, iat + this.maxTokenAgeS) + skew + 1) * 1000;
      // One claim per token, last: the store is a network round trip with Redis.
      const added = await this.replay.claim(iss, jti, until, nowMs);
      if (added === 'replay') throw new AuthFailure('replay');
      if (added === 'full') throw new AuthFailure('replay-cache-full');

      const verified: VerifiedClient = { iss, jti, client: entry.client };
      if (sub !== undefined) verified.sub = sub;
      return verified;
    } catch (err) {
      if (err instanceof ReplayStoreUnavailable) {
        // Fail closed, but not as a bad token: accepting could let a replay through, and a 401
        // would tell the EHR its (valid) credentials are wrong.
        this.logger?.warn({ reason: 'replay-store-unavailable', iss: iss === undefined ? undefined : clip(iss) }, 'CDS call refused: replay store unavailable');
        throw replayStoreUnavailable();
      }
      throw this.reject(err instanceof AuthFailure ? err.reason : reasonOf(err), iss);
    }
  }

  /** Logs a refusal (reason category and issuer only) and returns the bare 401 to throw. */
  reject(reason: AuthFailureReason, iss?: string): HttpError {
    if (this.logger) {
      const obj: Record<string, unknown> = { reason };
      if (iss !== undefined) obj.iss = clip(iss);
      this.logger.warn(obj, 'CDS client JWT rejected');
    }
    return unauthorized();
  }
}

/** An issuer as logged: it comes from the token, so its length is bounded first. */
function clip(iss: string): string {
  return iss.length > 200 ? `${iss.slice(0, 200)}…` : iss;
}

/**
 * Strips trailing '/' in linear time. (`s.replace(/\/+$/, '')` is quadratic in V8 on a long run of
 * slashes not at the end, and the strings here come from the request: path and fhirServer.)
 */
function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x2f) end--;
  return end === s.length ? s : s.slice(0, end);
}

function isNumericDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

interface NodeKey {
  key: KeyObject;
  type: string | undefined;
  curve: string | undefined;
  bits: number | undefined;
}
// jose's JWK Sets return the same CryptoKey object for a given JWK and alg, so the KeyObject
// conversion happens once per key (old keys are collected with their JWK Set after a refresh).
const nodeKeys = new WeakMap<object, NodeKey>();

/** The KeyObject for a CryptoKey resolved by jose, after checking it suits the alg. */
function usableKey(cryptoKey: CryptoKey, alg: AlgSpec): KeyObject {
  let k = nodeKeys.get(cryptoKey);
  if (!k) {
    const key = KeyObject.from(cryptoKey);
    const details = key.asymmetricKeyDetails;
    k = { key, type: key.asymmetricKeyType, curve: details?.namedCurve, bits: details?.modulusLength };
    nodeKeys.set(cryptoKey, k);
  }
  if (k.key.type !== 'public') throw new AuthFailure('key-rejected');
  const ok =
    alg.keyType === 'rsa' ? k.type === 'rsa' && (k.bits ?? 0) >= MIN_RSA_BITS
    : alg.keyType === 'rsa-pss' ? (k.type === 'rsa' || k.type === 'rsa-pss') && (k.bits ?? 0) >= MIN_RSA_BITS
    : alg.keyType === 'ec' ? k.type === 'ec' && k.curve === alg.curve
    : k.type === 'ed25519';
  if (!ok) throw new AuthFailure('key-rejected');
  return k.key;
}

function decodeSegment(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new AuthFailure('malformed');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AuthFailure('malformed');
  return value as Record<string, unknown>;
}

/** Maps errors from key resolution (jose's JWK Sets) to a reason category. */
function reasonOf(err: unknown): AuthFailureReason {
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return 'no-matching-key';
  if (err instanceof errors.JOSENotSupported) return 'alg-not-allowed';
  if (err instanceof errors.JWKInvalid) return 'key-rejected';
  // Timeouts, a non-200 answer, a body that is not a JWK Set: the client's JWKS URL failed us.
  if (err instanceof errors.JOSEError) return 'jwks-unavailable';
  // A configured key that cannot be imported for this alg (e.g. a wrong curve).
  if (err instanceof TypeError) return 'key-rejected';
  return 'error';
}

/** `Authorization: Bearer <jwt>` → the token, or undefined. The scheme is case-insensitive (RFC 7235). */
function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer +(\S+) *$/i.exec(header);
  return m?.[1];
}

/**
 * Express middleware for every CDS endpoint (discovery, service, feedback). The expected audience
 * is the URL the client called: PUBLIC_BASE_URL + mount path + route path, without query string.
 * On success `res.locals.cdsClient` holds the VerifiedClient; on failure next() gets a 401 HttpError.
 */
export function cdsAuth(verifier: JwtVerifier, publicBaseUrl: string): RequestHandler {
  const base = trimTrailingSlashes(publicBaseUrl);
  return async (req, res, next) => {
    // RFC 6750 §3: a 401 for a bearer-protected resource carries a WWW-Authenticate challenge.
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      next(verifier.reject('missing-token'));
      return;
    }
    let verified: VerifiedClient;
    try {
      verified = await verifier.verify(token, base + req.baseUrl + req.path);
    } catch (err) {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      next(err);
      return;
    }
    res.locals.cdsClient = verified;
    next();
  };
}

/** The caller authenticated by `cdsAuth`, if any. */
export function cdsClientOf(res: Response): VerifiedClient | undefined {
  return res.locals.cdsClient as VerifiedClient | undefined;
}

/**
 * Whether `fhirServer` (from the hook request) is one of the client's allowed FHIR base URLs, or a
 * path beneath one at a '/' boundary. Compared as parsed URLs (scheme, host, port, path), never as
 * string prefixes: `https://ehr.example.org.evil.com` or `https://ehr.example.org/fhir-evil` do not
 * match `https://ehr.example.org/fhir`. DESIGN.md "Security rules": never send a bearer token (the
 * request's fhirAuthorization) to an arbitrary URL.
 */
export function isFhirServerAllowed(client: Pick<TrustedClient, 'fhirServers'>, fhirServer: string): boolean {
  let target: URL;
  try {
    target = new URL(fhirServer);
  } catch {
    return false;
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return false;
  if (target.username !== '' || target.password !== '' || target.search !== '' || target.hash !== '') return false;
  // A '%2F' or '%5C' could make a server see a different path than we compared.
  if (/%2f|%5c/i.test(target.pathname)) return false;
  const targetPath = trimTrailingSlashes(target.pathname);
  return client.fhirServers.some((allowed) => {
    let base: URL;
    try {
      base = new URL(allowed);
    } catch {
      return false;
    }
    if (base.protocol !== target.protocol || base.host !== target.host) return false;
    const basePath = trimTrailingSlashes(base.pathname);
    return targetPath === basePath || targetPath.startsWith(`${basePath}/`);
  });
}
