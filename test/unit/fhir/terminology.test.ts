// ValueSet / ConceptMap loading and matching (FHIR R4 ValueSet.compose, ConceptMap), on fixtures in
// test/fixtures/terminology so the test does not depend on the shipped profiles/.
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ValueSet } from 'fhir/r4.js';
import {
  createTerminology,
  DEFAULT_PROFILES_DIR,
  loadTerminology,
  resolveValueSetUrl,
  TerminologyError,
} from '../../../src/fhir/terminology.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/terminology/', import.meta.url));
const SITE = fileURLToPath(new URL('../../fixtures/terminology/site/', import.meta.url));
const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const ICD = 'http://hl7.org/fhir/sid/icd-10-cm';
const PROJ = 'https://fhir.imaging-cds.example.org/CodeSystem/imaging-cds';
const SITE_LAB = 'urn:oid:1.2.3.4.5.site-lab';

const t = loadTerminology([FIXTURES]);
const c = (system: string, code: string) => ({ system, code });

describe('loading', () => {
  it('reads every ValueSet from the directory and ignores other resources', () => {
    expect(t.hasValueSet('creatinine')).toBe(true);
    expect(t.hasValueSet('https://fhir.imaging-cds.example.org/ValueSet/creatinine')).toBe(true);
    expect(t.hasValueSet('https://fhir.imaging-cds.example.org/ValueSet/creatinine|1.0.0')).toBe(true);
    expect(t.hasValueSet('x')).toBe(false);
    expect(t.valueSetUrls()).toContain('https://fhir.imaging-cds.example.org/ValueSet/mi-any');
  });

  it('throws on an unknown ValueSet name (a typo must not read as "absent")', () => {
    expect(() => t.valueSetContains('creatinin', [c(LOINC, '2160-0')])).toThrow(TerminologyError);
    expect(() => t.queryCodes('nope')).toThrow(/Unknown ValueSet 'nope'/);
  });

  it('resolves short names to the project canonical', () => {
    expect(resolveValueSetUrl('inr')).toBe('https://fhir.imaging-cds.example.org/ValueSet/inr');
    expect(resolveValueSetUrl('http://example.org/ValueSet/a|2')).toBe('http://example.org/ValueSet/a');
  });

  it('lets a site directory override a ValueSet and add ConceptMaps (also from a Bundle)', () => {
    const withSite = loadTerminology([FIXTURES, SITE]);
    expect(withSite.valueSetContains('creatinine', [c(LOINC, '14682-9')])).toBe(true);
    expect(withSite.valueSetContains('creatinine', [c(LOINC, '38483-4')])).toBe(false);
    expect(t.valueSetContains('creatinine', [c(LOINC, '38483-4')])).toBe(true);
    expect(withSite.valueSetContains('albumin', [c('urn:site2', 'S-ALB')])).toBe(true);
  });

  it('fails at start-up on a missing directory, bad JSON or an unsupported compose', () => {
    expect(() => loadTerminology(['/nonexistent/dir'])).toThrow(TerminologyError);
    const dir = mkdtempSync(join(tmpdir(), 'term-'));
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    expect(() => loadTerminology([dir])).toThrow(/not valid JSON/);
    const vs = (include: unknown): ValueSet => ({ resourceType: 'ValueSet', url: 'urn:x', status: 'active', compose: { include } } as ValueSet);
    expect(() => createTerminology([vs([{ system: LOINC, filter: [{ property: 'parent', op: '=', value: 'x' }] }])])).toThrow(/property 'parent'/);
    expect(() => createTerminology([vs([{ system: LOINC, filter: [{ property: 'concept', op: 'regex', value: 'x' }] }])])).toThrow(/op 'regex'/);
    expect(() => createTerminology([vs([{ valueSet: ['urn:a', 'urn:b'] }])])).toThrow(/intersection/);
    expect(() => createTerminology([vs([{ valueSet: ['urn:missing'] }])])).toThrow(/Unknown ValueSet urn:missing/);
    const a: ValueSet = { resourceType: 'ValueSet', url: 'urn:a', status: 'active', compose: { include: [{ valueSet: ['urn:b'] }] } };
    const b: ValueSet = { resourceType: 'ValueSet', url: 'urn:b', status: 'active', compose: { include: [{ valueSet: ['urn:a'] }] } };
    expect(() => createTerminology([a, b])).toThrow(/cycle/);
  });

  it('locates the repository profiles/ directory from the module', () => {
    expect(DEFAULT_PROFILES_DIR).toMatch(/profiles\/$/);
  });
});

describe('valueSetContains', () => {
  it('matches concept lists by system and code', () => {
    expect(t.valueSetContains('inr', [c(LOINC, '34714-6')])).toBe(true);
    expect(t.valueSetContains('inr', [c(LOINC, '2160-0')])).toBe(false);
    expect(t.valueSetContains('inr', [c(SCT, '6301-6')])).toBe(false);
  });

  it('accepts a CodeableConcept, a Coding, a list, null; any coding may match', () => {
    expect(t.valueSetContains('inr', { coding: [c('urn:other', 'x'), c(LOINC, '6301-6')], text: 'INR' })).toBe(true);
    expect(t.valueSetContains('inr', c(LOINC, '6301-6'))).toBe(true);
    expect(t.valueSetContains('inr', { text: 'INR' })).toBe(false);
    expect(t.valueSetContains('inr', undefined)).toBe(false);
    expect(t.valueSetContains('inr', null)).toBe(false);
  });

  it('never matches a coding without a system', () => {
    expect(t.valueSetContains('inr', [{ code: '6301-6' }])).toBe(false);
  });

  it('implements ICD-10(-CM) is-a as a prefix match on the code without the dot', () => {
    for (const code of ['I21', 'I21.0', 'I21.01', 'I2101', 'I21.A1', 'i21.4']) expect(t.valueSetContains('acute-mi', [c(ICD, code)])).toBe(true);
    for (const code of ['I2', 'I20.0', 'I25.2', 'I23.0']) expect(t.valueSetContains('acute-mi', [c(ICD, code)])).toBe(false);
    // plain ICD-10 listed separately
    expect(t.valueSetContains('acute-mi', [c('http://hl7.org/fhir/sid/icd-10', 'I21.9')])).toBe(true);
    expect(t.valueSetContains('acute-mi', [c('http://hl7.org/fhir/sid/icd-10', 'I22.0')])).toBe(false);
    // dotted filter value (K74.6 ⊃ K74.60, K74.69)
    expect(t.valueSetContains('cirrhosis', [c(ICD, 'K74.60')])).toBe(true);
    expect(t.valueSetContains('cirrhosis', [c(ICD, 'K74.6')])).toBe(true);
    expect(t.valueSetContains('cirrhosis', [c(ICD, 'K74.5')])).toBe(false);
  });

  it('implements descendent-of without the code itself', () => {
    expect(t.valueSetContains('cirrhosis', [c(ICD, 'K70.30')])).toBe(true);
    expect(t.valueSetContains('cirrhosis', [c(ICD, 'K70.3')])).toBe(false);
  });

  it('treats SNOMED CT is-a as the code itself (no terminology server)', () => {
    expect(t.valueSetContains('ihd', [c(SCT, '414545008')])).toBe(true);
    expect(t.valueSetContains('ihd', [c(SCT, '22298006')])).toBe(false);
  });

  it('expands is-a over a loaded CodeSystem hierarchy', () => {
    for (const code of ['lge-feature', 'lge-heterogeneous', 'lge-absent', 'lge-absent-confirmed']) {
      expect(t.valueSetContains('lge-features', [c(PROJ, code)])).toBe(true);
    }
    expect(t.valueSetContains('lge-features', [c(PROJ, 'mvo-present')])).toBe(false);
    expect(t.valueSetContains('lge-features-below', [c(PROJ, 'lge-feature')])).toBe(false);
    expect(t.valueSetContains('lge-features-below', [c(PROJ, 'lge-absent-confirmed')])).toBe(true);
  });

  it('includes whole systems (enumerated when the CodeSystem is loaded)', () => {
    expect(t.valueSetContains('loinc-any', [c(LOINC, '99999-9')])).toBe(true);
    expect(t.valueSetContains('project-all', [c(PROJ, 'infarct-size')])).toBe(true);
    expect(t.valueSetContains('project-all', [c(PROJ, 'not-a-code')])).toBe(false);
  });

  it('unions referenced ValueSets', () => {
    expect(t.valueSetContains('mi-any', [c(SCT, '22298006')])).toBe(true);
    expect(t.valueSetContains('mi-any', [c(ICD, 'I21.4')])).toBe(true);
    expect(t.valueSetContains('mi-any', [c(ICD, 'I25.10')])).toBe(true);
    expect(t.valueSetContains('mi-any', [c(ICD, 'I10')])).toBe(false);
  });

  it('applies exclude, also through a referencing ValueSet', () => {
    expect(t.valueSetContains('diabetes-no-e11-9', [c(ICD, 'E11.65')])).toBe(true);
    expect(t.valueSetContains('diabetes-no-e11-9', [c(ICD, 'E11.9')])).toBe(false);
    expect(t.valueSetContains('diabetes-no-e11-9', [c(ICD, 'E119')])).toBe(false);
    expect(t.valueSetContains('uses-excluding-set', [c(ICD, 'E10.9')])).toBe(true);
    expect(t.valueSetContains('uses-excluding-set', [c(ICD, 'E11.9')])).toBe(false);
  });

  it('maps site codes through ConceptMap only for equivalent/equal', () => {
    expect(t.valueSetContains('creatinine', [c(SITE_LAB, 'CREA')])).toBe(true); // equivalent
    expect(t.valueSetContains('bilirubin', [c(SITE_LAB, 'BILI-T')])).toBe(true); // equal
    expect(t.valueSetContains('inr', [c(SITE_LAB, 'INR')])).toBe(true); // R5 relationship equivalent
    expect(t.valueSetContains('sodium', [c(SITE_LAB, 'NA')])).toBe(false); // wider
    expect(t.valueSetContains('albumin', [c(SITE_LAB, 'ALB')])).toBe(false); // relatedto
    expect(t.valueSetContains('creatinine', [c(SITE_LAB, 'BILI-T')])).toBe(false);
    // A mapped diagnosis reaches every set containing the target, including through references.
    expect(t.valueSetContains('acute-mi', [c('urn:oid:1.2.3.4.5.site-dx', 'LOCAL-STEMI')])).toBe(true);
    expect(t.valueSetContains('mi-any', [c('urn:oid:1.2.3.4.5.site-dx', 'LOCAL-STEMI')])).toBe(true);
  });
});

describe('queryCodes', () => {
  it('lists system|code tokens, with mapped site codes', () => {
    expect(t.queryCodes('inr')).toBe(`${LOINC}|6301-6,${LOINC}|34714-6,${LOINC}|38875-1,${SITE_LAB}|INR`);
    expect(t.queryCodes('creatinine')).toBe(`${LOINC}|2160-0,${LOINC}|38483-4,${SITE_LAB}|CREA`);
    expect(t.queryCodes('sodium')).toBe(`${LOINC}|2951-2`);
  });

  it('uses system| (any code) for hierarchy filters and whole systems: a superset to re-check', () => {
    const q = t.queryCodes('acute-mi').split(',');
    expect(q).toEqual(expect.arrayContaining([`${SCT}|57054005`, `${ICD}|`, 'http://hl7.org/fhir/sid/icd-10|', 'urn:oid:1.2.3.4.5.site-dx|LOCAL-STEMI']));
    expect(new Set(q).size).toBe(q.length);
    expect(t.queryCodes('loinc-any')).toBe(`${LOINC}|,${SITE_LAB}|CREA,${SITE_LAB}|BILI-T,${SITE_LAB}|INR`);
    expect(t.queryCodes('lge-features').split(',')).toHaveLength(4);
  });

  it('escapes , | $ \\ in codes (FHIR search escaping)', () => {
    expect(t.queryCodes('weird-codes')).toBe('urn:example:weird|a\\,b,urn:example:weird|c\\|d');
  });
});

describe('performance', () => {
  it('answers membership in constant time per coding', () => {
    const concept = { coding: [c('urn:other', 'x'), c(ICD, 'I21.4')] };
    const t0 = performance.now();
    let n = 0;
    for (let i = 0; i < 20_000; i++) if (t.valueSetContains('mi-any', concept)) n++;
    expect(n).toBe(20_000);
    expect(performance.now() - t0).toBeLessThan(2000); // generous: shared CI machines
  });
});
