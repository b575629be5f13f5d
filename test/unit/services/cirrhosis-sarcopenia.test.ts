import type { FhirResource } from 'fhir/r4.js';
import type { CdsService, ResolvedPrefetch } from '../../../src/services/types.ts';
import type { Card } from '../../../src/hooks/types.ts';
import { testConfig } from '../../../src/config.ts';
import { ICD10, ICD10CM, SNOMED } from '../../../src/fhir/canonical.ts';
import { NOW, daysAgo, loinc, patient, procedure, projectQuantity, projectValue, snomedCondition, condition } from '../../support/fhir-builders.ts';
import { evaluateService, serviceOf, testRuntime, type TestContext } from '../../support/runtime.ts';

const PID = 'p1';

const evaluateCirrhosis = (d: ResolvedPrefetch, c: TestContext): Card[] => evaluateService('cirrhosis-sarcopenia', d, c);
const cirrhosisSarcopenia = (): CdsService => serviceOf(testRuntime(), 'cirrhosis-sarcopenia');

function ctx(overrides: Partial<TestContext> = {}): TestContext {
  return {
    hookInstance: 'hi-1', patientId: PID, userId: 'Practitioner/1', now: NOW,
    config: testConfig(), publicBaseUrl: 'https://cds.example.org', unavailable: [], ...overrides,
  };
}

function data(resources: { patient?: FhirResource; conditions?: FhirResource[]; observations?: FhirResource[]; procedures?: FhirResource[] }): ResolvedPrefetch {
  return {
    patient: resources.patient ?? patient(PID, 'female', '1970-03-01'),
    conditions: resources.conditions ?? [],
    observations: resources.observations ?? [],
    procedures: resources.procedures ?? [],
  };
}

type ScoreMap = Record<string, { value: number; tier?: string; probability?: number; missing: string[]; inputs: Array<{ name: string; source: string }> }>;
function scores(cards: Card[]): ScoreMap {
  const out: ScoreMap = {};
  for (const c of cards) for (const s of ((c.extension?.scores ?? []) as Array<{ model: string } & ScoreMap[string]>)) out[s.model] = s;
  return out;
}

const cirrhosis = () => snomedCondition(PID, '19943007');

// MODELS.md 3a vector 4 (female: bili 4.0, Na 128, INR 1.8, Cr 1.9, Alb 2.8 -> 31.00) and 3b check
// (Cr 1.9, bili 4.0, INR 1.8, Na 128 -> MELD(i) 24.0, MELD-Na 28.75), in conventional units ...
const conventionalLabs = () => [
  loinc(PID, '1975-2', 4.0, 'mg/dL', daysAgo(2)),
  loinc(PID, '2160-0', 1.9, 'mg/dL', daysAgo(2)),
  loinc(PID, '2951-2', 128, 'mmol/L', daysAgo(2)),
  loinc(PID, '1751-7', 2.8, 'g/dL', daysAgo(2)),
  loinc(PID, '6301-6', 1.8, '{INR}', daysAgo(2)),
];
// ... and the same patient in SI units (MODELS.md factors: ×17.1, ×88.42, ×10).
const siLabs = () => [
  loinc(PID, '14631-6', 4.0 * 17.1, 'umol/L', daysAgo(2)),
  loinc(PID, '14682-9', 1.9 * 88.42, 'umol/L', daysAgo(2)),
  loinc(PID, '2951-2', 128, 'mmol/L', daysAgo(2)),
  loinc(PID, '1751-7', 28, 'g/L', daysAgo(2)),
  loinc(PID, '6301-6', 1.8, '{INR}', daysAgo(2)),
];
const decompensation = () => [
  projectValue(PID, 'ascites-severity', { valueCodeableConcept: { coding: [{ system: 'https://fhir.imaging-cds.example.org/CodeSystem/imaging-cds', code: 'moderate-severe' }] } }, daysAgo(3)),
  projectValue(PID, 'hepatic-encephalopathy-grade', { valueInteger: 2 }, daysAgo(3)),
];

describe('cirrhosis-sarcopenia service', () => {
  test('declares itself for patient-view with CDS Hooks 2.0 prefetch tokens only', () => {
    const d = cirrhosisSarcopenia().description;
    expect(d.hook).toBe('patient-view');
    for (const t of Object.values(d.prefetch)) {
      const tokens = t.match(/\{\{[^}]+\}\}/g) ?? [];
      for (const tok of tokens) expect(tok).toBe('{{context.patientId}}');
    }
    expect(d.prefetch.observations).toContain('http://loinc.org|2160-0');
    expect(d.prefetch.observations).toContain('http://loinc.org|14682-9');
  });

  test('no card without cirrhosis, even with abnormal labs', () => {
    const cards = evaluateCirrhosis(data({ conditions: [snomedCondition(PID, '38341003')], observations: conventionalLabs() }), ctx());
    expect(cards).toEqual([]);
  });

  test('refuted cirrhosis does not make the service apply', () => {
    const refuted = snomedCondition(PID, '19943007', {
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'refuted' }] },
    });
    expect(evaluateCirrhosis(data({ conditions: [refuted], observations: conventionalLabs() }), ctx())).toEqual([]);
  });

  test('computes the MODELS.md vectors and Child-Pugh C for a decompensated patient', () => {
    const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: [...conventionalLabs(), ...decompensation()] }), ctx());
    const s = scores(cards);
    expect(s['meld-3.0']?.value).toBeCloseTo(31.0, 2);
    expect(s['meld-na']?.value).toBeCloseTo(28.75, 2);
    expect(s.meld?.value).toBe(24);
    // Child-Pugh: bili 4.0 (3) + albumin 2.8 (2) + INR 1.8 (2) + ascites mod-severe (3) + grade 2 (2) = 12 -> C
    expect(s['child-pugh']?.value).toBe(12);
    expect(s['child-pugh']?.tier).toBe('C');
    expect(s.albi).toBeDefined();
    const liver = cards[0]!;
    expect(liver.indicator).toBe('critical'); // MELD 3.0 band 30–39 (display choice in cards/)
    expect(liver.summary).toMatch(/^Cirrhosis: MELD 3\.0 31 \(/);
    expect(liver.summary.length).toBeLessThan(140);
  });

  test('MELD 3.0 card: one 90-day figure, the survival equation\'s; no band table (issue 10, item 2)', () => {
    const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: conventionalLabs() }), ctx());
    const s = scores(cards);
    expect(cards[0]!.summary).toContain(`MELD 3.0 31 (${Math.round(s['meld-3.0']!.probability! * 1000) / 10} % 90-day mortality)`);
    expect(cards[0]!.detail).not.toMatch(/41\.9|waitlist|Band 30/i);
  });

  test('MELD 3.0 above 40: no probability in extension.scores, the summary says it is above the estimate\'s range', () => {
    // bili 20, Na 125, INR 4, Cr 3, Alb 1.5, female: 46.7 (the equation would say 99.7 %).
    const obs = [
      loinc(PID, '1975-2', 20, 'mg/dL', daysAgo(2)), loinc(PID, '2160-0', 3, 'mg/dL', daysAgo(2)), loinc(PID, '2951-2', 125, 'mmol/L', daysAgo(2)),
      loinc(PID, '1751-7', 1.5, 'g/dL', daysAgo(2)), loinc(PID, '6301-6', 4, '{INR}', daysAgo(2)),
    ];
    const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: obs }), ctx());
    const m = scores(cards)['meld-3.0'];
    expect(m?.value).toBeGreaterThan(40);
    expect(m?.probability).toBeUndefined();
    expect(cards[0]!.summary).toMatch(/^Cirrhosis: MELD 3\.0 47 \(above the range of the 90-day estimate\)/);
    expect(cards[0]!.detail).not.toMatch(/99\.\d %|51\.1/);
  });

  test('an INR in % (prothrombin activity) is not an INR: MELD 3.0 declined, the reason in words (issue 10, item 1)', () => {
    const obs = [...conventionalLabs().filter((o) => o.code.coding?.[0]?.code !== '6301-6'), loinc(PID, '6301-6', 30, '%', daysAgo(2))];
    const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: obs }), ctx());
    const s = scores(cards);
    expect(s['meld-3.0']).toBeUndefined();
    expect(s['child-pugh']?.missing).toContain('inr');
    expect(cards[0]!.summary).toMatch(/MELD 3\.0 needs INR/);
    expect(cards[0]!.detail).toContain("INR: no usable result within 30 days; 1 result(s) in '%': prothrombin activity (Quick), not an INR");
  });

  test('the same patient in SI and conventional units gives the same scores', () => {
    const conv = scores(evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: conventionalLabs() }), ctx()));
    const si = scores(evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: siLabs() }), ctx()));
    for (const model of ['meld-3.0', 'meld-na', 'meld', 'albi', 'child-pugh']) {
      expect(si[model]?.value).toBeCloseTo(conv[model]!.value, 6);
    }
  });

  test('ICD-10-CM coded cirrhosis applies too', () => {
    const cards = evaluateCirrhosis(data({ conditions: [condition(PID, ICD10CM, 'K74.60')], observations: conventionalLabs() }), ctx());
    expect(cards.length).toBeGreaterThan(0);
  });

  describe('cirrhosis is wider than three codes; PBC/PSC bilirubin bands (issue 10, item 7)', () => {
    test.each([
      [ICD10CM, 'K74.3'], [ICD10CM, 'K74.4'], [ICD10CM, 'K74.5'], [ICD10CM, 'K71.7'], [ICD10CM, 'K76.1'], [ICD10, 'K74.3'],
      [SNOMED, '420054005'], [SNOMED, '31712002'], [SNOMED, '27156006'],
    ])('%s|%s makes the service apply', (system, code) => {
      expect(evaluateCirrhosis(data({ conditions: [condition(PID, system, code)], observations: conventionalLabs() }), ctx()).length).toBeGreaterThan(0);
    });

    test('hepatic fibrosis (K74.0) or PSC alone (K83.01) is not cirrhosis', () => {
      for (const code of ['K74.0', 'K83.01']) expect(evaluateCirrhosis(data({ conditions: [condition(PID, ICD10CM, code)], observations: conventionalLabs() }), ctx())).toEqual([]);
    });

    test('PSC (K83.01) with cirrhosis: Child-Pugh scores bilirubin 4.0 mg/dL as 2 points (1–4 / 4–10 / > 10), not 3, and says so', () => {
      const base = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: [...conventionalLabs(), ...decompensation()] }), ctx());
      const psc = evaluateCirrhosis(data({ conditions: [cirrhosis(), condition(PID, ICD10CM, 'K83.01')], observations: [...conventionalLabs(), ...decompensation()] }), ctx());
      expect(scores(base)['child-pugh']?.value).toBe(12);
      expect(scores(psc)['child-pugh']?.value).toBe(11);
      expect(scores(psc)['child-pugh']?.inputs.find((i) => i.name === 'cholestaticDisease')?.source).toMatch(/^Condition\//);
      // Markdown-escaped '>' in the detail.
      expect(psc[0]!.detail).toContain('Bilirubin bands for primary biliary cholangitis or primary sclerosing cholangitis: 1–4 / 4–10 / &gt; 10 mg/dL');
      // The MELD family is unchanged by PBC/PSC.
      expect(scores(psc)['meld-3.0']?.value).toBeCloseTo(scores(base)['meld-3.0']!.value, 10);
    });

    test('a PBC/PSC Condition whose text is not a string: the input is the coding\'s words, a string (found by fuzzing)', () => {
      const psc = condition(PID, ICD10CM, 'K83.01');
      psc.code = { ...psc.code, text: [] as unknown as string, coding: [{ system: ICD10CM, code: 'K83.01', display: 'Primary sclerosing cholangitis' }] };
      const cards = evaluateCirrhosis(data({ conditions: [cirrhosis(), psc], observations: [...conventionalLabs(), ...decompensation()] }), ctx());
      expect(scores(cards)['child-pugh']?.inputs.find((i) => i.name === 'cholestaticDisease')).toMatchObject({ value: 'Primary sclerosing cholangitis' });
    });

    test('the Condition prefetch asks for PBC/PSC codes too', () => {
      expect(cirrhosisSarcopenia().description.prefetch.conditions).toContain('http://hl7.org/fhir/sid/icd-10-cm|');
      expect(cirrhosisSarcopenia().description.prefetch.conditions).toContain('http://snomed.info/sct|197441003');
    });
  });

  test('one clear card when labs are missing; old results outside the look-back are not used', () => {
    const old = loinc(PID, '2160-0', 1.2, 'mg/dL', daysAgo(31));
    const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: [old] }), ctx());
    expect(cards).toHaveLength(1);
    const card = cards[0]!;
    expect(card.summary).toMatch(/no prognostic score, missing/);
    expect(card.summary).toMatch(/Creatinine/);
    expect(card.indicator).toBe('info');
    expect(card.suggestions).toBeUndefined();
    expect(card.detail).toMatch(/last 30 days/);
  });

  test('partial labs: Child-Pugh as a range, MELD 3.0 declined and the card says what it needs', () => {
    const obs = [loinc(PID, '1975-2', 2.5, 'mg/dL', daysAgo(1)), loinc(PID, '6301-6', 1.5, '{INR}', daysAgo(1)), loinc(PID, '1751-7', 3.0, 'g/dL', daysAgo(1))];
    const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: obs }), ctx());
    const s = scores(cards);
    expect(s['meld-3.0']).toBeUndefined();
    expect(s['child-pugh']?.missing.sort()).toEqual(['ascites', 'encephalopathy']);
    expect(cards[0]!.summary).toMatch(/MELD 3\.0 needs/);
    expect(cards[0]!.detail).toMatch(/### Not available/);
  });

  test('dialysis twice in 7 days sets creatinine to 3.0 (MELD 3.0) and says so', () => {
    const runs = [1, 3].map((d) => procedure(PID, SNOMED, '302497006', { performedDateTime: daysAgo(d) }));
    const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: conventionalLabs(), procedures: runs }), ctx());
    expect(cards[0]!.detail).toMatch(/creatinine set to 3\.0/);
  });

  describe('dialysis (issue 10, item 8)', () => {
    const withCreatinine = (cr: number) => [...conventionalLabs().filter((o) => o.code.coding?.[0]?.code !== '2160-0'), loinc(PID, '2160-0', cr, 'mg/dL', daysAgo(2))];
    const dialysisRow = (c: Card): string => (c.detail ?? '').split('\n').find((l) => l.startsWith('| Dialysis')) ?? '';

    test('no dialysis procedure in the 7 days: the inputs table says none recorded, not "no"', () => {
      const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: conventionalLabs() }), ctx());
      expect(dialysisRow(cards[0]!)).toMatch(/^\| Dialysis ≥ 2× or CVVHD 24 h in 7 days \| none recorded in the prior 7 days \|/);
      // Creatinine 1.9 is below both caps: nothing more to say about dialysis.
      expect(cards[0]!.detail).not.toMatch(/cap, so dialysis|unrecorded/);
    });

    test('one session only: recorded, but not the ≥ 2 that set creatinine to the cap', () => {
      const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: conventionalLabs(), procedures: [procedure(PID, SNOMED, '302497006', { performedDateTime: daysAgo(2) })] }), ctx());
      expect(dialysisRow(cards[0]!)).toContain('1 session recorded in the prior 7 days (≥ 2, or 24 h of CVVHD, needed)');
    });

    test('creatinine 3.5: at MELD 3.0\'s cap (no change), below MELD\'s and MELD-Na\'s 4.0 (unrecorded dialysis would raise them)', () => {
      const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: withCreatinine(3.5) }), ctx());
      const d = cards[0]!.detail ?? '';
      expect(d).toContain('MELD 3.0: creatinine 3.5 mg/dL is at or above its 3.0 mg/dL cap, so dialysis in the prior 7 days, recorded or not, would not change the score.');
      // MELD(i) = 10 × (0.957 ln Cr + 0.378 ln 4.0 + 1.120 ln 1.8 + 0.643): Cr 3.5 → 30.24 → 30; Cr 4.0 → 31.52 → 32.
      expect(d).toMatch(/MELD \(original, OPTN policy 9\.1\.D\): no dialysis is recorded in the prior 7 days; ≥ 2 treatments or 24 h of CVVHD, if they took place unrecorded, would set creatinine to 4\.0 mg\/dL and give 32 instead of 30\./);
      expect(d).toMatch(/MELD-Na \(OPTN policy 9\.1\.D\): no dialysis is recorded [^\n]*would set creatinine to 4\.0 mg\/dL and give \d+(\.\d+)? instead of \d+(\.\d+)?\./);
    });

    test('creatinine 4.2: at or above every cap, dialysis would change no score', () => {
      const d = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: withCreatinine(4.2) }), ctx())[0]!.detail ?? '';
      expect(d).toContain('MELD 3.0: creatinine 4.2 mg/dL is at or above its 3.0 mg/dL cap');
      expect(d).toContain('MELD-Na (OPTN policy 9.1.D): creatinine 4.2 mg/dL is at or above its 4.0 mg/dL cap');
      expect(d).not.toContain('if they took place unrecorded');
    });
  });

  test('procedures that could not be read leave dialysis unknown: MELD 3.0 becomes a lower bound', () => {
    const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: conventionalLabs() }), ctx({ unavailable: ['procedures'] }));
    const s = scores(cards);
    expect(s['meld-3.0']?.missing).toContain('dialysis');
    expect(cards[0]!.summary).toMatch(/MELD 3\.0 ≥ 31/);
  });

  test('sarcopenia on CT adds a sarcopenia card with MELD-Sarcopenia = MELD + 10.35', () => {
    const obs = [...conventionalLabs(), projectQuantity(PID, 'l3-smi', 35, 'cm2/m2', daysAgo(20))];
    const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: obs }), ctx());
    expect(cards).toHaveLength(2);
    const sarc = cards[1]!;
    expect(sarc.summary).toMatch(/Sarcopenia on CT: L3 SMI 35 cm²\/m² \(cut-off < 39, Carey 2017\); MELD-Sarcopenia 34\.35/);
    expect(sarc.indicator).toBe('warning');
    expect(scores([sarc])['meld-sarcopenia']?.value).toBeCloseTo(24 + 10.35, 6);
  });

  test('SMI derived from muscle area and height; no sarcopenia stays on the liver card', () => {
    // 130 cm2 / (1.65 m)^2 = 47.75 cm2/m2 >= 39 (Carey, women)
    const obs = [...conventionalLabs(), projectQuantity(PID, 'l3-skeletal-muscle-area', 130, 'cm2', daysAgo(20)), loinc(PID, '8302-2', 165, 'cm', daysAgo(20))];
    const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: obs }), ctx());
    expect(cards).toHaveLength(1);
    const s = scores(cards);
    expect(s.smi?.value).toBeCloseTo(130 / 1.65 ** 2, 6);
    expect(s.smi?.tier).toBe('no sarcopenia');
  });

  test('every card follows the CDS Hooks card rules', () => {
    const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: [...siLabs(), ...decompensation(), projectQuantity(PID, 'l3-smi', 35, 'cm2/m2', daysAgo(20))] }), ctx());
    for (const c of cards) {
      expect(c.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(c.summary.length).toBeLessThan(140);
      expect(['info', 'warning', 'critical']).toContain(c.indicator);
      expect(c.source.label).toBeTruthy();
      expect(c.source.url).toMatch(/^https:\/\//);
      expect(c.source.topic?.code).toBeTruthy();
      expect(c.overrideReasons?.length).toBeGreaterThan(0);
      expect(c.links?.[0]?.type).toBe('smart');
      expect(JSON.parse(c.links![0]!.appContext!)).toMatchObject({ h: 'hi-1' });
      expect(c.selectionBehavior).toBe('at-most-one');
      const actions = c.suggestions?.[0]?.actions ?? [];
      expect(actions.length).toBeGreaterThan(0);
      for (const a of actions) {
        expect(a.type).toBe('create');
        expect(a.resource).toMatchObject({ resourceType: 'RiskAssessment', status: 'final', subject: { reference: `Patient/${PID}` } });
      }
      // The detail lists inputs with dates and their source resources.
      expect(c.detail).toMatch(/\| Input \| Value \| Date \| Source \|/);
      expect(c.detail).toMatch(/Observation\/obs-\d+/);
    }
  });

  test('RiskAssessment basis lists the Observations used and the prediction carries the probability', () => {
    const cards = evaluateCirrhosis(data({ conditions: [cirrhosis()], observations: conventionalLabs() }), ctx());
    const ra = cards[0]!.suggestions![0]!.actions!.find((a) => (a.resource as { method?: { coding?: Array<{ code?: string }> } }).method?.coding?.[0]?.code === 'meld-3.0')!.resource as {
      basis: Array<{ reference: string }>; prediction: Array<{ probabilityDecimal?: number; outcome: { text: string } }>;
    };
    expect(ra.basis.map((b) => b.reference).every((r) => r.startsWith('Observation/') || r.startsWith('Patient/') || r.startsWith('Procedure/'))).toBe(true);
    expect(ra.basis.length).toBeGreaterThanOrEqual(5);
    expect(ra.prediction[0]!.outcome.text).toBe('90-day mortality');
    expect(ra.prediction[0]!.probabilityDecimal).toBeGreaterThan(0);
  });
});
