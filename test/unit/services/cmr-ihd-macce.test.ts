// The cmr-ihd-macce service end to end on FHIR resources built here (MODELS.md section 1).
// Expected values are computed by hand from the MODELS.md tables in the comments.
import type { Condition, Encounter, FhirResource, Observation, ObservationComponent, Patient, Procedure } from 'fhir/r4.js';
import type { Card } from '../../../src/hooks/types.ts';
import type { CdsService, ResolvedPrefetch } from '../../../src/services/types.ts';
import type { ScoreEntry } from '../../../src/services/card-kit.ts';
import { testConfig, type AppConfig } from '../../../src/config.ts';
import { cmrIhdMacce as definition } from '../../../src/services/cmr-ihd-macce/index.ts';
import { gatherMacceInputs as gather, type MacceInputs } from '../../../src/services/cmr-ihd-macce/inputs.ts';
import { acuteScores as acuteScoresModel } from '../../../src/services/cmr-ihd-macce/scores.ts';
import { inMacceWords } from '../../support/wording.ts';
import { DEFAULT_PROFILES_DIR } from '../../../src/fhir/terminology.ts';
import { evaluateService, evaluationOf, serviceOf, testRuntime, type TestContext } from '../../support/runtime.ts';

const evaluateCmrIhdMacce = (d: ResolvedPrefetch, c: TestContext): Card[] => evaluateService('cmr-ihd-macce', d, c);
const cmrIhdMacce = (): CdsService => serviceOf(testRuntime(), 'cmr-ihd-macce');
const gatherMacceInputs = (d: ResolvedPrefetch, c: TestContext): MacceInputs => gather(d, evaluationOf(c));
const loadCardWording = (_id: 'cmr-ihd-macce') => definition.loadWording({ profilesDir: DEFAULT_PROFILES_DIR });
/** The acute scores as the service shows them: their notes in the words of its card file. */
const acuteScores = (i: MacceInputs) => {
  const s = acuteScoresModel(i);
  return { ...s, grace: inMacceWords(s.grace), timi: s.timi && inMacceWords(s.timi), cmr: s.cmr && inMacceWords(s.cmr) };
};

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const UCUM = 'http://unitsofmeasure.org';
const PROJECT = 'https://fhir.imaging-cds.example.org/CodeSystem/imaging-cds';
const V3 = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

const NOW = new Date('2025-03-10T12:00:00Z');
const ONSET = '2025-03-01T08:00:00Z';
const HOUR = 3_600_000;
const at = (hoursFromOnset: number): string => new Date(Date.parse(ONSET) + hoursFromOnset * HOUR).toISOString();

// ---------------------------------------------------------------------------------------------------
// Builders

let seq = 0;
const id = (p: string): string => `${p}-${++seq}`;

const patient = (birthDate = '1958-06-15'): Patient => ({ resourceType: 'Patient', id: 'pat-1', gender: 'male', birthDate });

function condition(system: string, code: string, onset?: string, text?: string): Condition {
  return {
    resourceType: 'Condition', id: id('cond'),
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system, code }], ...(text ? { text } : {}) },
    subject: { reference: 'Patient/pat-1' },
    ...(onset ? { onsetDateTime: onset } : {}),
  };
}
const stemi = (onset = ONSET, text?: string): Condition => condition(SNOMED, '401303003', onset, text);
const nstemi = (onset = ONSET): Condition => condition(SNOMED, '401314000', onset);
const chronicIhd = (): Condition => condition(ICD10CM, 'I25.10', '2020-01-01');
const hypertension = (): Condition => condition(SNOMED, '38341003', '2015-01-01');

function quantity(system: string, code: string, when: string, value: number, unit: string, extra: Partial<Observation> = {}): Observation {
  return {
    resourceType: 'Observation', id: id(code), status: 'final',
    code: { coding: [{ system, code }] },
    subject: { reference: 'Patient/pat-1' },
    effectiveDateTime: when,
    valueQuantity: { value, unit, system: UCUM, code: unit },
    ...extra,
  };
}
function flag(code: string, when: string, value: boolean): Observation {
  return { resourceType: 'Observation', id: id(code), status: 'final', code: { coding: [{ system: PROJECT, code }] }, effectiveDateTime: when, valueBoolean: value };
}
function integer(code: string, when: string, value: number): Observation {
  return { resourceType: 'Observation', id: id(code), status: 'final', code: { coding: [{ system: PROJECT, code }] }, effectiveDateTime: when, valueInteger: value };
}
const heartRate = (when: string, v: number) => quantity(LOINC, '8867-4', when, v, '/min');
const sbp = (when: string, v: number) => quantity(LOINC, '8480-6', when, v, 'mm[Hg]');
const creatinineMg = (when: string, v: number) => quantity(LOINC, '2160-0', when, v, 'mg/dL');
const creatinineSi = (when: string, v: number) => quantity(LOINC, '14682-9', when, v, 'umol/L');
const weight = (when: string, v: number) => quantity(LOINC, '29463-7', when, v, 'kg');
function troponin(when: string, value: number, opts: { high?: number; highUnit?: string; unit?: string; flag?: string } = {}): Observation {
  const unit = opts.unit ?? 'ng/L';
  return quantity(LOINC, '67151-1', when, value, unit, {
    ...(opts.high !== undefined ? { referenceRange: [{ high: { value: opts.high, unit: opts.highUnit ?? unit, system: UCUM, code: opts.highUnit ?? unit } }] } : {}),
    ...(opts.flag ? { interpretation: [{ coding: [{ system: V3, code: opts.flag }] }] } : {}),
  });
}
const lvefMr = (when: string, v: number) => quantity(LOINC, '8811-2', when, v, '%');
const project = (code: string, when: string, v: number, unit: string) => quantity(PROJECT, code, when, v, unit);
function procedure(code: string, when: string): Procedure {
  return { resourceType: 'Procedure', id: id('proc'), status: 'completed', code: { coding: [{ system: SNOMED, code }] }, subject: { reference: 'Patient/pat-1' }, performedDateTime: when };
}
const pci = (when: string): Procedure => procedure('415070008', when);
/** SNOMED CT 426347000 Thrombolytic therapy (DICOM PS3.16 CID 3764). */
const fibrinolysis = (when: string): Procedure => procedure('426347000', when);

/** Admission values of the "everything recorded" STEMI (hand-computed below). */
function admissionObservations(): Observation[] {
  return [
    heartRate(at(1), 88),
    sbp(at(1), 125),
    creatinineMg(at(1), 1.3),
    troponin(at(1), 250, { high: 14 }),
    integer('killip-class', at(1), 2),
    flag('cardiac-arrest-at-admission', at(1), false),
    flag('st-deviation', at(0.5), true),
    flag('anterior-ste-or-lbbb', at(0.5), true),
    weight(at(2), 80),
  ];
}
/** The same admission values for an MI with another onset. */
function admissionObservationsAt(onset: string): Observation[] {
  const h = (hours: number): string => new Date(Date.parse(onset) + hours * HOUR).toISOString();
  return [heartRate(h(1), 88), sbp(h(1), 125), creatinineMg(h(1), 1.3), troponin(h(1), 250, { high: 14 }), integer('killip-class', h(1), 2),
    flag('cardiac-arrest-at-admission', h(1), false), flag('st-deviation', h(0.5), true)];
}

/** CMR on day 6: LVEF 38 %, MVO 1 segment (0.9 % LV), infarct size 24 %. */
function cmrObservations(day = 6): Observation[] {
  const when = at(day * 24);
  return [
    lvefMr(when, 38),
    quantity(PROJECT, 'mvo-segments', when, 1, '{segments}'),
    project('mvo-extent', when, 0.9, '%'),
    project('infarct-size', when, 24, '%'),
    project('la-reservoir-strain', when, 25, '%'),
  ];
}

function prefetch(resources: FhirResource[], p: Patient | null = patient()): ResolvedPrefetch {
  const of = (t: string) => resources.filter((r) => r.resourceType === t);
  return { patient: p, conditions: of('Condition'), observations: of('Observation'), procedures: of('Procedure'), bloodPressure: [], encounter: null };
}
function context(overrides: Partial<TestContext> = {}, config: Partial<AppConfig> = {}): TestContext {
  return { hookInstance: 'hook-1', patientId: 'pat-1', userId: 'Practitioner/dr-1', now: NOW, config: testConfig(config), publicBaseUrl: 'https://cds.example.org', unavailable: [], ...overrides };
}
const run = (resources: FhirResource[], ctx = context(), p?: Patient | null): Card[] => evaluateCmrIhdMacce(prefetch(resources, p), ctx);
const score = (card: Card | undefined, model: string): ScoreEntry | undefined =>
  ((card?.extension as { scores?: ScoreEntry[] } | undefined)?.scores ?? []).find((s) => s.model === model);
const topic = (cards: Card[], code: string): Card[] => cards.filter((c) => c.source.topic?.code === code);
const everything = (): FhirResource[] => [stemi(), hypertension(), ...admissionObservations(), ...cmrObservations(), pci(at(5))];

// ---------------------------------------------------------------------------------------------------

describe('cmr-ihd-macce: applicability', () => {
  test('no ischaemic heart disease → no card', () => {
    expect(run([condition(SNOMED, '73211009', '2010-01-01'), ...admissionObservations(), ...cmrObservations()])).toEqual([]);
  });

  test('a refuted STEMI is not a diagnosis → no card', () => {
    const c = stemi();
    c.verificationStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'refuted' }] };
    expect(run([c, ...admissionObservations()])).toEqual([]);
  });

  test('chronic IHD without a CMR in the look-back: nothing to say', () => {
    expect(run([chronicIhd(), heartRate('2025-03-01T08:00:00Z', 70)])).toEqual([]);
  });

  test('discovery: patient-view, CDS Hooks tokens only, 412 keys', () => {
    const d = cmrIhdMacce().description;
    expect(d.prefetch.procedures).toContain('http://snomed.info/sct|426347000');
    expect(d.id).toBe('cmr-ihd-macce');
    expect(d.hook).toBe('patient-view');
    for (const t of Object.values(d.prefetch)) {
      expect(t.match(/\{\{[^}]+\}\}/g)?.every((tok) => ['{{context.patientId}}', '{{context.encounterId}}'].includes(tok))).toBe(true);
    }
    expect(d.prefetch.conditions).toContain('http://snomed.info/sct|401303003');
    expect(d.prefetch.observations).toContain('http://loinc.org|8811-2');
    expect(cmrIhdMacce().requiredPrefetch).toEqual(['patient', 'conditions', 'observations']);
  });
});

describe('cmr-ihd-macce: acute STEMI with everything recorded', () => {
  // Age 66 at onset (born 1958-06-15, onset 2025-03-01).
  // GRACE (MODELS.md 1b): age 60–69 58 + HR 88 (70–89) 9 + SBP 125 (120–139) 34 + creatinine 1.3
  //   (1.20–1.59) 10 + Killip II 20 + no arrest 0 + ST deviation 28 + troponin 250 > 14 ng/L 14 = 173
  //   → high band (155–319).
  //   logit = −7.7035 + 0.0531·66 + 0.0087·88 − 0.0168·125 + 0.1823·1.3 + 0.6931·2 + 0.4700 + 0.8755
  //         = −2.56461 → p = 1 / (1 + e^2.56461) = 0.07145.
  // TIMI (1c): age 65–74 2 + hypertension 1 + SBP ≥ 100 0 + HR ≤ 100 0 + Killip II 2 + 80 kg 0 +
  //   anterior STE 1 + PCI 5 h after onset > 4 h 1 = 7 → 23.4 % 30-day mortality.
  // CMR risk score (1a): 5 h > 4.15 h 1 + GRACE 173 > 155 3 + LVEF 38 < 40 3 + MVO 1 segment 0 = 7
  //   → high (6–8), 19.7 MACE / 100 person-years.
  const cards = run(everything());
  const macce = topic(cards, 'macce-risk')[0];

  test('one risk card and one markers card', () => {
    expect(cards).toHaveLength(2);
    expect(topic(cards, 'cmr-markers')).toHaveLength(1);
  });

  test('CMR risk score 7, high, 19.7 MACE/100 person-years', () => {
    const s = score(macce, 'cmr-risk-score');
    expect(s).toMatchObject({ value: 7, unit: 'points', tier: 'high', missing: [] });
    expect(s?.probability).toBeUndefined(); // a rate, not a probability
    expect(macce?.summary).toContain('CMR risk 7 high (19.7 MACE/100 pt-yr)');
  });

  test('GRACE 173, high, logistic probability 0.0714', () => {
    const s = score(macce, 'grace-in-hospital');
    expect(s).toMatchObject({ value: 173, tier: 'high', missing: [] });
    expect(s?.probability).toBeCloseTo(0.07145, 4);
    expect(s?.inputs.find((i) => i.name === 'age')).toMatchObject({ value: 66, source: 'Patient/pat-1' });
    expect(s?.inputs.find((i) => i.name === 'elevatedEnzymes')?.value).toBe(true);
  });

  test('TIMI 7, 23.4 % 30-day mortality', () => {
    const s = score(macce, 'timi-stemi');
    expect(s).toMatchObject({ value: 7, missing: [] });
    expect(s?.probability).toBeCloseTo(0.234, 6);
  });

  test('card fields: summary, indicator, source, topic, overrides, smart link, Save to chart', () => {
    expect(macce?.summary).toBe('STEMI 2025-03-01: CMR risk 7 high (19.7 MACE/100 pt-yr); GRACE 173 (7.1 % in-hospital death); TIMI 7 (23.4 % 30-day death)');
    expect(macce?.indicator).toBe('critical'); // YAML display choice: CMR high → critical
    expect(macce?.source.label).toContain('Marcos-Garcés');
    expect(macce?.source.url).not.toMatch(/doi\.org/); // MODELS.md: DOI not verified
    expect(macce?.overrideReasons?.map((r) => r.code)).toEqual(['data-outdated', 'not-applicable-patient', 'already-addressed', 'disagree-with-score', 'patient-declined']);
    expect(macce?.links?.[0]).toMatchObject({ type: 'smart' });
    const actions = macce?.suggestions?.[0]?.actions ?? [];
    expect(actions.map((a) => (a.resource as { method?: { coding?: Array<{ code?: string }> } }).method?.coding?.[0]?.code)).toEqual(['cmr-risk-score', 'grace-in-hospital', 'timi-stemi']);
    expect(macce?.detail).toContain('Time to reperfusion 5 h (5 h 0 min)');
  });

  test('markers card: findings with their source, no scores, no Save to chart', () => {
    const m = topic(cards, 'cmr-markers')[0];
    expect(m?.summary).toBe('CMR 2025-03-07: infarct size 24 % LV, LVEF 38 %');
    expect(m?.indicator).toBe('warning');
    expect(m?.extension).toBeUndefined();
    expect(m?.suggestions).toBeUndefined();
    expect(m?.detail).toContain('Each +5 % absolute: all-cause death HR 1.19');
    expect(m?.detail).toContain('Stone GW et al., J Am Coll Cardiol 2016;67:1674–83');
  });
});

describe('cmr-ihd-macce: chronic disease', () => {
  const cmr = [lvefMr('2025-01-10T10:00:00Z', 44), project('infarct-size', '2025-01-10T10:00:00Z', 12, '%'), project('native-t1', '2025-01-10T10:00:00Z', 1100, 'ms')];

  test('chronic IHD: no GRACE/TIMI, says so once, markers shown', () => {
    const cards = run([chronicIhd(), heartRate('2025-03-09T08:00:00Z', 70), ...cmr]);
    expect(cards).toHaveLength(1);
    const c = cards[0]!;
    expect(c.source.topic?.code).toBe('cmr-markers');
    expect(c.summary).toBe('IHD, no acute MI in 28 d (no GRACE/TIMI); CMR 2025-01-10: LVEF 44 %');
    expect(c.extension).toBeUndefined();
    expect(c.detail?.match(/GRACE and TIMI STEMI apply to an acute infarction/g)).toHaveLength(1);
    expect(c.detail).toContain('LVEF 44 %: at or below 47 % (adverse).');
    // No site range configured: native T1 shown without a flag, never an invented cut-off.
    expect(c.detail).toContain('Native T1 1100 ms. No published universal cut-off and no site reference range configured');
  });

  test('native T1 against a configured site range', () => {
    const cards = run([chronicIhd(), ...cmr], context({}, { cmrReferenceRanges: { nativeT1: { low: 950, high: 1050 } } }));
    expect(cards[0]?.summary).toContain('native T1 1100 ms');
    expect(cards[0]?.detail).toContain('outside the site reference range 950–1050 ms');
  });

  test('an acute MI outside the window is treated as chronic; the CMR risk score population is stated', () => {
    const old = '2024-10-01T08:00:00Z'; // 160 days before NOW, window 28 days
    const cards = run([stemi(old), hypertension(), heartRate('2024-10-01T09:00:00Z', 90), pci('2024-10-01T12:00:00Z'), ...cmr]);
    expect(topic(cards, 'macce-risk')).toEqual([]);
    expect(cards).toHaveLength(1);
    expect(cards[0]?.summary).toMatch(/^IHD, no acute MI in 28 d/);
    expect(cards[0]?.detail).toContain('The STEMI of 2024-10-01 is older than 28 days');
  });

  test('the acute-MI window is 28 days by default (ICD-10: an MI is acute for 4 weeks; issue 10, item 5)', () => {
    expect(testConfig().acuteMiWindowDays).toBe(28);
    // NOW is 2025-03-10T12:00Z: onset 28 days before is acute, 29 days before is a past event.
    const at28 = '2025-02-10T12:00:00Z';
    const at29 = '2025-02-09T12:00:00Z';
    expect(topic(run([stemi(at28), ...admissionObservationsAt(at28)]), 'macce-risk')).toHaveLength(1);
    const past = run([nstemi(at29), ...admissionObservationsAt(at29), ...cmr]);
    expect(topic(past, 'macce-risk')).toEqual([]);
    expect(past.flatMap((c) => ((c.extension as { scores?: ScoreEntry[] } | undefined)?.scores ?? []))).toEqual([]);
    expect(past[0]?.detail).toContain('The acute MI of 2025-02-09 is older than 28 days');
  });

  test('the window is configurable', () => {
    const old = '2024-10-01T08:00:00Z';
    const cards = run([stemi(old), ...cmr], context({}, { acuteMiWindowDays: 200 }));
    expect(topic(cards, 'macce-risk')).toHaveLength(1);
  });
});

describe('cmr-ihd-macce: elevated enzymes from troponin', () => {
  const enzymesOf = (trop: Observation): { value?: boolean; missing: boolean } => {
    const i = gatherMacceInputs(prefetch([stemi(), trop]), context());
    return { value: i.acuteInputs.elevatedEnzymes?.value, missing: 'elevatedEnzymes' in i.missingReasons };
  };

  test.each([
    ['above the reference high', troponin(at(1), 15, { high: 14 }), true],
    ['at the reference high (not above)', troponin(at(1), 14, { high: 14 }), false],
    ['below the reference high', troponin(at(1), 9, { high: 14 }), false],
    ['in ng/mL against a high in ng/L (UCUM)', troponin(at(1), 0.05, { unit: 'ng/mL', high: 14, highUnit: 'ng/L' }), true],
    ['below the detection limit (< 3 ng/L)', { ...troponin(at(1), 3, { high: 14 }), valueQuantity: { value: 3, comparator: '<' as const, unit: 'ng/L', system: UCUM, code: 'ng/L' } }, false],
    ['only an interpretation flag H', troponin(at(1), 300, { flag: 'H' }), true],
    ['only an interpretation flag N', troponin(at(1), 5, { flag: 'N' }), false],
  ])('%s', (_name, trop, expected) => {
    expect(enzymesOf(trop)).toEqual({ value: expected, missing: false });
  });

  test('no reference range and no flag → missing, not false', () => {
    expect(enzymesOf(troponin(at(1), 300))).toEqual({ value: undefined, missing: true });
    const cards = run([stemi(), troponin(at(1), 300)]);
    const grace = score(topic(cards, 'macce-risk')[0], 'grace-in-hospital');
    expect(grace?.missing ?? ['elevatedEnzymes']).toContain('elevatedEnzymes');
  });

  test('interpretation entries that are null or not arrays are no flags, and nothing throws (found by fuzzing)', () => {
    const odd = troponin(at(1), 300);
    odd.interpretation = [null, { coding: [null, { system: V3, code: 'H' }] }, { coding: 5 }] as unknown as Observation['interpretation'];
    expect(enzymesOf(odd)).toEqual({ value: true, missing: false });
  });

  test('the reference range wins over a contradicting flag', () => {
    expect(enzymesOf(troponin(at(1), 14, { high: 14, flag: 'H' })).value).toBe(false);
  });
});

describe('cmr-ihd-macce: time to reperfusion', () => {
  const scoresWith = (resources: FhirResource[], ctx = context()) => {
    const i = gatherMacceInputs(prefetch(resources), ctx);
    return { i, s: acuteScores(i) };
  };
  const cmrItem = (r: ReturnType<typeof scoresWith>) => r.s.cmr?.contributions.find((c) => c.input === 'timeToReperfusion');
  const timiItem = (r: ReturnType<typeof scoresWith>) => r.s.timi?.contributions.find((c) => c.input === 'timeToTreatment');

  test('PCI 4 h 9 min after onset = 4.15 h: not > 4.15 (0 points); TIMI > 4 h (1 point)', () => {
    const r = scoresWith([stemi(), ...cmrObservations(), pci(at(4 + 9 / 60))]);
    expect(r.i.acuteInputs.timeToReperfusion?.value).toBeCloseTo(4.15, 10);
    expect(cmrItem(r)?.points).toBe(0);
    expect(timiItem(r)?.points).toBe(1);
  });

  test('PCI 4 h 10 min after onset = 4.1667 h: > 4.15 (1 point)', () => {
    const r = scoresWith([stemi(), ...cmrObservations(), pci(at(4 + 10 / 60))]);
    expect(r.i.acuteInputs.timeToReperfusion?.value).toBeCloseTo(4.1667, 4);
    expect(cmrItem(r)?.points).toBe(1);
  });

  test('a PCI before the onset is not a reperfusion of this MI → missing with a reason', () => {
    const r = scoresWith([stemi(), ...cmrObservations(), pci(at(-72))]);
    expect(r.i.acuteInputs.timeToReperfusion).toBeUndefined();
    expect(r.i.missingReasons.timeToReperfusion).toMatch(/precedes the MI onset/);
    expect(r.s.cmr?.missing).toContain('timeToReperfusion');
    const card = run([stemi(), ...admissionObservations(), ...cmrObservations(), pci(at(-72))])[0];
    expect(card?.detail).toContain('precedes the MI onset');
  });

  test('onset and PCI in different UTC offsets are compared as instants', () => {
    // 10:00+02:00 = 08:00Z; PCI 12:30Z → 4.5 h (a local-clock reading would say 2.5 h).
    const r = scoresWith([stemi('2025-03-01T10:00:00+02:00'), pci('2025-03-01T12:30:00Z')]);
    expect(r.i.acuteInputs.timeToReperfusion?.value).toBe(4.5);
  });

  test('a PCI more than 48 h after the onset is not primary reperfusion', () => {
    const r = scoresWith([stemi(), pci(at(60))]);
    expect(r.i.missingReasons.timeToReperfusion).toMatch(/beyond 48 h/);
  });

  test('fibrinolysis then PCI: the time is to the fibrinolysis, the first reperfusion therapy', () => {
    // Lysis at 2 h, pharmaco-invasive PCI at 12 h: reading the PCI would add a CMR and a TIMI point.
    const lysis = fibrinolysis(at(2));
    const r = scoresWith([stemi(), ...cmrObservations(), lysis, pci(at(12))]);
    expect(r.i.acuteInputs.timeToReperfusion).toMatchObject({ value: 2, source: `Procedure/${lysis.id ?? ''}` });
    expect(cmrItem(r)?.points).toBe(0);
    expect(timiItem(r)?.points).toBe(0);
    expect(r.i.derivations.join(' ')).toContain(`to fibrinolysis ${at(2)}`);
  });

  test('fibrinolysis alone at 4 h 10 min: > 4.15 h (1 point); a coronary stent insertion counts as PCI', () => {
    expect(scoresWith([stemi(), ...cmrObservations(), fibrinolysis(at(4 + 10 / 60))]).i.acuteInputs.timeToReperfusion?.value).toBeCloseTo(4.1667, 4);
    // SNOMED CT 36969009 Insertion of coronary artery stent (DICOM CID 3764).
    expect(scoresWith([stemi(), procedure('36969009', at(3))]).i.acuteInputs.timeToReperfusion?.value).toBe(3);
  });

  test('a fibrinolysis before the onset treated another event; no procedure at all is said so', () => {
    expect(scoresWith([stemi(), fibrinolysis(at(-30))]).i.missingReasons.timeToReperfusion).toMatch(/the only fibrinolysis .* precedes the MI onset/);
    expect(scoresWith([stemi(), fibrinolysis(at(-30)), pci(at(3))]).i.acuteInputs.timeToReperfusion?.value).toBe(3);
    expect(scoresWith([stemi()]).i.missingReasons.timeToReperfusion).toBe('no PCI or fibrinolysis in the record');
  });

  test('procedures unavailable: a recorded time to reperfusion is used, with the reason PCI was not', () => {
    const ctx = context({ unavailable: ['procedures'] });
    const r = scoresWith([stemi(), project('time-to-reperfusion', at(3), 3, 'h')], ctx);
    expect(r.i.acuteInputs.timeToReperfusion?.value).toBe(3);
    expect(r.i.derivations.join(' ')).toMatch(/as recorded .*procedures could not be retrieved/);
    const none = scoresWith([stemi()], ctx);
    expect(none.i.missingReasons.timeToReperfusion).toBe('procedures could not be retrieved');
  });
});

describe('cmr-ihd-macce: admission values', () => {
  test('the value nearest the onset wins over later ones; outside ±24 h is ignored', () => {
    const i = gatherMacceInputs(prefetch([
      stemi(),
      heartRate(at(-30), 60), // before the window
      heartRate(at(1), 88),
      heartRate(at(10), 130), // later, during treatment
      sbp(at(20), 140),
      sbp(at(30), 90), // after the window
      creatinineMg(at(-3), 1.1),
      creatinineMg(at(6), 1.6),
    ]), context());
    expect(i.acuteInputs.heartRate).toMatchObject({ value: 88, date: at(1) });
    expect(i.acuteInputs.systolicBp?.value).toBe(140);
    expect(i.acuteInputs.creatinine?.value).toBe(1.1);
  });

  test('systolic BP from a BP panel component; a malformed (null) component is skipped, not fatal', () => {
    const panel: Observation = {
      resourceType: 'Observation', id: id('85354-9'), status: 'final',
      code: { coding: [{ system: LOINC, code: '85354-9' }] },
      effectiveDateTime: at(2),
      component: [
        null as unknown as ObservationComponent,
        { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 132, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' } },
      ],
    };
    const i = gatherMacceInputs(prefetch([stemi(), panel, sbp(at(12), 150)]), context());
    expect(i.acuteInputs.systolicBp).toMatchObject({ value: 132, date: at(2), source: `Observation/${panel.id ?? ''}` });
  });

  test('nothing within 24 h → missing with the window in the reason', () => {
    const i = gatherMacceInputs(prefetch([stemi(), heartRate(at(30), 90)]), context());
    expect(i.acuteInputs.heartRate).toBeUndefined();
    expect(i.missingReasons.heartRate).toMatch(/within 24 h of the MI onset/);
  });

  test('the index admission encounter is the anchor when it started within 24 h of the onset', () => {
    const enc: Encounter = { resourceType: 'Encounter', id: 'enc-1', status: 'in-progress', class: { code: 'IMP' }, period: { start: at(9) } };
    const data = { ...prefetch([stemi(), heartRate(at(1), 88), heartRate(at(9.5), 101)]), encounter: enc };
    const i = gatherMacceInputs(data, context());
    expect(i.anchor?.kind).toBe('encounter');
    expect(i.acuteInputs.heartRate?.value).toBe(101);
  });

  test('SI creatinine (µmol/L) gives the same GRACE as mg/dL', () => {
    const base = [stemi(), hypertension(), ...admissionObservations().filter((o) => o.code.coding?.[0]?.code !== '2160-0'), ...cmrObservations(), pci(at(5))];
    const mg = score(topic(run([...base, creatinineMg(at(1), 1.3)]), 'macce-risk')[0], 'grace-in-hospital');
    const si = score(topic(run([...base, creatinineSi(at(1), 1.3 * 88.42)]), 'macce-risk')[0], 'grace-in-hospital');
    expect(si?.value).toBe(173);
    expect(si?.value).toBe(mg?.value);
    expect(si?.probability).toBeCloseTo(mg?.probability ?? NaN, 10);
  });

  test('age is taken at the MI onset, not today', () => {
    // Born 1960-03-05: 64 at the onset (2025-03-01), 65 on NOW (2025-03-10): TIMI age < 65 → 0.
    const i = gatherMacceInputs(prefetch([stemi()], patient('1960-03-05')), context());
    expect(i.acuteInputs.age?.value).toBe(64);
  });
});

describe('cmr-ihd-macce: populations and missing data', () => {
  test('an anterior-wall STEMI code (ICD-10-CM I21.0x) records the TIMI anterior STE item', () => {
    const i = gatherMacceInputs(prefetch([condition(ICD10CM, 'I21.09', ONSET)]), context());
    expect(i.acute?.type).toBe('stemi');
    expect(i.acuteInputs.anteriorSteOrLbbb).toMatchObject({ value: true, source: expect.stringMatching(/^Condition\//) });
    const inferior = gatherMacceInputs(prefetch([condition(ICD10CM, 'I21.19', ONSET)]), context());
    expect(inferior.acuteInputs.anteriorSteOrLbbb).toBeUndefined();
  });

  test('WHO ICD-10 I21.0 (acute transmural MI) is an acute MI of unstated type: GRACE read with both bands, no STEMI-only score', () => {
    // WHO ICD-10 names the wall, not the ECG (profiles/ValueSet-stemi.json): not read as STEMI.
    const cards = run([condition(ICD10, 'I21.0', ONSET), ...admissionObservations(), ...cmrObservations()]);
    const c = topic(cards, 'macce-risk')[0];
    expect(score(c, 'grace-in-hospital')?.value).toBe(173);
    // 173: high by both band tables, so the tier is determinate.
    expect(score(c, 'grace-in-hospital')?.tier).toBe('high');
    expect(score(c, 'timi-stemi')).toBeUndefined();
    expect(score(c, 'cmr-risk-score')).toBeUndefined();
    expect(c?.summary).toBe('Acute MI 2025-03-01: GRACE 173 (7.1 % in-hospital death; high by the STEMI and NSTE-ACS bands)');
    expect(c?.indicator).toBe('warning');
    expect(c?.detail).toContain('this infarction is not recorded as a STEMI');
    expect(c?.detail).toContain('an acute MI of unstated type');
  });

  test('WHO ICD-10 I25.2 (old MI) is chronic disease: CMR markers only', () => {
    const i = gatherMacceInputs(prefetch([condition(ICD10, 'I25.2', '2019-05-01'), ...cmrObservations()]), context());
    expect(i.ihd).toBeDefined();
    expect(i.acute).toBeUndefined();
  });

  test('NSTEMI: GRACE with the NSTE-ACS bands; no TIMI STEMI, no CMR risk score, said so', () => {
    const cards = run([nstemi(), ...admissionObservations(), ...cmrObservations()]);
    const c = topic(cards, 'macce-risk')[0];
    expect(c?.source.label).toContain('GRACE');
    const grace = score(c, 'grace-in-hospital');
    expect(grace?.value).toBe(173);
    // 173 > 140: high by the NSTE-ACS bands (MODELS.md 1b; issue 10, item 4).
    expect(grace?.tier).toBe('high');
    expect(score(c, 'timi-stemi')).toBeUndefined();
    expect(score(c, 'cmr-risk-score')).toBeUndefined();
    expect(c?.summary).toBe('NSTEMI 2025-03-01: GRACE 173 (7.1 % in-hospital death)');
    expect(c?.indicator).toBe('warning');
    expect(c?.detail).toContain('its population is STEMI');
    expect(c?.detail).toContain('NSTE-ACS in-hospital death band: high (&gt; 3 %).');
    expect(c?.detail).not.toContain('STEMI in-hospital death band');
  });

  test('NSTEMI with the MODELS.md worked example (21.7 % in-hospital death): never an info card', () => {
    // 57 y, HR 70, SBP 110, creatinine 1.2, Killip III, cardiac arrest, ST deviation, troponin not elevated.
    const obs = [heartRate(at(1), 70), sbp(at(1), 110), creatinineMg(at(1), 1.2), troponin(at(1), 9, { high: 14 }), integer('killip-class', at(1), 3),
      flag('cardiac-arrest-at-admission', at(1), true), flag('st-deviation', at(0.5), true)];
    const c = topic(run([nstemi(), ...obs], context(), patient('1967-06-15')), 'macce-risk')[0];
    const g = score(c, 'grace-in-hospital');
    expect([g?.value, g?.tier]).toEqual([209, 'high']);
    expect(g?.probability).toBeCloseTo(0.21693, 4);
    expect(c?.indicator).toBe('warning');
  });

  test('acute MI of unstated type: the probability and both bands\' readings; the indicator follows the more severe', () => {
    // Age 66 (58) + HR 88 (9) + SBP 125 (34) + creatinine 1.3 (10) + Killip I (0) + no arrest + no ST deviation + troponin (14) = 125:
    // STEMI bands low (≤ 125), NSTE-ACS bands intermediate (109–140) → info by both (display choice).
    const base = [heartRate(at(1), 88), sbp(at(1), 125), creatinineMg(at(1), 1.3), troponin(at(1), 250, { high: 14 }), integer('killip-class', at(1), 1),
      flag('cardiac-arrest-at-admission', at(1), false)];
    const low = topic(run([condition(SNOMED, '57054005', ONSET), ...base, flag('st-deviation', at(0.5), false)]), 'macce-risk')[0];
    expect(score(low, 'grace-in-hospital')).toMatchObject({ value: 125 });
    expect(score(low, 'grace-in-hospital')?.tier).toBeUndefined();
    expect(low?.summary).toBe('Acute MI 2025-03-01: GRACE 125 (1.6 % in-hospital death; low by the STEMI bands, intermediate by the NSTE-ACS bands)');
    // With ST deviation (+28) = 153: STEMI intermediate, NSTE-ACS high → warning.
    const high = topic(run([condition(SNOMED, '57054005', ONSET), ...base, flag('st-deviation', at(0.5), true)]), 'macce-risk')[0];
    expect(high?.summary).toMatch(/GRACE 153 \(\d+(\.\d)? % in-hospital death; intermediate by the STEMI bands, high by the NSTE-ACS bands\)$/);
    expect(high?.indicator).toBe('warning');
    expect(high?.detail).toContain('STEMI in-hospital death band: intermediate (2–5 %).');
    expect(high?.detail).toContain('NSTE-ACS in-hospital death band: high (&gt; 3 %).');
  });

  test('STEMI without a CMR after the onset: CMR risk score says it needs one (a CMR before the MI is not used)', () => {
    const before = [lvefMr(at(-24 * 30), 55)];
    const cards = run([stemi(), hypertension(), ...admissionObservations(), pci(at(5)), ...before]);
    expect(cards).toHaveLength(1);
    const c = cards[0]!;
    expect(score(c, 'cmr-risk-score')).toBeUndefined();
    expect(c.summary).toMatch(/^STEMI 2025-03-01: CMR risk score needs a CMR; GRACE 173/);
    expect(c.detail).toContain('no LVEF or MVO measurement after the MI onset');
  });

  test('key data missing: one clear card, what is missing named once', () => {
    const cards = run([stemi()]);
    expect(cards).toHaveLength(1);
    const c = cards[0]!;
    expect(c.summary).toMatch(/^STEMI 2025-03-01: no MACCE risk score, missing /);
    expect(c.suggestions).toBeUndefined();
    expect(c.extension).toBeUndefined();
    expect(c.detail?.match(/- Heart rate at admission/g)).toHaveLength(1);
  });

  test('a partial GRACE above 155 whatever the missing items still scores the CMR item', () => {
    // Age 90 (100) + HR 160 (38) + SBP 70 (58) = 196 > 155 with every other item missing.
    const r = acuteScores(gatherMacceInputs(prefetch([stemi(), heartRate(at(1), 160), sbp(at(1), 70), ...cmrObservations()], patient('1934-01-01')), context()));
    expect(r.cmr?.contributions.find((c) => c.input === 'graceScore')?.points).toBe(3);
    expect(r.cmr?.notes?.join(' ')).toMatch(/above 155 whatever the missing items/);
  });
});

describe('cmr-ihd-macce: an LVEF of unstated method is never a CMR LVEF (issue 10, item 6)', () => {
  const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
  const ef = (when: string, v: number, method?: [string, string]): Observation =>
    quantity(LOINC, '10230-1', when, v, '%', method ? { method: { coding: [{ system: method[0], code: method[1] }] } } : {});
  const cmrWithout = (day = 6): Observation[] => cmrObservations(day).filter((o) => o.code.coding?.[0]?.code !== '8811-2');

  test('10230-1 without a method: shown as "LVEF, method not stated"; no CMR score, no CMR threshold', () => {
    const cards = run([stemi(), hypertension(), ...admissionObservations(), pci(at(5)), ...cmrWithout(), ef(at(6 * 24), 35)]);
    const macce = topic(cards, 'macce-risk')[0];
    const cmr = score(macce, 'cmr-risk-score');
    expect(cmr?.inputs.find((i) => i.name === 'lvef')).toBeUndefined();
    expect(cmr?.missing).toContain('lvef');
    expect(macce?.detail).toContain('- LVEF (CMR): an LVEF whose method is not stated (35 %, 2025-03-07) is not a CMR LVEF');
    const markers = topic(cards, 'cmr-markers')[0];
    expect(markers?.summary).not.toMatch(/LVEF/);
    expect(markers?.detail).not.toMatch(/LVEF 35 %: (at or below 47|below 40)/);
    expect(markers?.detail).toMatch(/\| LVEF, method not stated \| 35 % \|/);
    expect(markers?.detail).toContain('LVEF, method not stated: 35 % (2025-03-07) is shown as recorded');
  });

  test('10230-1 whose Observation.method says MR (DICOM MR, SNOMED CT MRI of heart) is a CMR LVEF', () => {
    for (const method of [[DCM, 'MR'], [SNOMED, '241620005'], [SNOMED, '113091000']] as Array<[string, string]>) {
      const i = gatherMacceInputs(prefetch([stemi(), ...cmrWithout(), ef(at(6 * 24), 35, method)]), context());
      expect(i.cmr.lvef).toMatchObject({ value: 35 });
      expect(i.cmr.lvefNotCmr).toBeUndefined();
    }
  });

  test('10230-1 by echocardiography (a method, not MR): "LVEF, method not MR", never a CMR LVEF', () => {
    const i = gatherMacceInputs(prefetch([stemi(), ...cmrWithout(), ef(at(6 * 24), 35, [DCM, 'US'])]), context());
    expect(i.cmr.lvef).toBeUndefined();
    expect(i.cmr.lvefNotCmr).toMatchObject({ name: 'lvefOtherMethod', value: 35 });
  });

  test('a CMR LVEF (8811-2) is used even when a newer LVEF of unstated method exists', () => {
    const i = gatherMacceInputs(prefetch([stemi(), ...cmrObservations(), ef(at(6 * 24 + 2), 55)]), context());
    expect(i.cmr.lvef).toMatchObject({ value: 38 });
    expect(i.cmr.lvefNotCmr).toMatchObject({ name: 'lvefMethodNotStated', value: 55 });
  });
});

describe('cmr-ihd-macce: card hygiene', () => {
  const scenarios: Array<[string, FhirResource[]]> = [
    ['everything', everything()],
    ['nstemi', [nstemi(), ...admissionObservations()]],
    ['data missing', [stemi()]],
    ['chronic', [chronicIhd(), lvefMr('2025-01-10T10:00:00Z', 30), project('infarct-size', '2025-01-10T10:00:00Z', 35, '%'), project('mvo-extent', '2025-01-10T10:00:00Z', 3, '%'),
      project('la-reservoir-strain', '2025-01-10T10:00:00Z', 12, '%'), flag('intramyocardial-haemorrhage', '2025-01-10T10:00:00Z', true)]],
  ];

  test.each(scenarios)('%s: every summary < 140 characters, uuid, indicator', (_name, resources) => {
    const cards = run(resources);
    expect(cards.length).toBeGreaterThan(0);
    for (const c of cards) {
      expect(c.summary.length).toBeLessThan(140);
      expect(c.summary.endsWith('…')).toBe(false);
      expect(c.uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(['info', 'warning', 'critical']).toContain(c.indicator);
    }
  });

  test('FHIR text in the detail is escaped', () => {
    const cards = run([stemi(ONSET, '<script>alert(1)</script> **bold**'), ...admissionObservations()]);
    const detail = cards.map((c) => c.detail ?? '').join('\n');
    expect(detail).toContain('&lt;script&gt;');
    expect(detail).toContain('\\*\\*bold\\*\\*');
    expect(detail).not.toContain('<script>');
    expect(detail).not.toContain(' **bold**');
  });

  test('the card file is valid and states its display choices', () => {
    const w = loadCardWording('cmr-ihd-macce');
    expect(w.tables.cmrRiskIndicator).toEqual({ low: 'info', intermediate: 'warning', high: 'critical' });
    expect(Object.keys(w.cards)).toEqual(['macce-risk', 'acute-mi-risk', 'data-missing', 'cmr-markers']);
  });
});
