// Conformance resources in profiles/: every file is valid FHIR R4, the terminology is consistent
// (codes exist, references resolve, every external code has its provenance in profiles/README.md),
// and each profile accepts a conforming resource and rejects non-conforming ones.
import { readdirSync, readFileSync } from 'node:fs';
import type {
  CodeSystem, CodeSystemConcept, ConceptMap, Observation, RiskAssessment, StructureDefinition, ValueSet,
} from 'fhir/r4.js';
import { createProfileValidator, snapshotOf } from '../../src/fhir/profile-validator.ts';
import {
  CANONICAL_BASE, ICD10, ICD10CM, LOINC, MODEL_CODESYSTEM, PROJECT_CODESYSTEM, SNOMED, UCUM, structureDefinitionUrl, valueSetUrl,
} from '../../src/fhir/canonical.ts';

import { MODEL_IDS } from '../../src/models/types.ts';
import { SERVICES } from '../../src/services/registry.ts';

const PROFILES_DIR = new URL('../../profiles/', import.meta.url);
const { conformanceResources, listProfiles, profileWithSnapshot, validateAgainstProfile, valueSetIncludesCode } = createProfileValidator();
const CPT = 'http://www.ama-assn.org/go/cpt';

const all = conformanceResources();
const ofType = <T>(type: string): T[] => all.filter((f) => f.resource.resourceType === type).map((f) => f.resource as unknown as T);
const codeSystem = (id: string): CodeSystem => {
  const cs = ofType<CodeSystem>('CodeSystem').find((c) => c.id === id);
  if (!cs) throw new Error(`no CodeSystem ${id}`);
  return cs;
};
const flatten = (concepts: CodeSystemConcept[] = []): CodeSystemConcept[] => concepts.flatMap((c) => [c, ...flatten(c.concept)]);
const prop = (c: CodeSystemConcept, code: string): string | number | undefined => {
  const p = c.property?.find((x) => x.code === code);
  return p?.valueCode ?? p?.valueString ?? p?.valueDecimal ?? p?.valueInteger;
};
const project = flatten(codeSystem('imaging-cds').concept);
const projectCode = (code: string): CodeSystemConcept => {
  const c = project.find((x) => x.code === code);
  if (!c) throw new Error(`no project code ${code}`);
  return c;
};

describe('profiles/ files', () => {
  it('parses every JSON file and nothing else is there but README.md', () => {
    const names = readdirSync(PROFILES_DIR);
    expect(names.filter((n) => !n.endsWith('.json'))).toEqual(['README.md']);
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      expect(() => JSON.parse(readFileSync(new URL(n, PROFILES_DIR), 'utf8'))).not.toThrow();
    }
    expect(all.length).toBe(names.length - 1);
    expect(all.length).toBeGreaterThan(80);
  });

  it.each(all.map((f) => [f.file, f.resource] as const))('%s is named after its type and id, with a canonical url and a computable name', (file, resource) => {
    expect(file).toBe(`${resource.resourceType}-${resource.id}.json`);
    expect(resource.url).toBe(`${CANONICAL_BASE}/${resource.resourceType}/${resource.id}`);
    expect(resource.name).toMatch(/^[A-Z][A-Za-z0-9_]{0,254}$/);
  });

  it('has unique urls and names per resource type', () => {
    const urls = all.map((f) => f.resource.url);
    expect(new Set(urls).size).toBe(urls.length);
    const names = all.map((f) => `${f.resource.resourceType}/${f.resource.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(all.map((f) => [f.file, f.resource] as const))('%s is a valid FHIR R4 resource', (_file, resource) => {
    expect(validateAgainstProfile(resource)).toEqual([]);
  });
});

describe('the validator itself', () => {
  // Each R4 rule below is one the JSON files could break; these show that breaking it is caught.
  const vs = all.find((f) => f.file === 'ValueSet-cirrhosis.json')?.resource as ValueSet;

  it('rejects a ValueSet with an unknown filter operator (required binding of R4)', () => {
    const broken = structuredClone(vs);
    const filter = broken.compose?.include[1]?.filter?.[0];
    if (!filter) throw new Error('fixture changed');
    (filter as { op: string }).op = 'is-like';
    expect(validateAgainstProfile(broken).join('\n')).toMatch(/is-like.*filter-operator/);
  });

  it('rejects a ValueSet include with both concepts and filters (R4 invariant vsd-3)', () => {
    const broken = structuredClone(vs);
    const include = broken.compose?.include[1];
    if (!include) throw new Error('fixture changed');
    include.concept = [{ code: 'K74.60' }];
    expect(validateAgainstProfile(broken).join('\n')).toMatch(/vsd-3/);
  });

  it('rejects missing required elements, unknown properties and bad dates', () => {
    const cs = structuredClone(codeSystem('card-topics')) as unknown as Record<string, unknown>;
    delete cs.status;
    cs.colour = 'blue';
    cs.date = '2026-02-30';
    const problems = validateAgainstProfile(cs).join('\n');
    expect(problems).toMatch(/CodeSystem\.status: Missing required property/);
    expect(problems).toMatch(/colour/);
    expect(problems).toMatch(/CodeSystem\.date/);
  });

  it('reports input that is not a resource instead of throwing', () => {
    expect(validateAgainstProfile(null)).toEqual(['(root): not a JSON object']);
    expect(validateAgainstProfile({ resourceType: 'Observatoin' })[0]).toMatch(/not a FHIR R4 resource type/);
  });

  it('throws on an unknown profile name (a programming error)', () => {
    expect(() => validateAgainstProfile({ resourceType: 'Observation' }, 'no-such-profile')).toThrow(/Unknown profile/);
  });

  it('refuses differentials it cannot apply rather than ignoring them', () => {
    const base = profileWithSnapshot('cmr-measurement').snapshot?.element ?? [];
    const sliced: StructureDefinition = {
      resourceType: 'StructureDefinition', url: 'urn:test', name: 'T', status: 'draft', kind: 'resource', abstract: false, type: 'Observation',
      differential: { element: [{ id: 'Observation.code.coding', path: 'Observation.code.coding', min: 1 }] },
    };
    expect(() => snapshotOf(sliced, base)).toThrow(/not in the base snapshot/);
    const widened: StructureDefinition = { ...sliced, differential: { element: [{ id: 'Observation.subject', path: 'Observation.subject', min: 0 }] } };
    expect(() => snapshotOf(widened, base)).toThrow(/widens/);
    const retyped: StructureDefinition = { ...sliced, differential: { element: [{ id: 'Observation.value[x]', path: 'Observation.value[x]', type: [{ code: 'Attachment' }] }] } };
    expect(() => snapshotOf(retyped, base)).toThrow(/adds types/);
  });
});

describe('CodeSystem imaging-cds', () => {
  const cs = codeSystem('imaging-cds');

  it('is complete and case-sensitive, with unique codes and a correct count', () => {
    expect(cs.content).toBe('complete');
    expect(cs.caseSensitive).toBe(true);
    expect(new Set(project.map((c) => c.code)).size).toBe(project.length);
    expect(cs.count).toBe(project.length);
  });

  it('gives every code a display and a definition, and every non-answer a value type', () => {
    for (const c of project) {
      expect(c.display?.trim()).toBeTruthy();
      expect(c.definition?.trim()).toBeTruthy();
      if (prop(c, 'kind') !== 'answer') expect(['Quantity', 'boolean', 'integer', 'CodeableConcept']).toContain(prop(c, 'value-type'));
      for (const p of c.property ?? []) expect(cs.property?.map((d) => d.code)).toContain(p.code);
    }
  });

  // The value types the brief and MODELS.md require.
  const expected: Array<[string, string, string?]> = [
    ['infarct-size', 'Quantity', '%'], ['mvo-extent', 'Quantity', '%'], ['mvo-segments', 'Quantity', '{segments}'], ['lv-gls', 'Quantity', '%'],
    ['la-reservoir-strain', 'Quantity', '%'], ['native-t1', 'Quantity', 'ms'], ['t2', 'Quantity', 'ms'], ['ecv', 'Quantity', '%'], ['mass-post-contrast-t1', 'Quantity', 'ms'],
    ['intramyocardial-haemorrhage', 'boolean'], ['killip-class', 'integer'], ['st-deviation', 'boolean'], ['time-to-reperfusion', 'Quantity', 'h'],
    ['l3-skeletal-muscle-area', 'Quantity', 'cm2'], ['l3-smi', 'Quantity', 'cm2/m2'], ['mass-infiltration', 'boolean'], ['mass-first-pass-perfusion', 'boolean'],
    ['mass-sessile', 'boolean'], ['mass-polylobate', 'boolean'], ['mass-pericardial-effusion', 'boolean'], ['mass-heterogeneous-enhancement', 'boolean'],
    ['mass-ti-scout-thrombus-pattern', 'boolean'], ['mass-lge', 'boolean'], ['mass-area', 'Quantity', 'cm2'], ['mass-diameter', 'Quantity', 'cm'],
    ['mass-location', 'CodeableConcept'], ['ascites-severity', 'CodeableConcept'], ['hepatic-encephalopathy-grade', 'integer'], ['cardiac-mass', 'boolean'],
    ['mass-homogeneous', 'boolean'], ['mass-diagnosis', 'CodeableConcept'],
  ];
  it.each(expected.map(([code, type, unit]) => ({ code, type, unit: unit ?? '' })))('$code carries $type $unit', ({ code, type, unit }) => {
    const c = projectCode(code);
    expect(prop(c, 'value-type')).toBe(type);
    expect(prop(c, 'unit') ?? '').toBe(unit);
  });

  it('has the integer ranges of Killip (1–4) and West Haven (0–4)', () => {
    expect([prop(projectCode('killip-class'), 'min-value'), prop(projectCode('killip-class'), 'max-value')]).toEqual([1, 4]);
    expect([prop(projectCode('hepatic-encephalopathy-grade'), 'min-value'), prop(projectCode('hepatic-encephalopathy-grade'), 'max-value')]).toEqual([0, 4]);
  });

  it.each([
    ['ascites-severity', ['none', 'slight', 'moderate-severe']],
    ['mass-diagnosis', ['no-mass', 'pseudomass', 'benign', 'thrombus', 'malignant']],
    ['mass-location', ['left-atrium', 'right-atrium', 'left-ventricle', 'right-ventricle', 'pericardium', 'valve', 'other']],
  ])('%s has its answers in this CodeSystem and in ValueSet <code>-answers', (code, answers) => {
    expect(prop(projectCode(code), 'answer-value-set')).toBe(valueSetUrl(`${code}-answers`));
    for (const a of answers) {
      expect(prop(projectCode(a), 'answer-to')).toBe(code);
      expect(valueSetIncludesCode(`${code}-answers`, PROJECT_CODESYSTEM, a)).toBe(true);
    }
    expect(project.filter((c) => prop(c, 'answer-to') === code).map((c) => c.code).sort()).toEqual([...answers].sort());
  });
});

describe('other CodeSystems', () => {
  it('cds-models has every model id of DESIGN.md', () => {
    const codes = flatten(codeSystem('cds-models').concept).map((c) => c.code);
    for (const id of MODEL_IDS) {
      expect(codes).toContain(id);
    }
  });

  it('card-topics and override-reasons have the codes the cards use', () => {
    expect(flatten(codeSystem('card-topics').concept).map((c) => c.code).sort()).toEqual([...new Set(SERVICES.flatMap((s) => s.topics))].sort());
    expect(flatten(codeSystem('override-reasons').concept).map((c) => c.code)).toEqual(
      expect.arrayContaining(['data-outdated', 'not-applicable-patient', 'already-addressed', 'disagree-with-score', 'patient-declined']),
    );
  });
});

describe('ValueSets', () => {
  const valueSets = ofType<ValueSet>('ValueSet');
  const ours = new Map(ofType<CodeSystem>('CodeSystem').map((c) => [c.url, new Set(flatten(c.concept).map((x) => x.code))]));
  const displays = new Map(ofType<CodeSystem>('CodeSystem').flatMap((c) => flatten(c.concept).map((x) => [`${c.url}|${x.code}`, x.display] as const)));

  it('reference only codes that exist in our CodeSystems, with their display', () => {
    for (const vs of valueSets) {
      for (const inc of vs.compose?.include ?? []) {
        const codes = inc.system ? ours.get(inc.system) : undefined;
        if (!inc.system?.startsWith(CANONICAL_BASE)) continue;
        expect(codes).toBeDefined();
        for (const c of inc.concept ?? []) {
          expect({ vs: vs.id, code: c.code, known: codes?.has(c.code) }).toEqual({ vs: vs.id, code: c.code, known: true });
          if (c.display) expect(c.display).toBe(displays.get(`${inc.system}|${c.code}`));
        }
      }
    }
  });

  it('reference only ValueSets that exist, and expand completely where they name only enumerated codes', () => {
    const urls = new Set(valueSets.map((v) => v.url));
    for (const vs of valueSets) for (const inc of vs.compose?.include ?? []) for (const ref of inc.valueSet ?? []) expect(urls).toContain(ref);
    // A union of enumerated ValueSets answers false, not "don't know", for a code outside it.
    expect(valueSetIncludesCode('acute-mi-observations', LOINC, '2951-2')).toBe(false);
  });

  // One ValueSet per input named in the brief, with the codes it must hold.
  const members: Array<[string, string, string, boolean]> = [
    ['cirrhosis', SNOMED, '19943007', true], ['cirrhosis', ICD10CM, 'K74.60', true], ['cirrhosis', ICD10CM, 'K70.31', true], ['cirrhosis', ICD10, 'K74.6', true],
    ['cirrhosis', ICD10, 'K70.3', true], ['cirrhosis', ICD10CM, 'K70.30', true],
    // Issue 10, item 7: biliary (K74.3–K74.5), toxic (K71.7) and cardiac (K76.1) cirrhosis, and SNOMED CT subtypes.
    ['cirrhosis', ICD10CM, 'K74.3', true], ['cirrhosis', ICD10CM, 'K74.4', true], ['cirrhosis', ICD10CM, 'K74.5', true], ['cirrhosis', ICD10CM, 'K71.7', true],
    ['cirrhosis', ICD10CM, 'K76.1', true], ['cirrhosis', ICD10, 'K74.3', true], ['cirrhosis', ICD10, 'K74.5', true], ['cirrhosis', ICD10, 'K71.7', true], ['cirrhosis', ICD10, 'K76.1', true],
    ['cirrhosis', ICD10CM, 'K74.0', false], ['cirrhosis', ICD10CM, 'K74.02', false], ['cirrhosis', ICD10CM, 'K76.0', false], ['cirrhosis', ICD10CM, 'K71.6', false],
    ['cirrhosis', SNOMED, '420054005', true], ['cirrhosis', SNOMED, '31712002', true], ['cirrhosis', SNOMED, '27156006', true], ['cirrhosis', SNOMED, '1761006', true],
    ['cirrhosis', SNOMED, '12368000', true], ['cirrhosis', SNOMED, '266468003', true], ['cirrhosis', SNOMED, '735733008', true],
    ['cirrhosis', SNOMED, '197441003', false], ['cirrhosis', SNOMED, '62484002', false], ['cirrhosis', SNOMED, '328383001', false],
    // PBC and PSC: the cholestatic Child-Pugh bilirubin bands (MODELS.md 3c).
    ['cholestatic-liver-disease', ICD10CM, 'K74.3', true], ['cholestatic-liver-disease', ICD10CM, 'K83.01', true], ['cholestatic-liver-disease', ICD10, 'K74.3', true],
    ['cholestatic-liver-disease', SNOMED, '31712002', true], ['cholestatic-liver-disease', SNOMED, '197441003', true], ['cholestatic-liver-disease', SNOMED, '735733008', true],
    ['cholestatic-liver-disease', ICD10CM, 'K74.4', false], ['cholestatic-liver-disease', ICD10CM, 'K83.09', false], ['cholestatic-liver-disease', ICD10, 'K83.0', false],
    ['cholestatic-liver-disease', SNOMED, '12368000', false],
    ['cirrhosis-service-conditions', ICD10CM, 'K83.01', true], ['cirrhosis-service-conditions', SNOMED, '420054005', true],
    ['ascites', SNOMED, '389026000', true], ['ascites', ICD10CM, 'R18.8', true], ['ascites', ICD10CM, 'R18', true], ['ascites', ICD10, 'R18', true],
    ['hepatic-encephalopathy', SNOMED, '13920009', true], ['hepatic-encephalopathy', ICD10CM, 'K76.82', true], ['hepatic-encephalopathy', ICD10CM, 'K72.90', false],
    ['dialysis', SNOMED, '302497006', true], ['dialysis', SNOMED, '71192002', true], ['dialysis', SNOMED, '714749008', true], ['dialysis', SNOMED, '108241001', true],
    ['dialysis', CPT, '90935', true], ['dialysis', CPT, '90937', true], ['dialysis', CPT, '90945', true], ['dialysis', CPT, '90947', true],
    ['bilirubin-total', LOINC, '1975-2', true], ['bilirubin-total', LOINC, '14631-6', true],
    ['creatinine', LOINC, '2160-0', true], ['creatinine', LOINC, '14682-9', true],
    ['sodium', LOINC, '2951-2', true], ['sodium', LOINC, '2947-0', true],
    ['albumin', LOINC, '1751-7', true], ['albumin', LOINC, '61151-7', true],
    ['inr', LOINC, '6301-6', true], ['inr', LOINC, '34714-6', true], ['inr', LOINC, '38875-1', true],
    ['body-height', LOINC, '8302-2', true], ['body-weight', LOINC, '29463-7', true], ['body-weight', LOINC, '3141-9', true], ['bmi', LOINC, '39156-5', true],
    ['l3-smi', PROJECT_CODESYSTEM, 'l3-smi', true], ['l3-skeletal-muscle-area', PROJECT_CODESYSTEM, 'l3-skeletal-muscle-area', true],
    ['ascites-severity', PROJECT_CODESYSTEM, 'ascites-severity', true], ['hepatic-encephalopathy-grade', PROJECT_CODESYSTEM, 'hepatic-encephalopathy-grade', true],
    ['ihd', SNOMED, '414545008', true], ['ihd', SNOMED, '22298006', true], ['ihd', ICD10CM, 'I25.10', true], ['ihd', ICD10CM, 'I22.0', true], ['ihd', ICD10CM, 'I21.A1', true],
    ['ihd', ICD10CM, 'I20.9', false], ['ihd', ICD10, 'I21.0', true], ['ihd', ICD10, 'I22.1', true], ['ihd', ICD10, 'I25.2', true], ['ihd', ICD10, 'I24.9', false],
    ['acute-mi', SNOMED, '57054005', true], ['acute-mi', SNOMED, '401303003', true], ['acute-mi', SNOMED, '401314000', true], ['acute-mi', ICD10CM, 'I21.4', true],
    ['acute-mi', ICD10CM, 'I25.2', false], ['acute-mi', SNOMED, '22298006', false],
    ['acute-mi', ICD10, 'I21.4', true], ['acute-mi', ICD10, 'I22.9', true], ['acute-mi', ICD10, 'I25.2', false],
    // WHO ICD-10 I21.x names the wall (transmural/subendocardial), not the ECG: never STEMI/NSTEMI.
    ['stemi', ICD10, 'I21.0', false], ['nstemi', ICD10, 'I21.4', false], ['anterior-stemi', ICD10, 'I21.0', false],
    ['stemi', SNOMED, '401303003', true], ['stemi', ICD10CM, 'I21.09', true], ['stemi', ICD10CM, 'I21.3', true], ['stemi', ICD10CM, 'I21.4', false], ['stemi', ICD10CM, 'I21.9', false],
    ['nstemi', SNOMED, '401314000', true], ['nstemi', ICD10CM, 'I21.4', true], ['nstemi', ICD10CM, 'I21.3', false],
    ['diabetes', SNOMED, '73211009', true], ['diabetes', ICD10CM, 'E11.9', true], ['diabetes', ICD10CM, 'E10.65', true], ['diabetes', ICD10CM, 'E13.9', false], ['diabetes', ICD10, 'E11.9', true], ['diabetes', ICD10, 'E14.9', false],
    ['hypertension', SNOMED, '38341003', true], ['hypertension', ICD10CM, 'I10', true], ['hypertension', ICD10, 'I10', true],
    ['angina', SNOMED, '194828000', true], ['angina', ICD10CM, 'I20.0', true], ['angina', ICD10, 'I20.9', true],
    ['heart-failure', SNOMED, '84114007', true], ['heart-failure', ICD10CM, 'I50.22', true], ['heart-failure', ICD10, 'I50.0', true],
    ['stroke', SNOMED, '230690007', true],
    ['pci', SNOMED, '415070008', true], ['pci', SNOMED, '36969009', true], ['fibrinolysis', SNOMED, '426347000', true], ['fibrinolysis', SNOMED, '415070008', false],
    ['cmr-ihd-macce-procedures', SNOMED, '426347000', true], ['cmr-ihd-macce-procedures', CPT, '92941', true], ['pci', CPT, '92920', true], ['pci', CPT, '92928', true], ['pci', CPT, '92941', true],
    ['lvef', LOINC, '10230-1', true], ['lvef', LOINC, '8811-2', true],
    ['troponin', LOINC, '10839-9', true], ['troponin', LOINC, '89579-7', true], ['troponin', LOINC, '6598-7', true], ['troponin', LOINC, '67151-1', true],
    ['heart-rate', LOINC, '8867-4', true], ['systolic-bp', LOINC, '8480-6', true],
    ['cardiac-mass', PROJECT_CODESYSTEM, 'cardiac-mass', true], ['cardiac-mass', SNOMED, '396339007', true], ['cardiac-mass', ICD10CM, 'D15.1', true], ['cardiac-mass', ICD10CM, 'C38.0', true], ['cardiac-mass', ICD10, 'D15.1', true], ['cardiac-mass', ICD10, 'C38.0', true], ['cardiac-mass', ICD10, 'C38.1', false],
    ['cirrhosis-observations', LOINC, '14682-9', true], ['cirrhosis-observations', PROJECT_CODESYSTEM, 'l3-smi', true], ['cirrhosis-observations', PROJECT_CODESYSTEM, 'hepatic-encephalopathy-grade', true],
    ['cirrhosis-observations', LOINC, '8867-4', false],
    ['cmr-observations', LOINC, '8811-2', true], ['cmr-observations', PROJECT_CODESYSTEM, 'mvo-segments', true], ['cmr-observations', PROJECT_CODESYSTEM, 'mass-lge', false],
    ['cardiac-mass-observations', PROJECT_CODESYSTEM, 'mass-ti-scout-thrombus-pattern', true],
    // Issue 10, item 3: the thrombus T1 feature reads the post-contrast T1 of the mass, never a native T1.
    ['cardiac-mass-observations', PROJECT_CODESYSTEM, 'mass-post-contrast-t1', true], ['cardiac-mass-observations', PROJECT_CODESYSTEM, 'native-t1', false],
    ['mass-post-contrast-t1', PROJECT_CODESYSTEM, 'mass-post-contrast-t1', true], ['mass-post-contrast-t1', PROJECT_CODESYSTEM, 'native-t1', false],
    ['cmr-quantity-codes', PROJECT_CODESYSTEM, 'mass-post-contrast-t1', true], ['imaging-cds-observables', PROJECT_CODESYSTEM, 'mass-post-contrast-t1', true],
    // Issue 10, item 6: a method that says MR makes an LVEF of code 10230-1 a CMR LVEF.
    ['mr-method', 'http://dicom.nema.org/resources/ontology/DCM', 'MR', true], ['mr-method', SNOMED, '113091000', true], ['mr-method', SNOMED, '241620005', true],
    ['mr-method', 'http://dicom.nema.org/resources/ontology/DCM', 'US', false],
    ['acute-mi-observations', LOINC, '8480-6', true], ['acute-mi-observations', LOINC, '67151-1', true], ['acute-mi-observations', PROJECT_CODESYSTEM, 'killip-class', true],
    ['acute-mi-observations', PROJECT_CODESYSTEM, 'st-deviation', true], ['acute-mi-observations', PROJECT_CODESYSTEM, 'time-to-reperfusion', true],
    ['acute-mi-observations', LOINC, '29463-7', true], ['acute-mi-observations', LOINC, '14682-9', true],
  ];
  it.each(members)('%s: %s|%s is a member: %s', (name, system, code, member) => {
    expect(valueSetIncludesCode(name, system, code)).toBe(member);
  });

  it('has one ValueSet per project observable, holding exactly that code', () => {
    for (const c of project.filter((x) => prop(x, 'kind') === 'observable')) {
      const vs = valueSets.find((v) => v.id === c.code);
      expect(vs?.compose?.include).toEqual([{ system: PROJECT_CODESYSTEM, concept: [{ code: c.code, display: c.display }] }]);
    }
  });

  it('names in profiles/README.md the provenance of every external code', () => {
    const readme = readFileSync(new URL('README.md', PROFILES_DIR), 'utf8');
    const external: string[] = [];
    for (const vs of valueSets) {
      for (const inc of vs.compose?.include ?? []) {
        if (!inc.system || inc.system.startsWith(CANONICAL_BASE)) continue;
        external.push(...(inc.concept ?? []).map((c) => c.code), ...(inc.filter ?? []).map((f) => f.value));
      }
    }
    for (const cm of ofType<ConceptMap>('ConceptMap')) {
      for (const g of cm.group ?? []) {
        for (const e of g.element ?? []) {
          if (g.source && !g.source.startsWith('urn:example:') && e.code) external.push(e.code);
          if (g.target && !g.target.startsWith(CANONICAL_BASE)) external.push(...(e.target ?? []).map((t) => t.code ?? ''));
        }
      }
    }
    expect(external.length).toBeGreaterThan(80);
    expect([...new Set(external)].filter((code) => !readme.includes(`\`${code}\``))).toEqual([]);
  });
});

describe('ConceptMaps', () => {
  it('map to codes that exist (project codes) or that a ValueSet of ours holds (LOINC)', () => {
    for (const cm of ofType<ConceptMap>('ConceptMap')) {
      for (const g of cm.group ?? []) {
        for (const e of g.element ?? []) {
          for (const t of e.target ?? []) {
            if (g.target === PROJECT_CODESYSTEM) expect(projectCode(t.code ?? '').display).toBe(t.display);
            else expect(['creatinine', 'bilirubin-total', 'albumin', 'sodium'].some((vs) => valueSetIncludesCode(vs, g.target, t.code ?? ''))).toBe(true);
          }
        }
      }
    }
  });

  it('has the example site mappings of the brief, as equivalent', () => {
    const cm = ofType<ConceptMap>('ConceptMap').find((c) => c.id === 'site-local-to-imaging-cds');
    const pairs = (cm?.group ?? []).flatMap((g) => (g.element ?? []).map((e) => [e.code, e.target?.[0]?.code, e.target?.[0]?.equivalence]));
    expect(pairs).toEqual(expect.arrayContaining([
      ['CMR_IS_PCT', 'infarct-size', 'equivalent'], ['CMR_MVO_PCT', 'mvo-extent', 'equivalent'], ['CT_L3_SMI', 'l3-smi', 'equivalent'], ['CREA', '2160-0', 'equivalent'],
    ]));
  });
});

// ------------------------------------------------------------------------------------------------
// Profiles: a conforming example passes, non-conforming ones fail for the stated reason.

const patient = { reference: 'Patient/example' };
const obs = (code: string, value: Partial<Observation>, system = PROJECT_CODESYSTEM): Observation => ({
  resourceType: 'Observation', status: 'final', code: { coding: [{ system, code }] }, subject: patient, effectiveDateTime: '2026-03-02T10:15:00Z', ...value,
});
const qty = (value: number, unit: string): Partial<Observation> => ({ valueQuantity: { value, unit, system: UCUM, code: unit } });
const problems = (resource: unknown, profile?: string): string => validateAgainstProfile(resource, profile).join('\n');

describe('StructureDefinitions', () => {
  it('lists the profiles and builds a snapshot for each, from the R4 base or the parent profile', () => {
    expect(listProfiles().sort()).toEqual(['cds-risk-assessment', 'cmr-finding', 'cmr-measurement', 'cmr-quantity-measurement', 'killip-class', 'l3-smi', 'mass-post-contrast-t1']);
    for (const id of listProfiles()) {
      const sd = profileWithSnapshot(id);
      expect(sd.snapshot?.element.length).toBeGreaterThan(30);
      expect(profileWithSnapshot(structureDefinitionUrl(id))).toBe(sd);
      expect(sd.differential?.element.length).toBeGreaterThan(0);
    }
    // killip-class inherits the per-code invariants of cmr-measurement.
    const root = profileWithSnapshot('killip-class').snapshot?.element[0];
    expect(root?.constraint?.map((c) => c.key)).toEqual(expect.arrayContaining(['cds-killip', 'cds-killip-class', 'cds-infarct-size']));
  });

  describe('cmr-measurement (value type per code, from the CodeSystem properties)', () => {
    const observables = project.filter((c) => prop(c, 'kind') !== 'answer');
    const conforming = (c: CodeSystemConcept): Partial<Observation> => {
      const type = prop(c, 'value-type');
      if (type === 'boolean') return { valueBoolean: true };
      if (type === 'integer') return { valueInteger: Number(prop(c, 'max-value')) };
      if (type === 'Quantity') return qty(Number(prop(c, 'min-value') ?? 1), String(prop(c, 'unit')));
      const answer = project.find((a) => prop(a, 'answer-to') === c.code);
      return { valueCodeableConcept: { coding: [{ system: PROJECT_CODESYSTEM, code: answer?.code }] } };
    };
    const wrong = (c: CodeSystemConcept): Partial<Observation> => {
      const type = prop(c, 'value-type');
      if (type === 'boolean') return { valueString: 'yes' };
      if (type === 'integer') return { valueInteger: Number(prop(c, 'max-value')) + 1 };
      if (type === 'Quantity') return { valueQuantity: { value: 1, unit: 'mm', system: UCUM, code: 'mm' } };
      return { valueCodeableConcept: { coding: [{ system: PROJECT_CODESYSTEM, code: 'no-such-answer' }] } };
    };
    it.each(observables.map((c) => [c.code, c] as const))('%s: accepts its value type and rejects another', (code, c) => {
      expect(validateAgainstProfile(obs(code, conforming(c)), 'cmr-measurement')).toEqual([]);
      expect(problems(obs(code, wrong(c)), 'cmr-measurement')).toContain(`cds-${code} not met`);
    });

    it('rejects out-of-range quantities, a missing value, subject or effective time, and answer codes as Observation.code', () => {
      expect(problems(obs('infarct-size', qty(120, '%')), 'cmr-measurement')).toContain('cds-infarct-size');
      expect(problems(obs('mvo-segments', qty(18, '{segments}')), 'cmr-measurement')).toContain('cds-mvo-segments');
      expect(problems(obs('native-t1', { valueQuantity: { value: 1010, unit: 'ms', code: 'ms' } }), 'cmr-measurement')).toContain('cds-native-t1');
      expect(problems(obs('ecv', {}), 'cmr-measurement')).toMatch(/Observation\.value\[x\]: Missing required property/);
      expect(problems({ ...obs('ecv', qty(28, '%')), subject: undefined }, 'cmr-measurement')).toMatch(/Observation\.subject: Missing required property/);
      expect(problems({ ...obs('ecv', qty(28, '%')), effectiveDateTime: undefined }, 'cmr-measurement')).toMatch(/Observation\.effective\[x\]: Missing required property/);
      expect(problems({ ...obs('ecv', qty(28, '%')), effectiveDateTime: undefined, effectiveInstant: '2026-03-02T10:15:00Z' }, 'cmr-measurement')).toContain('cds-effective');
      expect(problems(obs('slight', { valueBoolean: true }), 'cmr-measurement')).toContain('imaging-cds-observables');
      expect(problems(obs('10230-1', qty(45, '%'), LOINC), 'cmr-measurement')).toContain('imaging-cds-observables');
      expect(problems({ ...obs('ecv', qty(28, '%')), status: 'preliminary' }, 'cmr-measurement')).toContain('final-observation-status');
    });
  });

  describe('cmr-quantity-measurement', () => {
    it('accepts an infarct size in %', () => {
      expect(validateAgainstProfile(obs('infarct-size', qty(18.5, '%')), 'cmr-quantity-measurement')).toEqual([]);
      expect(validateAgainstProfile(obs('native-t1', qty(1012, 'ms')), 'cmr-quantity-measurement')).toEqual([]);
    });
    it('rejects a finding code, a quantity without UCUM, and the wrong unit for the code', () => {
      expect(problems(obs('mass-lge', { valueBoolean: true }), 'cmr-quantity-measurement')).toContain('cmr-quantity-codes');
      expect(problems(obs('ecv', { valueQuantity: { value: 28, unit: '%' } }), 'cmr-quantity-measurement')).toMatch(/cds-ecv|cds-cmr-quantity/);
      expect(problems(obs('native-t1', qty(1.012, 's')), 'cmr-quantity-measurement')).toContain('cds-native-t1');
      expect(problems(obs('l3-smi', qty(50, 'cm2/m2')), 'cmr-quantity-measurement')).toContain('cmr-quantity-codes');
    });
  });

  describe('cmr-finding', () => {
    it('accepts a boolean finding', () => {
      expect(validateAgainstProfile(obs('mass-first-pass-perfusion', { valueBoolean: false }), 'cmr-finding')).toEqual([]);
      expect(validateAgainstProfile(obs('cardiac-mass', { valueBoolean: true }), 'cmr-finding')).toEqual([]);
    });
    it('rejects a finding with valueQuantity, and a quantity code', () => {
      expect(problems(obs('mass-sessile', qty(1, '1')), 'cmr-finding')).toContain('cds-mass-sessile not met');
      expect(problems(obs('infarct-size', { valueBoolean: true }), 'cmr-finding')).toContain('cmr-finding-codes');
      expect(problems(obs('st-deviation', { valueBoolean: true }), 'cmr-finding')).toContain('cmr-finding-codes');
    });
  });

  describe('killip-class', () => {
    it.each([1, 2, 3, 4])('accepts Killip %d', (k) => {
      expect(validateAgainstProfile(obs('killip-class', { valueInteger: k }), 'killip-class')).toEqual([]);
    });
    it.each([0, 5])('rejects Killip %d', (k) => {
      expect(problems(obs('killip-class', { valueInteger: k }), 'killip-class')).toMatch(/cds-killip/);
    });
    it('rejects a decimal, a Quantity and another code', () => {
      expect(problems(obs('killip-class', { valueInteger: 2.5 }), 'killip-class')).toMatch(/integer/);
      expect(problems(obs('killip-class', qty(2, '1')), 'killip-class')).toMatch(/cds-killip/);
      expect(problems(obs('hepatic-encephalopathy-grade', { valueInteger: 2 }), 'killip-class')).toMatch(/Observation\.code: Value did not match expected pattern/);
    });
  });

  describe('mass-post-contrast-t1', () => {
    it('accepts the post-contrast T1 of a mass in ms', () => {
      expect(validateAgainstProfile(obs('mass-post-contrast-t1', qty(480, 'ms')), 'mass-post-contrast-t1')).toEqual([]);
      expect(validateAgainstProfile(obs('mass-post-contrast-t1', qty(480, 'ms')), 'cmr-quantity-measurement')).toEqual([]);
    });
    it('rejects a native T1 code, a T1 in s, and a negative value', () => {
      expect(problems(obs('native-t1', qty(1250, 'ms')), 'mass-post-contrast-t1')).toMatch(/Observation\.code: Value did not match expected pattern/);
      expect(problems(obs('mass-post-contrast-t1', qty(0.48, 's')), 'mass-post-contrast-t1')).toMatch(/cds-mass-post-contrast-t1/);
      expect(problems(obs('mass-post-contrast-t1', qty(-1, 'ms')), 'mass-post-contrast-t1')).toMatch(/cds-mass-post-contrast-t1/);
    });
  });

  describe('l3-smi', () => {
    it('accepts an SMI in cm2/m2', () => {
      expect(validateAgainstProfile(obs('l3-smi', qty(47.3, 'cm2/m2')), 'l3-smi')).toEqual([]);
    });
    it('rejects an area in cm2, and the muscle-area code', () => {
      expect(problems(obs('l3-smi', qty(147, 'cm2')), 'l3-smi')).toMatch(/cds-l3-smi/);
      expect(problems(obs('l3-skeletal-muscle-area', qty(147, 'cm2')), 'l3-smi')).toMatch(/Observation\.code: Value did not match expected pattern/);
    });
  });

  describe('cds-risk-assessment', () => {
    const ra: RiskAssessment = {
      resourceType: 'RiskAssessment',
      meta: { profile: [structureDefinitionUrl('cds-risk-assessment')] },
      status: 'final',
      subject: patient,
      occurrenceDateTime: '2026-03-02T10:15:00.000Z',
      method: { coding: [{ system: MODEL_CODESYSTEM, code: 'meld-3.0', display: 'MELD 3.0' }], text: 'MELD 3.0' },
      basis: [{ reference: 'Observation/bili' }, { reference: 'Observation/creat' }],
      prediction: [{ outcome: { text: '90-day mortality' }, probabilityDecimal: 0.067, qualitativeRisk: { text: 'intermediate' } }],
      note: [{ text: 'MELD 3.0: 18 points.' }],
    };
    it('accepts a saved MELD 3.0, with the profile named or taken from meta.profile', () => {
      expect(validateAgainstProfile(ra, 'cds-risk-assessment')).toEqual([]);
      expect(validateAgainstProfile(ra)).toEqual([]);
      expect(validateAgainstProfile({ ...ra, prediction: [{ outcome: { text: 'points only' } }] }, 'cds-risk-assessment')).toEqual([]);
    });
    it.each([
      ['without method', { method: undefined }, /RiskAssessment\.method: Missing required property/],
      ['with a method outside cds-models', { method: { coding: [{ system: 'urn:other', code: 'meld-3.0' }] } }, /RiskAssessment\.method/],
      ['with an unknown model id', { method: { coding: [{ system: MODEL_CODESYSTEM, code: 'meld-4' }] } }, /ValueSet\/cds-models/],
      ['with probability 1.5', { prediction: [{ outcome: { text: 'x' }, probabilityDecimal: 1.5 }] }, /cds-probability/],
      ['with probability −0.1', { prediction: [{ outcome: { text: 'x' }, probabilityDecimal: -0.1 }] }, /cds-probability/],
      ['with a probability range', { prediction: [{ outcome: { text: 'x' }, probabilityRange: { low: { value: 0.1 }, high: { value: 0.2 } } }] }, /cds-probability/],
      ['with a prediction without outcome', { prediction: [{ probabilityDecimal: 0.2 }] }, /outcome: Missing required property/],
      ['without occurrence', { occurrenceDateTime: undefined }, /occurrence\[x\]: Missing required property/],
      ['with an occurrence period', { occurrenceDateTime: undefined, occurrencePeriod: { start: '2026-03-02' } }, /cds-occurrence/],
      ['not final', { status: 'preliminary' }, /RiskAssessment\.status/],
      ['without subject', { subject: undefined }, /RiskAssessment\.subject: Missing required property/],
    ] as Array<[string, Partial<RiskAssessment>, RegExp]>)('rejects a RiskAssessment %s', (_label, change, reason) => {
      expect(problems({ ...ra, ...change }, 'cds-risk-assessment')).toMatch(reason);
      expect(problems({ ...ra, ...change })).toMatch(reason); // via meta.profile
    });
  });
});
