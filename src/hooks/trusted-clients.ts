// The allowlist of CDS Clients (EHRs) this service trusts, read from CDS_CLIENTS_FILE.
// CDS Hooks 2.0 §"Trusting CDS Clients" (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients):
// the service decides out of band which issuers it trusts and where their public keys are; it
// "SHOULD allowlist the iss, jku and sub fields". DESIGN.md "Security rules": `fhirServer` must
// also be on a per-issuer allowlist, so that a bearer token is never sent to an arbitrary URL.
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { z } from 'zod';
import { ConfigError } from '../config.ts';

export interface TrustedClient {
  /** The `iss` claim the client puts in its JWTs. */
  iss: string;
  /** Optional display name for logs and the feedback report. */
  name?: string;
  /** Public keys given inline (a JWK Set). */
  jwks?: JSONWebKeySet;
  /** URL of the client's JWK Set; a `jku` header, when sent, must equal it exactly. */
  jwksUri?: string;
  /** FHIR server base URLs this client may send us (`fhirServer` in the request). */
  fhirServers: string[];
  /** Optional allowlist of `sub` values (the spec's SHOULD); absent = any `sub`. */
  sub?: string[];
}

const httpUrl = (what: string) =>
  z
    .string()
    .refine((s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '' && u.password === '';
      } catch {
        return false;
      }
    }, `${what} must be an absolute http(s) URL without credentials`);

// Only public signature keys may be configured: a private key ("d", RSA primes) or a symmetric
// key ("oct") in this file is a configuration mistake we refuse loudly (HS* is never accepted).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;
const JwkSchema = z
  .looseObject({ kty: z.string().min(1), kid: z.string().optional(), use: z.string().optional() })
  .refine((k) => k.kty !== 'oct', 'symmetric keys (kty "oct") are not allowed; use public RSA/EC/OKP keys')
  .refine((k) => PRIVATE_MEMBERS.every((m) => !(m in k)), 'private key material found; configure the PUBLIC key only')
  .refine((k) => k.use === undefined || k.use === 'sig', 'key "use" must be "sig"');

const JwksSchema = z.strictObject({ keys: z.array(JwkSchema).min(1, 'jwks.keys must not be empty') });

export const TrustedClientSchema = z
  .strictObject({
    iss: z.string().min(1, 'iss must be a non-empty string'),
    name: z.string().optional(),
    jwks: JwksSchema.optional(),
    jwksUri: httpUrl('jwksUri').optional(),
    fhirServers: z.array(httpUrl('each fhirServers entry')),
    sub: z.array(z.string().min(1)).optional(),
  })
  .refine((c) => c.jwks !== undefined || c.jwksUri !== undefined, {
    message: 'at least one of "jwks" (inline JWK Set) or "jwksUri" is required',
  });

const TrustedClientsSchema = z.array(TrustedClientSchema).superRefine((clients, ctx) => {
  const seen = new Set<string>();
  clients.forEach((c, i) => {
    if (seen.has(c.iss)) ctx.addIssue({ code: 'custom', path: [i, 'iss'], message: `duplicate iss "${c.iss}"` });
    seen.add(c.iss);
  });
});

function describe(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length > 0 ? `[${i.path.join('.')}]` : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Validates one client (e.g. the embedded demo's), throwing a ConfigError with a clear message. */
export function parseTrustedClient(input: unknown): TrustedClient {
  const parsed = TrustedClientSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`Invalid trusted CDS client: ${describe(parsed.error)}`);
  return parsed.data as TrustedClient;
}

/** Validates a whole client list (the content of CDS_CLIENTS_FILE). */
export function parseTrustedClients(input: unknown, source = 'trusted clients'): TrustedClient[] {
  const parsed = TrustedClientsSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`Invalid ${source}: ${describe(parsed.error)}`);
  return parsed.data as TrustedClient[];
}

/** Reads and validates CDS_CLIENTS_FILE: `[{ iss, jwks?, jwksUri?, fhirServers: [] }]`. */
export function loadTrustedClients(path: string): TrustedClient[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new ConfigError(`Cannot read CDS_CLIENTS_FILE ${path}: ${code}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`CDS_CLIENTS_FILE ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseTrustedClients(json, `CDS_CLIENTS_FILE ${path}`);
}
