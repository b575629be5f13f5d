// What every service of the registry needs outside its folder (services/README.md, the checklist for
// adding one): its card topics and models as concepts of the project CodeSystems, its ValueSets
// (those it reads and those its prefetch templates name), and cards/<id>.yaml valid against its
// schema. The test iterates the registry; for each service it also takes a copy of profiles/ and
// cards/, removes or misspells one thing at a time, and checks that the start-up names exactly it.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeSystem, RiskAssessment, ValueSet } from 'fhir/r4.js';
import { valueSetUrl } from '../../src/fhir/canonical.ts';
import { createRuntime } from '../../src/runtime.ts';
import { testConfig } from '../../src/config.ts';
import { DEFAULT_PROFILES_DIR, loadProjectTerminology, type Terminology } from '../../src/fhir/terminology.ts';
import { MODEL_IDS } from '../../src/models/types.ts';
import { SERVICES } from '../../src/services/registry.ts';
import { checkServices, prefetchValueSets, ServiceCheckError } from '../../src/services/checks.ts';
import { createEvaluation } from '../../src/services/evaluation.ts';
import { demoPatients } from '../../src/demo/patients/index.ts';
import { chartData } from '../support/runtime.ts';

const CARDS_DIR = fileURLToPath(new URL('../../cards/', import.meta.url));
const config = testConfig();
const ids = SERVICES.map((s) => s.id);


/** The problems createRuntime reports with these profiles/ and cards/ directories. */
function startupProblems(dirs: { profilesDir?: string; cardsDir?: string }): readonly string[] {
  try {
    createRuntime(config, dirs);
    return [];
  } catch (err) {
    if (err instanceof ServiceCheckError) return err.problems;
    throw err;
  }
}

let work: string;
let profilesDir: string;
let cardsDir: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'registry-'));
  profilesDir = join(work, 'profiles');
  cardsDir = join(work, 'cards');
  cpSync(DEFAULT_PROFILES_DIR, profilesDir, { recursive: true });
  cpSync(CARDS_DIR, cardsDir, { recursive: true });
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const dropConcept = (codeSystem: string, code: string): void => {
  const file = join(profilesDir, `CodeSystem-${codeSystem}.json`);
  const cs = JSON.parse(readFileSync(file, 'utf8')) as CodeSystem;
  cs.concept = (cs.concept ?? []).filter((c) => c.code !== code);
  writeFileSync(file, JSON.stringify(cs));
};
/** Deletes profiles/ValueSet-<name>.json and its includes in the unions that name it. */
const removeValueSet = (name: string): void => {
  unlinkSync(join(profilesDir, `ValueSet-${name}.json`));
  for (const f of readdirSync(profilesDir).filter((x) => x.startsWith('ValueSet-'))) {
    const vs = JSON.parse(readFileSync(join(profilesDir, f), 'utf8')) as ValueSet;
    if (!vs.compose?.include.some((i) => i.valueSet?.includes(valueSetUrl(name)))) continue;
    vs.compose.include = vs.compose.include.filter((i) => !i.valueSet?.includes(valueSetUrl(name)));
    writeFileSync(join(profilesDir, f), JSON.stringify(vs));
  }
};
const editCards = (id: string, edit: (yaml: string) => string): void => {
  const file = join(cardsDir, `${id}.yaml`);
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
};

describe('the registry', () => {
  test('every service, topic and model exists in profiles/ and every card file is valid: the runtime starts', () => {
    const terminology = loadProjectTerminology();
    expect(checkServices(SERVICES, { terminology, profilesDir: DEFAULT_PROFILES_DIR })).toEqual([]);
    expect(createRuntime(config).services.map((s) => s.description.id)).toEqual(ids);
  });

  test('service ids are unique', () => {
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe.each(SERVICES.map((s) => [s.id, s] as const))('%s', (id, service) => {
  test('a missing card topic concept is named', () => {
    const topic = service.topics[0]!;
    dropConcept('card-topics', topic);
    expect(startupProblems({ profilesDir, cardsDir })).toContain(`${id}: card topic '${topic}' is not a concept of profiles/CodeSystem-card-topics.json`);
  });

  test('a missing model concept is named', () => {
    const model = service.models[0]!;
    dropConcept('cds-models', model);
    const problems = startupProblems({ profilesDir, cardsDir });
    expect(problems).toContain(`${id}: model '${model}' is not a concept of profiles/CodeSystem-cds-models.json`);
    expect(problems).toContain(`model '${model}' (MODEL_IDS, src/models/types.ts) is not a concept of profiles/CodeSystem-cds-models.json`);
  });

  test('a missing ValueSet it reads, and a missing prefetch ValueSet, are named', () => {
    const read = service.valueSets.find((vs) => !prefetchValueSets(service).includes(vs))!;
    const prefetch = prefetchValueSets(service).find((vs) => vs !== read)!;
    removeValueSet(read);
    removeValueSet(prefetch);
    const problems = startupProblems({ profilesDir, cardsDir });
    expect(problems).toContain(`${id}: ValueSet '${read}' is not loaded (profiles/ValueSet-${read}.json)`);
    expect(problems).toContain(`${id}: prefetch ValueSet '${prefetch}' is not loaded (profiles/ValueSet-${prefetch}.json)`);
  });

  test('its card file is required', () => {
    unlinkSync(join(cardsDir, `${id}.yaml`));
    expect(startupProblems({ profilesDir, cardsDir })).toEqual([expect.stringMatching(new RegExp(`^cards/${id}\\.yaml cannot be read`))]);
  });

  test('a misspelt key of its card file stops the start, naming the file and both key paths', () => {
    editCards(id, (y) => y.replace(/^ {2}otherPatientDataIgnored:/m, '  otherPatientDataIgnord:'));
    const problems = startupProblems({ profilesDir, cardsDir });
    expect(problems).toContain(`cards/${id}.yaml: missing key text.otherPatientDataIgnored`);
    expect(problems).toContain(`cards/${id}.yaml: unknown key text.otherPatientDataIgnord`);
  });

  test('a placeholder its code cannot fill stops the start', () => {
    editCards(id, (y) => y.replace(/^( {2}otherPatientDataIgnored: ")/m, '$1{patientName} '));
    expect(startupProblems({ profilesDir, cardsDir })).toEqual([
      `cards/${id}.yaml: placeholder {patientName} cannot be filled here (this text may use: none) (at text.otherPatientDataIgnored)`,
    ]);
  });

  test('it declares every ValueSet and model its evaluation uses (run on every demo patient)', () => {
    const runtime = createRuntime(config);
    const bound = runtime.services.find((s) => s.description.id === id)!;
    const asked = new Set<string>();
    const recording: Terminology = {
      ...runtime.terminology,
      valueSetContains: (name, codings) => {
        asked.add(name);
        return runtime.terminology.valueSetContains(name, codings);
      },
    };
    const models = new Set<string>();
    for (const p of demoPatients(new Date())) {
      for (const unavailable of [[], ['procedures']]) {
        const evaluation = createEvaluation({ ...runtime, terminology: recording }, {
          hookInstance: 'registry', patientId: p.id, userId: 'Practitioner/x', now: new Date(), unavailable,
        });
        for (const card of bound.evaluate(chartData(p.resources), evaluation)) {
          for (const s of (card.extension?.scores ?? []) as Array<{ model: string }>) models.add(s.model);
          for (const a of card.suggestions?.flatMap((sg) => sg.actions ?? []) ?? []) models.add((a.resource as RiskAssessment).method?.coding?.[0]?.code ?? '');
        }
      }
    }
    const declared = new Set([...service.valueSets, ...prefetchValueSets(service)]);
    expect([...asked].filter((vs) => !declared.has(vs))).toEqual([]);
    expect(asked.size).toBeGreaterThan(0);
    expect([...models].filter((m) => !service.models.includes(m as (typeof MODEL_IDS)[number]))).toEqual([]);
  });
});

test('every model id is a concept of CodeSystem cds-models, and a missing one is named', () => {
  const file = join(profilesDir, 'CodeSystem-cds-models.json');
  const original = readFileSync(file, 'utf8');
  for (const model of MODEL_IDS) {
    writeFileSync(file, original);
    dropConcept('cds-models', model);
    const terminology = loadProjectTerminology({ profilesDir });
    expect(checkServices([], { terminology, profilesDir })).toEqual([
      `model '${model}' (MODEL_IDS, src/models/types.ts) is not a concept of profiles/CodeSystem-cds-models.json`,
    ]);
  }
});
