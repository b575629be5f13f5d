// SMART App Launch 2.x scopes (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html):
// `<context>/<resource type>.<permissions>` with v2 permissions as an ordered subset of "cruds"
// (create, read, update, delete, search), and the v1 forms `.read`, `.write`, `.*` still sent by
// older apps. The demo's resource server grants and checks these; pure, no I/O.

export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

export interface ResourceScope {
  context: 'patient' | 'user' | 'system';
  /** A FHIR resource type, or '*'. */
  type: string;
  permissions: ReadonlySet<Interaction>;
}

const V2 = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{1,63})\.(c?r?u?d?s?)$/;
const V1 = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{1,63})\.(read|write|\*)$/;
const V1_PERMISSIONS: Record<string, Interaction[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };

/** One scope string as a resource scope, or undefined (launch, openid, fhirUser, malformed...). */
export function parseResourceScope(scope: string): ResourceScope | undefined {
  const v2 = V2.exec(scope);
  if (v2 && v2[3] !== '') {
    return { context: v2[1] as ResourceScope['context'], type: v2[2]!, permissions: new Set(v2[3]!.split('') as Interaction[]) };
  }
  const v1 = V1.exec(scope);
  if (v1) return { context: v1[1] as ResourceScope['context'], type: v1[2]!, permissions: new Set(V1_PERMISSIONS[v1[3]!]) };
  return undefined;
}

export function parseScopes(scope: string | undefined): ResourceScope[] {
  return (scope ?? '').split(/\s+/).map(parseResourceScope).filter((s): s is ResourceScope => s !== undefined);
}

/** Whether `scopes` allow `interaction` on `type` in the patient context. */
export function patientScopeAllows(scopes: readonly ResourceScope[], type: string, interaction: Interaction): boolean {
  return scopes.some((s) => s.context === 'patient' && (s.type === '*' || s.type === type) && s.permissions.has(interaction));
}

/** A scope that only reads (r/s, or v1 `.read`): what an EHR grants when it refuses writes. */
export function isReadOnly(scope: ResourceScope): boolean {
  return [...scope.permissions].every((p) => p === 'r' || p === 's');
}

/**
 * Every patient-context scope string the demo server accepts for `types`: the v2 permission subsets
 * and the v1 forms. oidc-provider grants only scope values its resource server lists.
 */
export function patientScopeVocabulary(types: readonly string[]): string[] {
  const letters: Interaction[] = ['c', 'r', 'u', 'd', 's'];
  const subsets: string[] = [];
  for (let mask = 1; mask < 32; mask++) subsets.push(letters.filter((_, i) => (mask & (1 << i)) !== 0).join(''));
  const out: string[] = [];
  for (const type of ['*', ...types]) {
    for (const p of [...subsets, 'read', 'write', '*']) out.push(`patient/${type}.${p}`);
  }
  return out;
}
