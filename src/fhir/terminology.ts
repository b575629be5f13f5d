// Input codes live in profiles/ as FHIR ValueSets and ConceptMaps (MODELS.md §4: "keep the mapping in
// profiles/, not in code"). The runtime loads them once at start-up (loadProjectTerminology) into a
// Terminology that answers two questions fast:
//   - valueSetContains(name, codings): is this Observation/Condition code one of ours?
//   - queryCodes(name): the `code=` token list to search a FHIR server with.
//
// Supported ValueSet.compose (FHIR R4 §4.9.5, https://hl7.org/fhir/R4/valueset.html#compose):
//   - include/exclude with `system` + `concept` list;
//   - include/exclude with `system` only: every code of the system (enumerated when the CodeSystem is
//     loaded from the same directory, otherwise matched by system);
//   - include with a single `valueSet` (several include elements = union);
//   - `filter` on property `concept` with op `is-a`, `descendent-of`, `=` or `in`.
// Anything else (several valueSets in one include = intersection, other filter properties) is
// rejected at load, so a profile author learns at start-up that the service would not honour it.
//
// Hierarchy without a terminology server (`is-a`):
//   - ICD-10 / ICD-10-CM: the hierarchy is positional — a code's ancestors are its prefixes
//     (I21 ⊃ I21.0 ⊃ I21.01; K74.6 ⊃ K74.60, K74.69). So `is-a I21` is a prefix match on the code with
//     the dot removed (sites send both 'I21.4' and 'I214').
//   - a CodeSystem loaded from the profiles directory: its nested `concept` tree is expanded.
//   - anything else (SNOMED CT): only the code itself matches. SNOMED's hierarchy is a polyhierarchy
//     that needs the release files; list the descendants you need explicitly in the ValueSet.
//
// ConceptMaps (R4 §4.10, https://hl7.org/fhir/R4/conceptmap.html) map site codes to ours. A source
// coding counts as a member of every ValueSet that contains one of its targets, but only for target
// equivalence `equivalent` or `equal` (R4 ConceptMapEquivalence; R5 relationship `equivalent`):
// `wider`, `narrower`, `inexact`, `relatedto` etc. do not carry the meaning precisely enough to feed a
// score.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeableConcept, CodeSystem, CodeSystemConcept, Coding, ConceptMap, ValueSet, ValueSetComposeInclude } from 'fhir/r4.js';
import { ICD10, ICD10CM, valueSetUrl } from './canonical.ts';

export class TerminologyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TerminologyError';
  }
}

/** The repository's profiles/ directory, found relative to this module (src/fhir or dist/fhir). */
export const DEFAULT_PROFILES_DIR = fileURLToPath(new URL('../../profiles/', import.meta.url));

export type CodingsLike = readonly Coding[] | CodeableConcept | Coding | null | undefined;

export interface Terminology {
  /** True when a ValueSet with this short name (or canonical URL) is loaded. */
  hasValueSet(name: string): boolean;
  /** Whether any of the codings is in the ValueSet (directly or through an equivalent ConceptMap entry). */
  valueSetContains(name: string, codings: CodingsLike): boolean;
  /**
   * `system|code,system|code` for a FHIR token search (`code=`), not URL-encoded. Includes ConceptMap
   * source codes that map into the set, and `system|` (any code of the system, FHIR R4 §3.1.1.4.4.1)
   * for members given by a hierarchy filter or a whole system. The server's matches are therefore a
   * superset of the ValueSet: always re-check them with valueSetContains.
   */
  queryCodes(name: string): string;
  /** Canonical URLs of the loaded ValueSets. */
  valueSetUrls(): string[];
}

/** Short name ('creatinine') → our canonical URL; a full canonical (optionally `|version`) is kept. */
export function resolveValueSetUrl(name: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(name)) return name.split('|')[0] ?? name;
  return valueSetUrl(name);
}

// ---------------------------------------------------------------------------------------------------
// Compiled form

const ICD_SYSTEMS = new Set([ICD10CM, ICD10]);
const isIcd = (system: string): boolean => ICD_SYSTEMS.has(system);
/** ICD codes compare without the dot and case-insensitively ('I21.4' = 'I214' = 'i21.4'). */
const normCode = (system: string, code: string): string => (isIcd(system) ? code.replace(/\./g, '').toUpperCase() : code);

/** system → codes (ICD codes normalised): nested so the hot path allocates no key strings. */
type CodeIndex = Map<string, Set<string>>;
const hasCode = (idx: CodeIndex, system: string, code: string): boolean => idx.get(system)?.has(normCode(system, code)) ?? false;
/** Returns false when already present. */
function addToIndex(idx: CodeIndex, system: string, code: string): boolean {
  let set = idx.get(system);
  if (set === undefined) idx.set(system, (set = new Set()));
  const n = normCode(system, code);
  if (set.has(n)) return false;
  set.add(n);
  return true;
}

interface Members {
  /** Exact codes by system. */
  codes: CodeIndex;
  /** Systems all of whose codes are members. */
  systems: Set<string>;
  /** ICD `is-a`: system → normalised code prefixes (the code itself and everything below it). */
  isA: Map<string, Set<string>>;
  /** ICD `descendent-of`: system → prefixes whose strict extensions are members. */
  below: Map<string, Set<string>>;
}

interface CompiledSet {
  url: string;
  include: Members;
  exclude: Members;
  /** Referenced ValueSets that could not be flattened (they have excludes of their own). */
  refs: CompiledSet[];
  /** ConceptMap source keys whose equivalent target is a member. */
  mapped: CodeIndex;
  /** Tokens for queryCodes, in ValueSet order. */
  tokens: string[];
  queryCache?: string;
}

const emptyMembers = (): Members => ({ codes: new Map(), systems: new Set(), isA: new Map(), below: new Map() });

function hasPrefix(map: Map<string, Set<string>>, system: string, code: string, strict: boolean): boolean {
  const prefixes = map.get(system);
  if (prefixes === undefined) return false;
  const n = normCode(system, code);
  const last = strict ? n.length - 1 : n.length;
  // At most ~8 Set lookups (ICD-10-CM codes are ≤ 7 characters): O(1) per coding.
  for (let i = 1; i <= last; i++) if (prefixes.has(n.slice(0, i))) return true;
  return false;
}

function matches(m: Members, system: string, code: string): boolean {
  return (
    (m.codes.size > 0 && hasCode(m.codes, system, code)) ||
    m.systems.has(system) ||
    (m.isA.size > 0 && hasPrefix(m.isA, system, code, false)) ||
    (m.below.size > 0 && hasPrefix(m.below, system, code, true))
  );
}

function isEmpty(m: Members): boolean {
  return m.codes.size === 0 && m.systems.size === 0 && m.isA.size === 0 && m.below.size === 0;
}

function mergeInto(target: Members, source: Members): void {
  for (const [s, codes] of source.codes) for (const c of codes) addToIndex(target.codes, s, c);
  for (const s of source.systems) target.systems.add(s);
  for (const [s, p] of source.isA) for (const x of p) addPrefix(target.isA, s, x);
  for (const [s, p] of source.below) for (const x of p) addPrefix(target.below, s, x);
}

function addPrefix(map: Map<string, Set<string>>, system: string, prefix: string): void {
  let set = map.get(system);
  if (set === undefined) map.set(system, (set = new Set()));
  set.add(prefix);
}

function setContains(set: CompiledSet, system: string, code: string): boolean {
  if (set.mapped.size > 0 && hasCode(set.mapped, system, code)) return true;
  const included = matches(set.include, system, code) || set.refs.some((r) => setContains(r, system, code));
  return included && !matches(set.exclude, system, code);
}

/** The codings of a CodeableConcept, a Coding or a list of Codings. */
function codingList(codings: CodingsLike): readonly Coding[] {
  if (codings === null || codings === undefined || typeof codings !== 'object') return [];
  if (Array.isArray(codings)) return codings as readonly Coding[];
  const o = codings as CodeableConcept & Coding;
  if (o.coding !== undefined || o.code === undefined) return Array.isArray(o.coding) ? o.coding : [];
  return [o];
}

/** Hot path (called per Observation per input): plain loops, no allocation besides the key string. */
function anyCodingIn(set: CompiledSet, codings: CodingsLike): boolean {
  const list = codingList(codings);
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    // A coding without a system is ambiguous (is '2160-0' LOINC?): it never matches.
    if (c === null || typeof c !== 'object' || typeof c.system !== 'string' || typeof c.code !== 'string' || c.code === '') continue;
    if (setContains(set, c.system.trim(), c.code.trim())) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Building

type TerminologyResource = ValueSet | ConceptMap | CodeSystem;

/** Build a Terminology from in-memory resources (later resources with the same url win). */
export function createTerminology(resources: readonly TerminologyResource[]): Terminology {
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  const conceptMaps: ConceptMap[] = [];
  for (const r of resources) {
    if (r.resourceType === 'ValueSet') {
      if (!r.url) throw new TerminologyError(`ValueSet${r.id ? ` '${r.id}'` : ''} has no url`);
      valueSets.set(stripVersion(r.url), r);
    } else if (r.resourceType === 'CodeSystem') {
      if (r.url) codeSystems.set(stripVersion(r.url), r);
    } else if (r.resourceType === 'ConceptMap') {
      conceptMaps.push(r);
    }
  }

  const compiled = new Map<string, CompiledSet>();
  const compiling = new Set<string>();
  const compile = (url: string): CompiledSet => {
    const done = compiled.get(url);
    if (done) return done;
    const vs = valueSets.get(url);
    if (!vs) throw new TerminologyError(`Unknown ValueSet ${url}`);
    if (compiling.has(url)) throw new TerminologyError(`ValueSet ${url} includes itself (cycle)`);
    compiling.add(url);
    const set = compileValueSet(vs, codeSystems, compile);
    compiling.delete(url);
    compiled.set(url, set);
    return set;
  };
  for (const url of valueSets.keys()) compile(url);

  applyConceptMaps(conceptMaps, [...compiled.values()]);

  const byName = new Map<string, CompiledSet>();
  const get = (name: string): CompiledSet => {
    const hit = byName.get(name);
    if (hit) return hit;
    const url = resolveValueSetUrl(name);
    const set = compiled.get(url);
    if (!set) throw new TerminologyError(`Unknown ValueSet '${name}' (${url}): is it in profiles/?`);
    byName.set(name, set);
    return set;
  };

  return {
    hasValueSet: (name) => compiled.has(resolveValueSetUrl(name)),
    valueSetContains: (name, codings) => anyCodingIn(get(name), codings),
    queryCodes(name) {
      const set = get(name);
      set.queryCache ??= [...new Set(collectTokens(set, new Set()))].join(',');
      return set.queryCache;
    },
    valueSetUrls: () => [...compiled.keys()],
  };
}

function collectTokens(set: CompiledSet, seen: Set<CompiledSet>): string[] {
  if (seen.has(set)) return [];
  seen.add(set);
  return [...set.tokens, ...set.refs.flatMap((r) => collectTokens(r, seen))];
}

function stripVersion(url: string): string {
  return url.split('|')[0] ?? url;
}

function compileValueSet(vs: ValueSet, codeSystems: Map<string, CodeSystem>, compile: (url: string) => CompiledSet): CompiledSet {
  const url = stripVersion(vs.url ?? '');
  const set: CompiledSet = { url, include: emptyMembers(), exclude: emptyMembers(), refs: [], mapped: new Map(), tokens: [] };
  const where = `ValueSet ${url}`;
  const compose = vs.compose;
  // An expansion-only ValueSet (no compose) is accepted: its contains[] are the members.
  if (!compose) {
    for (const c of flattenExpansion(vs.expansion?.contains ?? [])) addCode(set, set.include, c.system, c.code, true);
    return set;
  }
  for (const inc of compose.include ?? []) addComponent(set, set.include, inc, codeSystems, compile, where, true);
  for (const exc of compose.exclude ?? []) addComponent(set, set.exclude, exc, codeSystems, compile, where, false);
  return set;
}

function flattenExpansion(contains: NonNullable<NonNullable<ValueSet['expansion']>['contains']>): Array<{ system: string; code: string }> {
  const out: Array<{ system: string; code: string }> = [];
  const walk = (list: typeof contains): void => {
    for (const c of list) {
      if (c.system && c.code && !c.abstract) out.push({ system: c.system, code: c.code });
      if (c.contains) walk(c.contains);
    }
  };
  walk(contains);
  return out;
}

function addCode(set: CompiledSet, m: Members, system: string, code: string, withToken: boolean): void {
  addToIndex(m.codes, system, code);
  if (withToken) set.tokens.push(token(system, code));
}

function addComponent(
  set: CompiledSet,
  m: Members,
  inc: ValueSetComposeInclude,
  codeSystems: Map<string, CodeSystem>,
  compile: (url: string) => CompiledSet,
  where: string,
  isInclude: boolean,
): void {
  const refs = inc.valueSet ?? [];
  if (refs.length > 0) {
    if (!isInclude) throw new TerminologyError(`${where}: exclude by valueSet is not supported`);
    if (refs.length > 1 || inc.system) {
      // FHIR R4: several valueSets (or valueSet + system) in one include means their intersection.
      throw new TerminologyError(`${where}: an include combining several valueSets or valueSet + system (intersection) is not supported; use one include per ValueSet`);
    }
    const ref = compile(stripVersion(refs[0] ?? ''));
    if (ref.refs.length === 0 && isEmpty(ref.exclude)) {
      mergeInto(m, ref.include);
      set.tokens.push(...ref.tokens);
    } else {
      set.refs.push(ref);
    }
    return;
  }
  const system = inc.system?.trim();
  if (!system) throw new TerminologyError(`${where}: include/exclude without system or valueSet`);
  const hasConcepts = (inc.concept?.length ?? 0) > 0;
  const hasFilters = (inc.filter?.length ?? 0) > 0;
  if (hasConcepts && hasFilters) throw new TerminologyError(`${where}: concept and filter in the same include is not allowed (FHIR vsd-3)`);
  if (hasConcepts) {
    for (const c of inc.concept ?? []) addCode(set, m, system, c.code, isInclude);
    return;
  }
  const cs = codeSystems.get(system);
  if (!hasFilters) {
    // The whole system: enumerate it when we have the CodeSystem, otherwise match by system.
    if (cs && cs.content === 'complete') {
      for (const c of walkConcepts(cs.concept ?? [])) addCode(set, m, system, c.code, isInclude);
    } else {
      m.systems.add(system);
      if (isInclude) set.tokens.push(`${escapeToken(system)}|`);
    }
    return;
  }
  if ((inc.filter?.length ?? 0) > 1) throw new TerminologyError(`${where}: several filters in one include (intersection) are not supported`);
  const f = inc.filter?.[0];
  if (!f) return;
  if (f.property !== 'concept') throw new TerminologyError(`${where}: filter on property '${f.property}' is not supported`);
  switch (f.op) {
    case '=':
      addCode(set, m, system, f.value, isInclude);
      return;
    case 'in':
      for (const code of f.value.split(',').map((x) => x.trim()).filter(Boolean)) addCode(set, m, system, code, isInclude);
      return;
    case 'is-a':
    case 'descendent-of': {
      const strict = f.op === 'descendent-of';
      if (isIcd(system)) {
        addPrefix(strict ? m.below : m.isA, system, normCode(system, f.value));
        if (isInclude) set.tokens.push(`${escapeToken(system)}|`);
      } else if (cs) {
        const root = findConcept(cs.concept ?? [], f.value);
        if (!root) throw new TerminologyError(`${where}: filter code ${f.value} is not in CodeSystem ${system}`);
        for (const c of walkConcepts(strict ? (root.concept ?? []) : [root])) addCode(set, m, system, c.code, isInclude);
      } else {
        // No hierarchy available (e.g. SNOMED CT without a terminology server): the code itself only.
        if (!strict) addCode(set, m, system, f.value, isInclude);
      }
      return;
    }
    default:
      throw new TerminologyError(`${where}: filter op '${f.op}' is not supported`);
  }
}

function* walkConcepts(concepts: readonly CodeSystemConcept[]): Generator<CodeSystemConcept> {
  for (const c of concepts) {
    yield c;
    if (c.concept) yield* walkConcepts(c.concept);
  }
}

function findConcept(concepts: readonly CodeSystemConcept[], code: string): CodeSystemConcept | undefined {
  for (const c of walkConcepts(concepts)) if (c.code === code) return c;
  return undefined;
}

/** FHIR R4 §3.1.1.4.4 (search escaping): `\`, `,`, `|` and `$` in a token value are escaped with `\`. */
function escapeToken(value: string): string {
  return value.replace(/[\\,|$]/g, (ch) => `\\${ch}`);
}

function token(system: string, code: string): string {
  return `${escapeToken(system)}|${escapeToken(code)}`;
}

/** Equivalences that let a site code stand for ours (R4 ConceptMapEquivalence; R5 relationship). */
const USABLE_EQUIVALENCE = new Set(['equivalent', 'equal']);

function applyConceptMaps(maps: readonly ConceptMap[], sets: readonly CompiledSet[]): void {
  for (const cm of maps) {
    for (const group of cm.group ?? []) {
      const source = group.source?.trim();
      const target = group.target?.trim();
      if (!source || !target) continue; // A group without both systems cannot be applied safely.
      for (const el of group.element ?? []) {
        if (!el.code) continue;
        for (const t of el.target ?? []) {
          const relationship = (t as { relationship?: string }).relationship; // R5 shape, tolerated
          const eq = t.equivalence ?? relationship;
          if (!t.code || eq === undefined || !USABLE_EQUIVALENCE.has(eq)) continue;
          for (const set of sets) {
            if (setContains(set, target, t.code)) {
              if (addToIndex(set.mapped, source, el.code)) set.tokens.push(token(source, el.code));
            }
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Loading from disk

/**
 * Read every ValueSet, CodeSystem and ConceptMap (also inside a Bundle) from the JSON files of the
 * given directories; other resources (StructureDefinitions) are skipped. Later directories win for a
 * repeated url, so a site directory can override a shipped ValueSet and add ConceptMaps.
 */
export function loadTerminology(dirs: readonly string[], options: { skipExperimentalMapsIn?: string } = {}): Terminology {
  const resources: TerminologyResource[] = [];
  for (const dir of dirs) {
    const skipExperimentalMaps = dir === options.skipExperimentalMapsIn;
    let names: string[];
    try {
      if (!statSync(dir).isDirectory()) throw new Error('not a directory');
      names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
    } catch (e) {
      throw new TerminologyError(`Cannot read terminology directory ${dir}: ${(e as Error).message}`);
    }
    for (const name of names) {
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(join(dir, name), 'utf8'));
      } catch (e) {
        throw new TerminologyError(`${join(dir, name)} is not valid JSON: ${(e as Error).message}`);
      }
      collect(json, resources, skipExperimentalMaps);
    }
  }
  return createTerminology(resources);
}

function collect(json: unknown, out: TerminologyResource[], skipExperimentalMaps: boolean): void {
  if (json === null || typeof json !== 'object') return;
  const r = json as { resourceType?: unknown; experimental?: unknown; entry?: Array<{ resource?: unknown }> };
  if (r.resourceType === 'ConceptMap' && skipExperimentalMaps && r.experimental === true) return;
  if (r.resourceType === 'ValueSet' || r.resourceType === 'ConceptMap' || r.resourceType === 'CodeSystem') {
    out.push(json as TerminologyResource);
  } else if (r.resourceType === 'Bundle') {
    for (const e of r.entry ?? []) collect(e.resource, out, skipExperimentalMaps);
  }
}

/**
 * The project's terminology: profiles/ plus an optional site directory. Built once by the runtime
 * (src/runtime.ts) at start-up, so that a broken profile fails the start, not a request.
 */
export function loadProjectTerminology(options: { profilesDir?: string; siteDir?: string | undefined } = {}): Terminology {
  const profilesDir = options.profilesDir ?? DEFAULT_PROFILES_DIR;
  const dirs = [profilesDir];
  if (options.siteDir) dirs.push(options.siteDir);
  // The shipped example ConceptMap (experimental: true) documents the format with fictional site
  // codes; applying it would add those codes to every prefetch query sent to a real EHR. A site's
  // own maps go in the site directory (TERMINOLOGY_SITE_DIR), where every map is applied.
  return loadTerminology(dirs, { skipExperimentalMapsIn: profilesDir });
}
