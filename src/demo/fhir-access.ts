// Who may do what at the demo FHIR server. Two kinds of bearer token:
//   - the demo EHR's own token (the EHR page and the CDS calls' fhirAuthorization): the whole server,
//     as before;
//   - a SMART access token from the demo authorization server (smart-auth.ts): only the SMART v2
//     patient scopes it carries, only inside its patient's compartment (SMART App Launch 2.x
//     §"Scopes": patient/ scopes are limited to the patient in context).
// Search parameters that could reach outside the compartment (_include, _revinclude, _has, chains)
// are refused for SMART tokens.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MemoryRepository } from '@medplum/fhir-router';
import type { FhirAccessDecision, FhirAccessRequest } from '../fhir/embedded-server.ts';
import type { SmartAccess } from './smart-auth.ts';
import { SMART_RESOURCE_TYPES } from './smart-auth.ts';
import { patientScopeAllows, type Interaction } from './smart-scopes.ts';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const TYPES: ReadonlySet<string> = new Set(SMART_RESOURCE_TYPES);
const ALLOWED_CONTROL_PARAMS = new Set(['_count', '_offset', '_sort', '_id', '_elements', '_summary', '_total', '_format']);

export interface FhirAccessOptions {
  /** The demo EHR's own token: full access. */
  ehrToken: string;
  verifySmartToken: (token: string) => Promise<SmartAccess | undefined>;
}

export function fhirAccessPolicy(opts: FhirAccessOptions) {
  const ehrDigest = digest(`Bearer ${opts.ehrToken}`);
  return async (req: FhirAccessRequest, repo: MemoryRepository): Promise<FhirAccessDecision> => {
    const header = req.authorization ?? '';
    if (timingSafeEqual(digest(header), ehrDigest)) return { ok: true };
    const token = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(header)?.[1];
    const access = token ? await opts.verifySmartToken(token) : undefined;
    if (!access) return { ok: false, status: 401, message: 'Unauthorized' };
    return patientDecision(req, access, repo);
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

const forbidden = (message: string): FhirAccessDecision => ({ ok: false, status: 403, message });

async function patientDecision(req: FhirAccessRequest, access: SmartAccess, repo: MemoryRepository): Promise<FhirAccessDecision> {
  const parts = req.path.split('/').filter(Boolean);
  const [type, id, ...rest] = parts;
  if (type === undefined || !TYPES.has(type) || rest.length > 0 || (id !== undefined && !FHIR_ID.test(id))) {
    return forbidden('Not available to SMART apps at the demo server');
  }
  const interaction: Interaction | undefined =
    req.method === 'GET' ? (id === undefined ? 's' : 'r') : req.method === 'POST' && id === undefined ? 'c' : req.method === 'PUT' && id !== undefined ? 'u' : undefined;
  if (interaction === undefined) return forbidden('Interaction not supported for SMART apps');
  if (!patientScopeAllows(access.scopes, type, interaction)) return forbidden(`The access token's scopes do not allow this (${type}, ${interaction})`);
  const patientRef = `Patient/${access.patient}`;

  if (interaction === 's') {
    for (const name of req.query.keys()) {
      if (name.startsWith('_') ? !ALLOWED_CONTROL_PARAMS.has(name) : name.includes('.') || name.includes(':')) {
        return forbidden(`Search parameter '${name}' is not available to SMART apps`);
      }
    }
    if (type === 'Patient') {
      return req.query.getAll('_id').join() === access.patient ? { ok: true } : forbidden('Search limited to the patient in context (_id)');
    }
    const refs = [...req.query.getAll('patient'), ...req.query.getAll('subject')];
    const inCompartment = refs.length === 1 && (refs[0] === access.patient || refs[0] === patientRef);
    return inCompartment ? { ok: true } : forbidden('Search limited to the patient in context (patient or subject)');
  }
  if (type === 'Patient') {
    return id === access.patient && interaction === 'r' ? { ok: true } : forbidden('Only the patient in context');
  }
  if (interaction === 'c' || interaction === 'u') {
    if (subjectOf(req.body) !== patientRef || (req.body as { resourceType?: unknown }).resourceType !== type) return forbidden('The resource must be about the patient in context');
  }
  if (id !== undefined) {
    let existing: unknown;
    try {
      existing = await repo.readResource(type, id);
    } catch {
      return interaction === 'u' ? forbidden('Only existing resources of the patient in context can be updated') : { ok: true }; // a 404 is the FHIR router's to answer
    }
    if (subjectOf(existing) !== patientRef) return forbidden('Only the patient in context');
  }
  return { ok: true };
}

function subjectOf(resource: unknown): string | undefined {
  const r = resource as { subject?: { reference?: unknown } } | null | undefined;
  return typeof r?.subject?.reference === 'string' ? r.subject.reference : undefined;
}
