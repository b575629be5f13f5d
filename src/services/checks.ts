// What must exist outside a service's folder for it to run, checked at start-up (src/runtime.ts) and
// by test/integration/registry.test.ts, which iterate the registry: each card topic and model is a code
// of its CodeSystem in profiles/, each ValueSet it reads or names in a prefetch template is loaded, and
// every model id of the product (MODEL_IDS) is a code of CodeSystem cds-models. Each problem is one
// line that says exactly what is missing and where it belongs. (Its cards/<id>.yaml is checked when
// the service is bound: define.ts, card-wording.ts.)
import { MODEL_IDS } from '../models/types.ts';
import type { Terminology } from '../fhir/terminology.ts';
import { codeSystemDisplays } from './card-wording.ts';
import type { ServiceDefinition } from './define.ts';

export interface CheckDeps {
  terminology: Pick<Terminology, 'hasValueSet'>;
  profilesDir: string;
}

export class ServiceCheckError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`The services cannot start:\n- ${problems.join('\n- ')}`);
    this.name = 'ServiceCheckError';
    this.problems = problems;
  }
}

/** The ValueSets a definition's prefetch templates (and its detail view's searches) name. */
export function prefetchValueSets(definition: ServiceDefinition): string[] {
  const named: string[] = [];
  definition.prefetchTemplates((vs) => {
    named.push(vs);
    return '';
  });
  return [...new Set(named)];
}

export function checkServices(definitions: readonly ServiceDefinition[], deps: CheckDeps): string[] {
  const problems: string[] = [];
  const topics = codeSystemDisplays(deps.profilesDir, 'card-topics');
  const models = codeSystemDisplays(deps.profilesDir, 'cds-models');
  for (const id of MODEL_IDS) {
    if (!models.has(id)) problems.push(`model '${id}' (MODEL_IDS, src/models/types.ts) is not a concept of profiles/CodeSystem-cds-models.json`);
  }
  const seen = new Set<string>();
  for (const d of definitions) {
    if (seen.has(d.id)) problems.push(`service id '${d.id}' is declared twice (src/services/registry.ts)`);
    seen.add(d.id);
    for (const t of d.topics) {
      if (!topics.has(t)) problems.push(`${d.id}: card topic '${t}' is not a concept of profiles/CodeSystem-card-topics.json`);
    }
    for (const m of d.models) {
      if (!models.has(m)) problems.push(`${d.id}: model '${m}' is not a concept of profiles/CodeSystem-cds-models.json`);
    }
    for (const vs of d.valueSets) {
      if (!deps.terminology.hasValueSet(vs)) problems.push(`${d.id}: ValueSet '${vs}' is not loaded (profiles/ValueSet-${vs}.json)`);
    }
    for (const vs of prefetchValueSets(d)) {
      if (!deps.terminology.hasValueSet(vs)) problems.push(`${d.id}: prefetch ValueSet '${vs}' is not loaded (profiles/ValueSet-${vs}.json)`);
    }
  }
  return problems;
}
