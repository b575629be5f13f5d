// The CMR report draft (src/services/cmr-report.ts with cards/cmr-report.yaml; MODELS.md section 5): values of
// the most recent CMR study day, "not assessed" for everything not measured then (never filled in),
// earlier study days as the comparison, and a preliminary DiagnosticReport referencing what was used.
import { buildReportDraft } from '../../../src/services/cmr-report.ts';
import { loadReportTemplate } from '../../../src/services/detail-wording.ts';
import { loinc, projectQuantity, projectValue } from '../../support/fhir-builders.ts';
import { testReader } from '../../support/runtime.ts';

const template = loadReportTemplate();
const NOW = new Date('2026-03-15T10:00:00Z');
const P = 'p1';

const lvefOld = loinc(P, '8811-2', 44, '%', '2025-03-01T09:00:00Z');
const lvef = loinc(P, '8811-2', 35, '%', '2026-03-10T09:00:00Z');
const infarct = projectQuantity(P, 'infarct-size', 28, '%', '2026-03-10T09:10:00Z');
const t1 = projectQuantity(P, 'native-t1', 1180, 'ms', '2026-03-10T09:20:00Z');
// A T2 of the earlier study only: not a result of the study reported.
const t2Old = projectQuantity(P, 't2', 50, 'ms', '2025-03-01T09:00:00Z');
const haemorrhage = projectValue(P, 'intramyocardial-haemorrhage', { valueBoolean: true }, '2026-03-10T09:30:00Z');

const draft = buildReportDraft(template, {
  serviceId: 'cmr-ihd-macce',
  patientId: P,
  observations: [lvefOld, lvef, infarct, t1, t2Old, haemorrhage],
  now: NOW,
  indication: 'STEMI (Condition/c1, onset 2026-03-04)',
  impression: ['CMR risk score: 8 points, high'],
}, testReader());
const section = (key: string) => draft.sections.find((s) => s.key === key)!;
const item = (s: string, key: string) => section(s).items.find((i) => i.key === key)!;

test('the SCMR sections, in order; the mass section only for the cardiac-mass service', () => {
  expect(draft.sections.map((s) => s.key)).toEqual(['indication', 'technique', 'lv', 'rv', 'lge', 'tissue', 'impression']);
  const mass = buildReportDraft(template, { serviceId: 'cmr-cardiac-mass', patientId: P, observations: [], now: NOW, impression: [] }, testReader());
  expect(mass.sections.map((s) => s.key)).toContain('mass');
});

test('values of the most recent study day, with date and source; the rest "not assessed", never filled in', () => {
  expect(item('lv', 'lvef')).toMatchObject({ status: 'measured', text: `LV ejection fraction: 35 % (2026-03-10; Observation/${lvef.id})`, sources: [`Observation/${lvef.id}`] });
  expect(item('lge', 'extent').text).toBe(`Extent (infarct size, % of LV mass): 28 % (2026-03-10; Observation/${infarct.id})`);
  expect(item('lge', 'haemorrhage').text).toMatch(/^Intramyocardial haemorrhage: present/);
  expect(item('tissue', 't2')).toMatchObject({ status: 'not-assessed', text: 'T2: not assessed', sources: [] });
  expect(item('rv', 'rvef').text).toBe('RV ejection fraction: not assessed');
  expect(item('lv', 'volumes').status).toBe('not-assessed');
  expect(item('tissue', 'ecv').status).toBe('not-assessed');
  expect(item('technique', 'cine').text).toBe('Cine imaging (LV function): performed (LV ejection fraction recorded on 2026-03-10)');
  expect(item('technique', 'perfusion').status).toBe('not-assessed');
});

test('indication, comparison and impression lines', () => {
  expect(section('indication').text).toBe('Indication: STEMI (Condition/c1, onset 2026-03-04)\nComparison: earlier CMR results on 2025-03-01');
  expect(section('impression').text).toBe('CMR risk score: 8 points, high');
  const none = buildReportDraft(template, { serviceId: 'cmr-ihd-macce', patientId: P, observations: [], now: NOW, impression: [] }, testReader());
  expect(none.sections[0]!.text).toBe('Indication: not stated in the record\nComparison: no earlier CMR results in the record');
  expect(none.sections.at(-1)!.text).toMatch(/impression to be written by the reporting physician/);
  expect(none.resource.result).toBeUndefined();
});

test('a preliminary DiagnosticReport coded LOINC 24748-6, results = the Observations used', () => {
  expect(draft.resource).toMatchObject({
    resourceType: 'DiagnosticReport',
    status: 'preliminary',
    code: { coding: [{ system: 'http://loinc.org', code: '24748-6', display: 'MR Heart' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2026-03-10',
  });
  expect(draft.resource.result?.map((r) => r.reference).sort()).toEqual([lvef, infarct, t1, haemorrhage].map((o) => `Observation/${o.id}`).sort());
});
