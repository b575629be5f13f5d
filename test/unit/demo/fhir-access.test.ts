// SMART v2 scopes (src/demo/smart-scopes.ts) and the demo FHIR server's access policy for SMART tokens
// (src/demo/fhir-access.ts): scopes per interaction, only the patient in context, no compartment escape.
import type { MemoryRepository } from '@medplum/fhir-router';
import { fhirAccessPolicy } from '../../../src/demo/fhir-access.ts';
import { isReadOnly, parseResourceScope, parseScopes, patientScopeAllows, patientScopeVocabulary } from '../../../src/demo/smart-scopes.ts';
import type { FhirAccessRequest } from '../../../src/fhir/embedded-server.ts';

test('scopes: v2 permissions, v1 forms, non-resource scopes ignored', () => {
  expect(parseResourceScope('patient/Observation.rs')).toEqual({ context: 'patient', type: 'Observation', permissions: new Set(['r', 's']) });
  expect(parseResourceScope('patient/*.read')?.permissions).toEqual(new Set(['r', 's']));
  expect(parseResourceScope('patient/Observation.sr')).toBeUndefined(); // v2 order is c r u d s
  expect(parseResourceScope('launch')).toBeUndefined();
  const scopes = parseScopes('launch openid patient/Observation.rs patient/DiagnosticReport.cru');
  expect(patientScopeAllows(scopes, 'Observation', 's')).toBe(true);
  expect(patientScopeAllows(scopes, 'Observation', 'c')).toBe(false);
  expect(patientScopeAllows(scopes, 'DiagnosticReport', 'c')).toBe(true);
  expect(patientScopeAllows(scopes, 'Condition', 'r')).toBe(false);
  expect(isReadOnly(parseResourceScope('patient/DiagnosticReport.cru')!)).toBe(false);
  expect(patientScopeVocabulary(['Observation'])).toEqual(expect.arrayContaining(['patient/Observation.rs', 'patient/*.cruds', 'patient/Observation.write']));
});

const mine = { resourceType: 'Observation', id: 'o1', subject: { reference: 'Patient/p1' } };
const theirs = { resourceType: 'Observation', id: 'o2', subject: { reference: 'Patient/p2' } };
const repo = {
  readResource: async (_type: string, id: string) => {
    const r = [mine, theirs].find((x) => x.id === id);
    if (!r) throw new Error('not found');
    return r;
  },
} as unknown as MemoryRepository;

const policy = fhirAccessPolicy({
  ehrToken: 'ehr-token',
  verifySmartToken: async (t) => (t === 'smart' ? { patient: 'p1', scopes: parseScopes('patient/Patient.rs patient/Observation.rs patient/DiagnosticReport.c') } : undefined),
});

function req(method: string, pathAndQuery: string, token = 'smart', body: unknown = undefined): FhirAccessRequest {
  const u = new URL(pathAndQuery, 'http://x');
  return { method, path: u.pathname, query: u.searchParams, body, authorization: `Bearer ${token}` };
}

test.each([
  ['the EHR token reads anything', req('GET', '/Condition?patient=p2', 'ehr-token'), true],
  ['an unknown token', req('GET', '/Observation?patient=p1', 'nope'), 401],
  ['search in the compartment', req('GET', '/Observation?patient=p1&code=x'), true],
  ['search by subject reference', req('GET', '/Observation?subject=Patient/p1'), true],
  ['search of another patient', req('GET', '/Observation?patient=p2'), 403],
  ['search without a patient', req('GET', '/Observation?code=x'), 403],
  ['two patients', req('GET', '/Observation?patient=p1&subject=Patient/p2'), 403],
  ['_include escapes the compartment', req('GET', '/Observation?patient=p1&_include=Observation:subject'), 403],
  ['a chained parameter', req('GET', '/Observation?patient=p1&subject.name=x'), 403],
  ['a type without scope', req('GET', '/Condition?patient=p1'), 403],
  ['the patient itself', req('GET', '/Patient/p1'), true],
  ['another patient resource', req('GET', '/Patient/p2'), 403],
  ['Patient search by _id', req('GET', '/Patient?_id=p1'), true],
  ['Patient search of everyone', req('GET', '/Patient?_count=10'), 403],
  ['read of one of its Observations', req('GET', '/Observation/o1'), true],
  ['read of another patient\'s Observation', req('GET', '/Observation/o2'), 403],
  ['create for the patient', req('POST', '/DiagnosticReport', 'smart', { resourceType: 'DiagnosticReport', subject: { reference: 'Patient/p1' } }), true],
  ['create for another patient', req('POST', '/DiagnosticReport', 'smart', { resourceType: 'DiagnosticReport', subject: { reference: 'Patient/p2' } }), 403],
  ['create without the scope', req('POST', '/Observation', 'smart', { resourceType: 'Observation', subject: { reference: 'Patient/p1' } }), 403],
  ['update without the scope', req('PUT', '/DiagnosticReport/d1', 'smart', { resourceType: 'DiagnosticReport', id: 'd1', subject: { reference: 'Patient/p1' } }), 403],
  ['history and operations', req('GET', '/Observation/o1/_history'), 403],
])('%s', async (_name, request, expected) => {
  const decision = await policy(request, repo);
  if (expected === true) expect(decision).toEqual({ ok: true });
  else expect(decision).toMatchObject({ ok: false, status: expected });
});
