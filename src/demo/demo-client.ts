// The demo EHR's identity as a CDS Client. CDS Hooks 2.0 §"Trusting CDS Clients"
// (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients): every call carries a JWT signed with the
// client's private key (RS384 or ES384 are required of clients); the service trusts the matching
// public key. The key pair lives only in this process and is new at every start.
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { TrustedClient } from '../hooks/auth.ts';

const ALG = 'RS384';
/** Spec: "exp ... SHOULD NOT exceed 5 minutes" after iat. */
const TOKEN_LIFETIME_S = 300;

export interface DemoClient {
  /** What the service is configured to trust for the demo EHR. */
  trustedClient: TrustedClient;
  /** `iss` (and `sub`) of the demo EHR's JWTs: `<publicBaseUrl>/demo/ehr`. */
  iss: string;
  /** A signed CDS Client JWT for a call to `aud` (the full URL of the CDS endpoint called). */
  signClientJwt(aud: string): Promise<string>;
  /** Bearer token of the embedded FHIR server (random per process), given to the CDS service as fhirAuthorization. */
  fhirAccessToken: string;
}

export async function createDemoClient(opts: { publicBaseUrl: string }): Promise<DemoClient> {
  const base = opts.publicBaseUrl.replace(/\/+$/, '');
  const iss = `${base}/demo/ehr`;
  const { publicKey, privateKey } = await generateKeyPair(ALG, { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const publicJwk: JWK = { ...jwk, alg: ALG, kid, use: 'sig' };

  const trustedClient: TrustedClient = {
    iss,
    name: 'Embedded demo EHR',
    jwks: { keys: [publicJwk] },
    fhirServers: [`${base}/demo/fhir`],
  };

  async function signClientJwt(aud: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
      .setIssuer(iss)
      .setSubject(iss)
      .setAudience(aud)
      .setIssuedAt()
      .setExpirationTime(`${TOKEN_LIFETIME_S}s`)
      .setJti(randomUUID())
      .sign(privateKey);
  }

  return { trustedClient, iss, signClientJwt, fhirAccessToken: randomBytes(32).toString('base64url') };
}
