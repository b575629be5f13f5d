import type { Condition, FhirResource, Observation } from 'fhir/r4.js';
import type { CdsService, ResolvedPrefetch } from '../../../src/services/types.ts';
import type { Card } from '../../../src/hooks/types.ts';
import { testConfig } from '../../../src/config.ts';
import { ICD10, ICD10CM, PROJECT_CODESYSTEM, SNOMED } from '../../../src/fhir/canonical.ts';
import { md } from '../../../src/services/markdown.ts';
import { NOW, condition, daysAgo, patient, projectQuantity, projectValue, snomedCondition } from '../../support/fhir-builders.ts';
import { evaluateService, serviceOf, testRuntime, type TestContext } from '../../support/runtime.ts';

const PID = 'p1';

const evaluateCardiacMass = (d: ResolvedPrefetch, c: TestContext): Card[] => evaluateService('cmr-cardiac-mass', d, c);
const cmrCardiacMass = (): CdsService => serviceOf(testRuntime(), 'cmr-cardiac-mass');

function ctx(overrides: Partial<TestContext> = {}): TestContext {
  return {
    hookInstance: 'hi-1', patientId: PID, userId: 'Practitioner/1', now: NOW,
    config: testConfig(), publicBaseUrl: 'https://cds.example.org', unavailable: [], ...overrides,
  };
}

function data(resources: { conditions?: FhirResource[]; observations?: FhirResource[] }): ResolvedPrefetch {
  return {
    patient: patient(PID, 'female', '1965-04-01'),
    conditions: resources.conditions ?? [],
    observations: resources.observations ?? [],
  };
}

const evaluate = (r: { conditions?: FhirResource[]; observations?: FhirResource[] }, c: TestContext = ctx()): Card[] =>
  evaluateCardiacMass(data(r), c);

type ScoreEntry = { model: string; value: number; unit: string; tier?: string; missing: string[]; inputs: Array<{ name: string; value: unknown; date?: string; source: string }> };
const scoresOf = (card: Card): ScoreEntry[] => (card.extension?.scores ?? []) as ScoreEntry[];

// --- FHIR builders of a CMR mass report (the shape of profiles/ and the demo data) -----------------

type Flags = Partial<Record<
  'infiltration' | 'first-pass-perfusion' | 'sessile' | 'polylobate' | 'pericardial-effusion' | 'heterogeneous-enhancement'
  | 'ti-scout-thrombus-pattern' | 'lge' | 'homogeneous', boolean>>;

interface Report {
  days?: number;
  flags?: Flags;
  areaCm2?: number;
  diameterCm?: number;
  /** Post-contrast T1 of the mass, ms (the thrombus feature, MODELS.md 2b). */
  postContrastT1?: number;
  /** Native T1, ms: never the thrombus feature. */
  nativeT1?: number;
  location?: string;
  diagnosis?: string;
  /** false: features are separate Observations of the same day, not hasMember of the finding. */
  linked?: boolean;
  /** false: no cardiac-mass finding at all. */
  finding?: boolean;
}

function massReport(r: Report): Observation[] {
  const when = daysAgo(r.days ?? 5);
  const members: Observation[] = Object.entries(r.flags ?? {}).map(([code, v]) => projectValue(PID, `mass-${code}`, { valueBoolean: v }, when));
  if (r.areaCm2 !== undefined) members.push(projectQuantity(PID, 'mass-area', r.areaCm2, 'cm2', when));
  if (r.diameterCm !== undefined) members.push(projectQuantity(PID, 'mass-diameter', r.diameterCm, 'cm', when));
  if (r.postContrastT1 !== undefined) members.push(projectQuantity(PID, 'mass-post-contrast-t1', r.postContrastT1, 'ms', when));
  if (r.nativeT1 !== undefined) members.push(projectQuantity(PID, 'native-t1', r.nativeT1, 'ms', when));
  if (r.location) members.push(projectValue(PID, 'mass-location', { valueCodeableConcept: { coding: [{ system: PROJECT_CODESYSTEM, code: r.location }] } }, when));
  if (r.diagnosis) members.push(projectValue(PID, 'mass-diagnosis', { valueCodeableConcept: { coding: [{ system: PROJECT_CODESYSTEM, code: r.diagnosis }] } }, when));
  if (r.finding === false) return members;
  const finding = projectValue(PID, 'cardiac-mass', { valueBoolean: true }, when);
  if (r.linked !== false) finding.hasMember = members.map((m) => ({ reference: `Observation/${m.id ?? ''}` }));
  return [finding, ...members];
}

const ALL_SCORE_ABSENT: Flags = {
  infiltration: false, 'first-pass-perfusion': false, sessile: false, polylobate: false, 'pericardial-effusion': false, 'heterogeneous-enhancement': false,
};
const malignant5: Flags = { ...ALL_SCORE_ABSENT, infiltration: true, 'first-pass-perfusion': true, 'heterogeneous-enhancement': true };
const four: Flags = { ...ALL_SCORE_ABSENT, infiltration: true, sessile: true, polylobate: true };
const all8: Flags = {
  infiltration: true, 'first-pass-perfusion': true, sessile: true, polylobate: true, 'pericardial-effusion': true, 'heterogeneous-enhancement': true,
};
// Pazos-López 2014 thrombus pattern; CMR Mass Score 1 (sessile only).
const thrombusReport: Report = {
  flags: { ...ALL_SCORE_ABSENT, sessile: true, 'ti-scout-thrombus-pattern': true, lge: false, homogeneous: true },
  areaCm2: 2.1, diameterCm: 1.5, postContrastT1: 480, location: 'left-ventricle',
};

const benignCondition = (extra: Partial<Condition> = {}): Condition => condition(PID, ICD10CM, 'D15.1', extra);
const malignantCondition = (): Condition => condition(PID, ICD10CM, 'C38.0');
const thrombusCondition = (): Condition => snomedCondition(PID, '396339007');

const only = (cards: Card[]): Card => {
  expect(cards).toHaveLength(1);
  return cards[0]!;
};

/** A detail table row / sentence as the card writes it (cells escaped with the shared md()). */
const row = (...cells: Array<string | number>): string => `| ${cells.map((c) => md(c)).join(' | ')} |`;
const says = (card: Card, text: string): void => expect(card.detail).toContain(md(text));

describe('cmr-cardiac-mass service', () => {
  test('declares itself for patient-view, CDS Hooks 2.0 tokens only, codes from the ValueSets', () => {
    const d = cmrCardiacMass().description;
    expect(d.id).toBe('cmr-cardiac-mass');
    expect(d.hook).toBe('patient-view');
    for (const t of Object.values(d.prefetch)) for (const tok of t.match(/\{\{[^}]+\}\}/g) ?? []) expect(tok).toBe('{{context.patientId}}');
    expect(d.prefetch.conditions).toContain('http://hl7.org/fhir/sid/icd-10-cm|C38.0');
    expect(d.prefetch.conditions).toContain(`${SNOMED}|396339007`);
    expect(d.prefetch.observations).toContain(`${PROJECT_CODESYSTEM}|mass-ti-scout-thrombus-pattern`);
    expect(d.prefetch.observations).toContain(`${PROJECT_CODESYSTEM}|mass-post-contrast-t1`);
    // Native T1 is not read by this service (issue 10, item 3).
    expect(d.prefetch.observations).not.toContain(`${PROJECT_CODESYSTEM}|native-t1`);
    expect(cmrCardiacMass().requiredPrefetch).toEqual(['patient', 'conditions', 'observations']);
  });

  test('no cardiac mass → no card, even with other conditions and myocardial T1', () => {
    expect(evaluate({})).toEqual([]);
    expect(evaluate({ conditions: [snomedCondition(PID, '38341003')], observations: [projectQuantity(PID, 'native-t1', 1010, 'ms', daysAgo(3))] })).toEqual([]);
  });

  test('a thrombus Condition alone does not name the heart: no card', () => {
    expect(evaluate({ conditions: [thrombusCondition()] })).toEqual([]);
  });

  test('refuted or resolved mass conditions, and a CMR finding "no mass", do not make the service apply', () => {
    const refuted = benignCondition({ verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'refuted' }] } });
    const resolved = benignCondition({ clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] } });
    const noMass = projectValue(PID, 'cardiac-mass', { valueBoolean: false }, daysAgo(3));
    expect(evaluate({ conditions: [refuted, resolved], observations: [noMass] })).toEqual([]);
  });

  test('mass via a Condition (ICD-10-CM D15.1) with same-day CMR features', () => {
    const card = only(evaluate({ conditions: [benignCondition()], observations: massReport({ flags: malignant5, finding: false }) }));
    expect(card.summary).toMatch(/^Cardiac mass: CMR Mass Score 5\/8/);
    expect(card.detail).toMatch(/results of \d{4}-\d{2}-\d{2}/);
  });

  test('mass via a CMR finding Observation (project code cardiac-mass) with hasMember features', () => {
    const card = only(evaluate({ observations: massReport({ flags: four, location: 'left-atrium' }) }));
    expect(card.summary).toMatch(/^Cardiac mass: CMR Mass Score 4\/8/);
    expect(card.detail).toMatch(/mass report of/);
    expect(card.detail).toMatch(/Location: left atrium/);
  });

  test('infiltration + perfusion + heterogeneous enhancement = 5 → likely malignant with its guidance', () => {
    const card = only(evaluate({ observations: massReport({ flags: malignant5 }) }));
    expect(card.summary).toBe('Cardiac mass: CMR Mass Score 5/8 — likely malignant (≥ 5)');
    expect(card.indicator).toBe('warning');
    expect(card.detail).toMatch(/multidisciplinary review and a tissue diagnosis/);
    expect(card.detail).not.toMatch(/anticoagulation/);
    const [s] = scoresOf(card);
    expect(s).toMatchObject({ model: 'cmr-mass-score', value: 5, unit: 'points', tier: 'likely malignant', missing: [] });
    // Each feature with its points: infiltration 2, perfusion 2, heterogeneous enhancement 1, others 0.
    expect(card.detail).toContain(row('Infiltration', 2, 'present', 2));
    expect(card.detail).toContain(row('First-pass contrast perfusion', 2, 'present', 2));
    expect(card.detail).toContain(row('Sessile', 1, 'absent', 0));
    expect(card.detail).toContain(row('Heterogeneous enhancement (LGE)', 1, 'present', 1));
  });

  test('4 points → not malignant: likely benign with the benign pathway', () => {
    const card = only(evaluate({ observations: massReport({ flags: four }) }));
    expect(card.summary).toBe('Cardiac mass: CMR Mass Score 4/8 — likely benign (< 5)');
    expect(card.indicator).toBe('info');
    expect(card.detail).toMatch(/surgical or a surveillance pathway/);
    expect(card.detail).not.toMatch(/tissue diagnosis/);
    expect(scoresOf(card)[0]).toMatchObject({ value: 4, tier: 'likely benign' });
  });

  test('all six features → 8/8', () => {
    const card = only(evaluate({ observations: massReport({ flags: all8 }) }));
    expect(card.summary).toMatch(/CMR Mass Score 8\/8 — likely malignant/);
    expect(scoresOf(card)[0]?.value).toBe(8);
    expect(card.detail).toContain(`| **Total** | 8 | ${md('likely malignant (≥ 5)')} | **8** |`);
  });

  test('thrombus pattern → thrombus features with their accuracies and the anticoagulation guidance', () => {
    const card = only(evaluate({ observations: massReport(thrombusReport) }));
    expect(card.summary).toBe('Cardiac mass: CMR Mass Score 1/8 — below the malignancy cut-off (< 5); features favour thrombus (TI-scout pattern)');
    expect(card.indicator).toBe('warning');
    const detail = card.detail ?? '';
    expect(detail).toContain(row('typical TI-scout pattern', 'present', 'yes', 'sensitivity 94 %, specificity 98 %'));
    expect(detail).toContain(row('absent LGE', 'absent', 'yes', 'accuracy 87 %'));
    expect(detail).toContain(row('absent first-pass perfusion', 'absent', 'yes', 'sensitivity 96 %, specificity 70 %'));
    expect(detail).toContain(row('area < 4.1 cm²', '2.1 cm²', 'yes', 'accuracy 86 %'));
    expect(detail).toContain(row('diameter < 2.4 cm', '1.5 cm', 'yes', 'accuracy 82 %'));
    expect(detail).toContain(row('homogeneous', 'present', 'yes', 'accuracy 84 %'));
    expect(detail).toContain(row('post-contrast T1 ≥ 422 ms', '480 ms', 'yes', 'accuracy 73 %'));
    says(card, 'consider discussing anticoagulation and follow-up imaging');
    // Guidance, never an order.
    expect(detail).not.toMatch(/\b(start|give|prescribe|order)\b/i);
    expect(detail).not.toMatch(/surgical or a surveillance/);
    expect(detail).toContain(`| **Total** | 8 | ${md('below the malignancy cut-off (< 5)')} | **1** |`);
  });

  test('T1 ≥ 422 ms is a post-contrast feature: a native T1 of the mass never meets it (issue 10, item 3)', () => {
    // A tumour with native T1 1250 ms, even a member of the mass report, was shown as meeting the criterion.
    const { postContrastT1: _t1, ...rest } = thrombusReport;
    const card = only(evaluate({ conditions: [benignCondition()], observations: massReport({ ...rest, nativeT1: 1250 }) }));
    expect(card.detail).toContain(row('post-contrast T1 ≥ 422 ms', 'not assessed', 'unknown', 'accuracy 73 %'));
    expect(card.detail).not.toContain('1250');
    expect(card.detail).toContain(`- ${md('Post-contrast T1 of the mass')}: ${md(`not reported in the CMR of ${daysAgo(5).slice(0, 10)}`)}`);
    // The post-contrast T1 code names the mass: it is read from the study whether or not the report links it.
    const unlinked = only(evaluate({ conditions: [benignCondition()], observations: massReport({ ...thrombusReport, linked: false }) }));
    expect(unlinked.detail).toContain(row('post-contrast T1 ≥ 422 ms', '480 ms', 'yes', 'accuracy 73 %'));
    // A native T1 alone is not a mass feature at all.
    const t1Only = only(evaluate({ conditions: [benignCondition()], observations: [projectQuantity(PID, 'native-t1', 1010, 'ms', daysAgo(3))] }));
    expect(t1Only.summary).toMatch(/no CMR mass features/);
  });

  test('missing features → a range, the tier undetermined, and the features that would decide it', () => {
    const card = only(evaluate({ observations: massReport({ flags: { polylobate: true }, diameterCm: 3.2 }) }));
    expect(card.summary).toBe('Cardiac mass: CMR Mass Score 1–8/8 — malignancy undetermined, 5 feature(s) not assessed');
    expect(card.indicator).toBe('info');
    says(card, 'Score 1–8: it reaches the malignancy cut-off (≥ 5) only if the features not assessed add at least 4 point(s).');
    says(card, 'Would decide it: Infiltration (2), First-pass contrast perfusion (2), Sessile (1), Pericardial effusion (1), Heterogeneous enhancement (LGE) (1).');
    expect(card.detail).toContain(row('Infiltration', 2, 'not assessed', '?'));
    expect(card.detail).toContain(row('Polylobate', 1, 'present', 1));
    expect(card.detail).toContain(`- ${md('Infiltration')}: ${md(`not reported in the CMR of ${daysAgo(5).slice(0, 10)}`)}`);
    const [s] = scoresOf(card);
    expect(s?.tier).toBeUndefined();
    expect(s?.missing).toEqual(['infiltration', 'firstPassPerfusion', 'sessile', 'pericardialEffusion', 'heterogeneousEnhancement']);
    // An undetermined score is not offered for the chart.
    expect(card.suggestions).toBeUndefined();
  });

  test('missing features that cannot change the tier: the tier stands and the card says so', () => {
    const flags: Flags = { infiltration: true, 'first-pass-perfusion': true, 'heterogeneous-enhancement': true, sessile: false };
    const card = only(evaluate({ observations: massReport({ flags }) }));
    expect(card.summary).toBe('Cardiac mass: CMR Mass Score 5–7/8 — likely malignant (≥ 5), 2 feature(s) not assessed');
    says(card, 'Not assessed: Polylobate (1), Pericardial effusion (1); they cannot move the score across the cut-off.');
    expect(card.suggestions).toHaveLength(1);
  });

  test('one clear card when no CMR feature is available', () => {
    const card = only(evaluate({ conditions: [benignCondition()] }));
    expect(card.summary).toBe('Cardiac mass: no CMR mass features in the last 365 days — CMR Mass Score not computed');
    expect(card.indicator).toBe('info');
    expect(card.suggestions).toBeUndefined();
    expect(card.extension).toBeUndefined();
    expect(card.detail).toContain(`- ${md('Infiltration')}: ${md('not recorded')}`);
    expect(card.detail).toContain(`- ${md('Post-contrast T1 of the mass')}: ${md('not recorded')}`);
    // The condition states the category (D15.1 → benign): the prognosis is shown even without features.
    says(card, 'CMR diagnosis benign tumour (condition');
    says(card, '5-year all-cause mortality 17 %.');
  });

  test('observations outside the look-back are ignored (and the card says when the latest was)', () => {
    const old = massReport({ ...thrombusReport, flags: malignant5, days: 400 });
    const card = only(evaluate({ conditions: [benignCondition()], observations: old }));
    expect(card.summary).toMatch(/no CMR mass features in the last 365 days/);
    says(card, `Infiltration: no result within 365 days (latest ${daysAgo(400)})`);
    // Without the Condition, an old CMR finding alone does not make the service apply.
    expect(evaluate({ observations: old })).toEqual([]);
    // The look-back is the configured imaging look-back.
    const wide = only(evaluate({ observations: old }, ctx({ config: testConfig({ bodyLookbackDays: 500 }) })));
    expect(wide.summary).toMatch(/CMR Mass Score 5\/8/);
  });

  test('only the most recent CMR study is used: features of an older study are not mixed in', () => {
    const older = massReport({ flags: all8, days: 100, postContrastT1: 300 });
    const newer = massReport({ flags: { sessile: true }, days: 10 });
    const card = only(evaluate({ observations: [...older, ...newer] }));
    expect(card.summary).toMatch(/CMR Mass Score 1–8\/8/);
    expect(card.detail).toMatch(/post-contrast T1 ≥ 422 ms \| not assessed/);
  });

  test('prognosis only with a recorded CMR diagnosis (mass-diagnosis Observation)', () => {
    const without = only(evaluate({ observations: massReport({ flags: all8 }) }));
    says(without, 'Not shown: no CMR diagnosis of the mass is recorded');
    expect(without.detail).not.toMatch(/mortality/);

    const report = massReport({ flags: all8, diagnosis: 'malignant' });
    const dxObs = report.find((o) => o.code.coding?.[0]?.code === 'mass-diagnosis');
    const withDx = only(evaluate({ observations: report }));
    const dx = `Observation/${dxObs?.id ?? ''}`;
    says(withDx, `CMR diagnosis malignant tumour (CMR report ${dx}, ${daysAgo(5).slice(0, 10)}): in the Shenoy 2022 cohort, 5-year all-cause mortality 73 %; mortality vs no mass HR 3.31.`);
    says(withDx, 'doi:10.1093/eurheartj/ehab635');
    // The recorded diagnosis leads the guidance (and agrees with the score here: no disagreement note).
    says(withDx, 'Guidance follows the recorded CMR diagnosis (malignant tumour');
    expect(withDx.detail).not.toMatch(/differs from what the features suggest/);
    // The prognosis is a cohort figure: not a score in extension.scores, not saved to the chart.
    expect(scoresOf(withDx).map((s) => s.model)).toEqual(['cmr-mass-score']);
  });

  test('prognosis derived only from a condition that states the category', () => {
    const tc = thrombusCondition();
    const thrombus = only(evaluate({ conditions: [tc], observations: massReport(thrombusReport) }));
    says(thrombus, `CMR diagnosis thrombus (condition Condition/${tc.id ?? ''}): in the Shenoy 2022 cohort, 5-year all-cause mortality 36 %; mortality vs no mass HR 1.46.`);

    const benign = only(evaluate({ conditions: [benignCondition()], observations: massReport({ flags: four }) }));
    says(benign, '5-year all-cause mortality 17 %.');

    const malignant = only(evaluate({ conditions: [malignantCondition()], observations: massReport({ flags: four }) }));
    says(malignant, '5-year all-cause mortality 73 %; mortality vs no mass HR 3.31');
    // The recorded diagnosis leads the guidance, and the disagreement with the score is said.
    says(malignant, 'Guidance follows the recorded CMR diagnosis (malignant tumour');
    says(malignant, 'The recorded CMR diagnosis (malignant tumour) differs from what the features suggest (benign)');
    expect(malignant.indicator).toBe('warning');
    // The same diagnosis coded in WHO ICD-10 (C38.0 Malignant neoplasm: Heart) counts alike.
    says(only(evaluate({ conditions: [condition(PID, ICD10, 'C38.0')], observations: massReport({ flags: four }) })), '5-year all-cause mortality 73 %');

    const provisional = benignCondition({ verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'provisional' }] } });
    says(only(evaluate({ conditions: [provisional], observations: massReport({ flags: four }) })), 'Not shown: no CMR diagnosis');

    const conflicting = only(evaluate({ conditions: [benignCondition(), malignantCondition()], observations: massReport({ flags: four }) }));
    says(conflicting, 'Not shown: the recorded conditions state different categories (malignant tumour, benign tumour).');
  });

  test('a mass-diagnosis Observation wins over conditions', () => {
    const card = only(evaluate({ conditions: [malignantCondition()], observations: massReport({ ...thrombusReport, diagnosis: 'thrombus' }) }));
    says(card, 'CMR diagnosis thrombus (CMR report');
    says(card, '5-year all-cause mortality 36 %');
    expect(card.detail).not.toMatch(/mortality 73 %/);
  });

  test('summaries stay under 140 characters in every scenario', () => {
    const scenarios: Array<{ conditions?: FhirResource[]; observations?: FhirResource[] }> = [
      { observations: massReport({ flags: malignant5 }) },
      { observations: massReport({ flags: four }) },
      { observations: massReport(thrombusReport) },
      { observations: massReport({ flags: { 'ti-scout-thrombus-pattern': true } }) },
      { observations: massReport({ flags: { polylobate: true, 'ti-scout-thrombus-pattern': true } }) },
      { observations: massReport({ flags: { ...all8, 'ti-scout-thrombus-pattern': true } }) },
      { conditions: [benignCondition()] },
    ];
    for (const s of scenarios) for (const c of evaluate(s)) expect(c.summary.length).toBeLessThan(140);
  });

  test('conflicting features: malignant score and a thrombus pattern → both guidances and a review note', () => {
    const card = only(evaluate({ observations: massReport({ flags: { ...all8, 'ti-scout-thrombus-pattern': true } }) }));
    expect(card.summary).toMatch(/likely malignant \(≥ 5\); features favour thrombus/);
    expect(card.detail).toMatch(/tissue diagnosis/);
    expect(card.detail).toMatch(/anticoagulation/);
    expect(card.detail).toMatch(/review the CMR at a multidisciplinary meeting/);
  });

  test('hostile text in a Condition code.text is escaped in the detail', () => {
    const hostile = benignCondition({
      code: { coding: [{ system: ICD10CM, code: 'D15.1' }], text: '<script>alert(1)</script> **bold** [x](javascript:alert(1))' },
    });
    const card = only(evaluate({ conditions: [hostile], observations: massReport({ flags: four }) }));
    const detail = card.detail ?? '';
    expect(detail).not.toContain('<script>');
    expect(detail).not.toContain('**bold**');
    expect(detail).not.toContain('[x](javascript:');
    expect(detail).toContain('&lt;script&gt;');
    expect(detail).toContain('\\*\\*bold\\*\\*');
    expect(detail).toContain('\\[x\\]');
    // Shown in the inputs table and in the sentence naming what the mass was recorded as.
    expect(detail.split(md(hostile.code?.text ?? '')).length - 1).toBe(2);
  });

  test('card rules: source, topic, overrideReasons, smart link, Save-to-chart RiskAssessment, extension.scores', () => {
    const cond = benignCondition();
    const card = only(evaluate({ conditions: [cond], observations: massReport({ flags: malignant5 }) }));
    expect(card.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(card.source).toEqual({
      label: 'CMR Mass Score (Paolisso P et al., Circ Cardiovasc Imaging 2024)',
      url: 'https://pubmed.ncbi.nlm.nih.gov/38502734/',
      topic: { system: 'https://fhir.imaging-cds.example.org/CodeSystem/card-topics', code: 'cardiac-mass', display: 'Cardiac mass' },
    });
    expect(card.overrideReasons?.map((r) => r.code)).toEqual(['data-outdated', 'not-applicable-patient', 'already-addressed', 'disagree-with-score', 'patient-declined']);
    const link = card.links?.[0];
    expect(link?.type).toBe('smart');
    expect(JSON.parse(link?.appContext ?? '{}')).toEqual({ s: 'cardiac-mass', h: 'hi-1', v: { 'cmr-mass-score': 5 } });
    const actions = card.suggestions?.[0]?.actions ?? [];
    expect(actions).toHaveLength(1);
    const ra = actions[0]?.resource as { resourceType: string; method: { coding: Array<{ code: string }> }; basis: Array<{ reference: string }>; prediction: Array<{ outcome: { text: string }; qualitativeRisk: { text: string } }> };
    expect(ra.resourceType).toBe('RiskAssessment');
    expect(ra.method.coding[0]?.code).toBe('cmr-mass-score');
    expect(ra.basis).toHaveLength(6);
    expect(ra.prediction[0]).toMatchObject({ outcome: { text: 'malignancy' }, qualitativeRisk: { text: 'likely malignant' } });
    const [s] = scoresOf(card);
    expect(s).toEqual({
      model: 'cmr-mass-score', value: 5, unit: 'points', tier: 'likely malignant', missing: [],
      inputs: expect.arrayContaining([
        { name: 'infiltration', value: true, date: expect.stringMatching(/^\d{4}-/), source: expect.stringMatching(/^Observation\/obs-\d+$/) },
      ]),
    });
    expect(s?.inputs).toHaveLength(6);
    // Inputs with dates and sources, and the mass condition, in the detail.
    expect(card.detail).toMatch(/### Inputs used/);
    expect(card.detail).toContain(row('Cardiac mass (condition)', 'D15.1', '—', `Condition/${cond.id ?? ''}`));
  });
});
