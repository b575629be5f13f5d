// Issue 10 (clinical corrections) end to end: the real app over HTTP (supertest), the real embedded FHIR
// server holding the patients below, and the services fetching their data from it as they would from
// an EHR. Each block is one item of the issue; the model and service unit tests hold the edges.
import request from 'supertest';
import type { Condition, FhirResource, Observation, Patient, Procedure } from 'fhir/r4.js';
import type { Card } from '../../src/hooks/types.ts';
import type { ScoreEntry } from '../../src/services/card-kit.ts';
import { ICD10CM, LOINC, PROJECT_CODESYSTEM, SNOMED, UCUM } from '../../src/fhir/canonical.ts';
import { fhirAccess, hookRequest, startHarness, type Harness } from '../support/harness.ts';
import { demoPatients, demoResources } from '../../src/demo/patients/index.ts';
import { SERVICES } from '../../src/services/registry.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const now = Date.now();
const ago = (days: number): string => new Date(now - days * DAY).toISOString();
const after = (iso: string, hours: number): string => new Date(Date.parse(iso) + hours * HOUR).toISOString();
const birthForAge = (years: number, at = now): string => {
  const d = new Date(at - 100 * DAY);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  return d.toISOString().slice(0, 10);
};

// ---------------------------------------------------------------------------------------------------
// Builders (one patient per scenario, ids prefixed with the patient id)

function patient(id: string, gender: 'male' | 'female', birthDate: string): Patient {
  return { resourceType: 'Patient', id, gender, birthDate };
}
function condition(pid: string, key: string, system: string, code: string, onset: string): Condition {
  return {
    resourceType: 'Condition', id: `${pid}-${key}`, subject: { reference: `Patient/${pid}` },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system, code }] }, onsetDateTime: onset,
  };
}
function quantity(pid: string, key: string, system: string, code: string, value: number, unit: string, when: string, extra: Partial<Observation> = {}): Observation {
  return {
    resourceType: 'Observation', id: `${pid}-${key}`, status: 'final', subject: { reference: `Patient/${pid}` },
    code: { coding: [{ system, code }] }, effectiveDateTime: when,
    valueQuantity: { value, unit, system: UCUM, code: unit }, ...extra,
  };
}
function flag(pid: string, key: string, code: string, value: boolean, when: string): Observation {
  return {
    resourceType: 'Observation', id: `${pid}-${key}`, status: 'final', subject: { reference: `Patient/${pid}` },
    code: { coding: [{ system: PROJECT_CODESYSTEM, code }] }, effectiveDateTime: when, valueBoolean: value,
  };
}
function integer(pid: string, key: string, code: string, value: number, when: string): Observation {
  return {
    resourceType: 'Observation', id: `${pid}-${key}`, status: 'final', subject: { reference: `Patient/${pid}` },
    code: { coding: [{ system: PROJECT_CODESYSTEM, code }] }, effectiveDateTime: when, valueInteger: value,
  };
}
function procedure(pid: string, key: string, code: string, when: string): Procedure {
  return {
    resourceType: 'Procedure', id: `${pid}-${key}`, status: 'completed', subject: { reference: `Patient/${pid}` },
    code: { coding: [{ system: SNOMED, code }] }, performedDateTime: when,
  };
}

/** Cirrhosis labs (conventional units) with the INR given by the caller. */
function liverLabs(pid: string, o: { bili?: number; cr?: number; na?: number; alb?: number; inr?: [number, string] } = {}): Observation[] {
  const when = ago(2);
  const inr = o.inr ?? [1.8, '{INR}'];
  return [
    quantity(pid, 'bili', LOINC, '1975-2', o.bili ?? 4.0, 'mg/dL', when),
    quantity(pid, 'cr', LOINC, '2160-0', o.cr ?? 1.9, 'mg/dL', when),
    quantity(pid, 'na', LOINC, '2951-2', o.na ?? 128, 'mmol/L', when),
    quantity(pid, 'alb', LOINC, '1751-7', o.alb ?? 2.8, 'g/dL', when),
    quantity(pid, 'inr', LOINC, '6301-6', inr[0], inr[1], when),
  ];
}

// Scenario patients
const P = {
  quick: 'ic-inr-percent',
  meld: 'ic-meld-31',
  meld47: 'ic-meld-above-40',
  pbc: 'ic-pbc',
  alcoholic: 'ic-alcoholic-sct',
  crHigh: 'ic-creatinine-3-5',
  tumour: 'ic-mass-native-t1',
  thrombus: 'ic-mass-post-contrast-t1',
  nstemi: 'ic-nstemi-22',
  unstated: 'ic-acute-mi-unstated',
  oldMi: 'ic-stemi-40-days',
  echoLvef: 'ic-stemi-echo-lvef',
} as const;

function cirrhosisPatient(pid: string, labs: Observation[], extra: FhirResource[] = [], code: [string, string] = [SNOMED, '19943007']): FhirResource[] {
  return [patient(pid, 'female', birthForAge(60)), condition(pid, 'cirrhosis', code[0], code[1], ago(900)), ...labs, ...extra];
}

function massPatient(pid: string, t1: Observation): FhirResource[] {
  const when = ago(3);
  const members = [
    flag(pid, 'infiltration', 'mass-infiltration', true, when),
    flag(pid, 'perfusion', 'mass-first-pass-perfusion', true, when),
    flag(pid, 'tiscout', 'mass-ti-scout-thrombus-pattern', false, when),
    t1,
  ];
  const report: Observation = {
    ...flag(pid, 'report', 'cardiac-mass', true, when),
    hasMember: members.map((m) => ({ reference: `Observation/${m.id}` })),
  };
  return [patient(pid, 'male', birthForAge(50)), report, ...members];
}

/** GRACE items at presentation (MODELS.md 1b): the caller decides arrest, Killip, troponin. */
function acuteMi(pid: string, code: [string, string], o: { onsetDays: number; killip: number; arrest: boolean; troponin: number; age: number }): FhirResource[] {
  const onset = ago(o.onsetDays);
  const at = after(onset, 1);
  return [
    patient(pid, 'male', birthForAge(o.age, Date.parse(onset))),
    condition(pid, 'mi', code[0], code[1], onset),
    quantity(pid, 'hr', LOINC, '8867-4', 70, '/min', at),
    quantity(pid, 'sbp', LOINC, '8480-6', 110, 'mm[Hg]', at),
    quantity(pid, 'cr', LOINC, '2160-0', 1.2, 'mg/dL', at),
    quantity(pid, 'trop', LOINC, '67151-1', o.troponin, 'ng/L', at, { referenceRange: [{ high: { value: 14, unit: 'ng/L', system: UCUM, code: 'ng/L' } }] }),
    integer(pid, 'killip', 'killip-class', o.killip, at),
    flag(pid, 'arrest', 'cardiac-arrest-at-admission', o.arrest, at),
    flag(pid, 'st', 'st-deviation', true, at),
  ];
}

const resources: FhirResource[] = [
  // 1. INR reported as prothrombin activity (Quick 30 %), and an SMI sent in %.
  ...cirrhosisPatient(P.quick, liverLabs(P.quick, { inr: [30, '%'] }), [quantity(P.quick, 'smi', PROJECT_CODESYSTEM, 'l3-smi', 45, '%', ago(20))]),
  // 2. MODELS.md 3a vector 4 (female, bili 4.0, Na 128, INR 1.8, Cr 1.9, Alb 2.8 → 31.00) ...
  ...cirrhosisPatient(P.meld, liverLabs(P.meld)),
  // ... and a MELD 3.0 above 40 (bili 20, Na 125, INR 4, Cr 3, Alb 1.5, female).
  ...cirrhosisPatient(P.meld47, liverLabs(P.meld47, { bili: 20, na: 125, inr: [4, '{INR}'], cr: 3, alb: 1.5 })),
  // 7. Primary biliary cholangitis coded ICD-10-CM K74.3, bilirubin 3.5 mg/dL (cholestatic band: 1 point).
  ...cirrhosisPatient(P.pbc, liverLabs(P.pbc, { bili: 3.5, alb: 3.6, inr: [1.1, '{INR}'] }), [], [ICD10CM, 'K74.3']),
  // 7. Alcoholic cirrhosis coded SNOMED CT 420054005 only.
  ...cirrhosisPatient(P.alcoholic, liverLabs(P.alcoholic), [], [SNOMED, '420054005']),
  // 8. Creatinine 3.5 mg/dL, no dialysis recorded.
  ...cirrhosisPatient(P.crHigh, liverLabs(P.crHigh, { cr: 3.5 })),
  // 3. A tumour-like mass whose only T1 is a native T1 of 1250 ms ...
  ...massPatient(P.tumour, quantity(P.tumour, 't1', PROJECT_CODESYSTEM, 'native-t1', 1250, 'ms', ago(3))),
  // ... and a mass with a post-contrast T1 of 480 ms.
  ...massPatient(P.thrombus, quantity(P.thrombus, 't1', PROJECT_CODESYSTEM, 'mass-post-contrast-t1', 480, 'ms', ago(3))),
  // 4. MODELS.md 1b worked example after an NSTEMI: 57 y, HR 70, SBP 110, Cr 1.2, Killip III, arrest,
  //    ST deviation, troponin not elevated → 209 points, in-hospital death 21.7 %.
  ...acuteMi(P.nstemi, [SNOMED, '401314000'], { onsetDays: 3, killip: 3, arrest: true, troponin: 9, age: 57 }),
  // 4. Acute MI of unstated type (SNOMED 57054005): 41 + 9 + 43 + 10 + 0 + 0 + 28 + 14 = 145 points:
  //    STEMI bands intermediate (126–154), NSTE-ACS bands high (> 140).
  ...acuteMi(P.unstated, [SNOMED, '57054005'], { onsetDays: 3, killip: 1, arrest: false, troponin: 900, age: 57 }),
  // 5. A STEMI 40 days ago with its admission values and a recent CMR.
  ...acuteMi(P.oldMi, [SNOMED, '401303003'], { onsetDays: 40, killip: 1, arrest: false, troponin: 900, age: 60 }),
  quantity(P.oldMi, 'ef', LOINC, '8811-2', 35, '%', ago(30)),
  // 6. A STEMI 5 days ago whose only LVEF is coded 10230-1 (method not stated), 35 %.
  ...acuteMi(P.echoLvef, [SNOMED, '401303003'], { onsetDays: 5, killip: 1, arrest: false, troponin: 900, age: 60 }),
  procedure(P.echoLvef, 'pci', '415070008', after(ago(5), 3)),
  quantity(P.echoLvef, 'ef', LOINC, '10230-1', 35, '%', ago(2)),
  integer(P.echoLvef, 'mvo', 'mvo-segments', 0, ago(2)),
];

let h: Harness;
// Loading the demo and the patients into the embedded FHIR server and opening the store can
// take longer than the 30 s default on a busy machine: a set-up limit, not a test assertion.
beforeAll(async () => {
  h = await startHarness({ resources: [...demoResources(demoPatients(new Date(now))), ...resources] });
}, 120_000);
afterAll(async () => {
  await h.close();
});

async function cards(service: string, pid: string): Promise<Card[]> {
  const path = `/cds-services/${service}`;
  const res = await request(h.app).post(path).set('authorization', `Bearer ${await h.sign(path)}`).send(hookRequest(pid, fhirAccess(h)));
  expect(res.status).toBe(200);
  return (res.body as { cards: Card[] }).cards;
}
const scoresOf = (cs: Card[]): ScoreEntry[] => cs.flatMap((c) => ((c.extension as { scores?: ScoreEntry[] } | undefined)?.scores ?? []));
const score = (cs: Card[], model: string): ScoreEntry | undefined => scoresOf(cs).find((s) => s.model === model);
/** The card text a clinician reads, without the inputs table (the only place codes may appear). */
const clinicianText = (c: Card): string => `${c.summary}\n${(c.detail ?? '').replace(/### (Inputs used|Measurements used)\n\n(\|.*\|\n?)+/g, '')}`;

describe('1. INR is a ratio: % (prothrombin activity, Quick) never becomes an INR', () => {
  test('INR 30 % is reported missing with the reason in words; MELD 3.0 is not computed from it', async () => {
    const cs = await cards('cirrhosis-sarcopenia', P.quick);
    expect(score(cs, 'meld-3.0')).toBeUndefined();
    expect(score(cs, 'child-pugh')?.missing ?? ['inr']).toContain('inr');
    expect(scoresOf(cs).flatMap((s) => s.inputs).find((i) => i.name === 'inr')).toBeUndefined();
    expect(cs[0]!.detail).toMatch(/INR: [^\n]*prothrombin activity \(Quick\)/);
  });

  test('an SMI recorded in % (a pure number to UCUM) is not an SMI', async () => {
    const cs = await cards('cirrhosis-sarcopenia', P.quick);
    expect(score(cs, 'smi')).toBeUndefined();
  });
});

describe('2. MELD 3.0: one 90-day figure, the survival equation\'s, only for scores 6–40', () => {
  test('score 31: the equation\'s figure only, no band table on the card', async () => {
    const cs = await cards('cirrhosis-sarcopenia', P.meld);
    const s = score(cs, 'meld-3.0');
    expect(s?.value).toBeCloseTo(31.0, 2);
    expect(s?.probability).toBeCloseTo(1 - 0.946 ** Math.exp(0.17698 * 31 - 3.56), 10);
    const text = cs.map(clinicianText).join('\n');
    expect(text).toContain(`(${Math.round(s!.probability! * 1000) / 10} % 90-day mortality)`);
    expect(text).not.toMatch(/41\.9|waitlist|Band 30/i);
  });

  test('score above 40: no probability anywhere, the card says it is above the range of the estimate', async () => {
    const cs = await cards('cirrhosis-sarcopenia', P.meld47);
    const s = score(cs, 'meld-3.0');
    expect(s?.value).toBeGreaterThan(40);
    expect(s?.probability).toBeUndefined();
    expect(cs[0]!.summary).toMatch(/MELD 3\.0 4\d \(above the range of the 90-day estimate\)/);
    expect(cs.map(clinicianText).join('\n')).not.toMatch(/99\.\d %|51\.1/);
  });
});

describe('3. T1 ≥ 422 ms is a post-contrast feature; native T1 never feeds it', () => {
  const t1Row = (c: Card): string => (c.detail ?? '').split('\n').find((l) => l.includes('post-contrast T1')) ?? '';
  test('a native T1 of 1250 ms leaves the criterion unknown', async () => {
    const [c] = await cards('cmr-cardiac-mass', P.tumour);
    expect(t1Row(c!)).toMatch(/post-contrast T1 ≥ 422 ms \| not assessed \| unknown/);
    expect(c!.detail).not.toMatch(/native T1 ≥ 422/);
  });
  test('a post-contrast T1 of 480 ms of the mass meets it', async () => {
    const [c] = await cards('cmr-cardiac-mass', P.thrombus);
    expect(t1Row(c!)).toMatch(/post-contrast T1 ≥ 422 ms \| 480 ms \| yes/);
  });
});

describe('4. GRACE after NSTEMI and after an acute MI of unstated type', () => {
  test('NSTEMI, 21.7 % in-hospital death: NSTE-ACS band high in extension.scores, never an info card', async () => {
    const cs = await cards('cmr-ihd-macce', P.nstemi);
    const g = score(cs, 'grace-in-hospital');
    expect(g).toMatchObject({ value: 209, tier: 'high' });
    expect(g?.probability).toBeCloseTo(0.2169, 3);
    const c = cs.find((x) => x.source.topic?.code === 'macce-risk')!;
    expect(c.indicator).not.toBe('info');
    expect(c.detail).toMatch(/NSTE-ACS/);
  });

  test('unstated type: probability and both bands\' readings, indicator from the more severe', async () => {
    const cs = await cards('cmr-ihd-macce', P.unstated);
    const g = score(cs, 'grace-in-hospital');
    expect(g?.value).toBe(145);
    expect(g?.probability).toBeGreaterThan(0);
    const c = cs.find((x) => x.source.topic?.code === 'macce-risk')!;
    expect(c.summary).toMatch(/intermediate by the STEMI bands, high by the NSTE-ACS bands/);
    expect(c.indicator).not.toBe('info');
  });
});

describe('5. Acute-MI window: 28 days by default', () => {
  test('a STEMI 40 days ago is not presented with GRACE/TIMI as the current admission\'s risk', async () => {
    const cs = await cards('cmr-ihd-macce', P.oldMi);
    expect(cs.find((x) => x.source.topic?.code === 'macce-risk')).toBeUndefined();
    expect(score(cs, 'grace-in-hospital')).toBeUndefined();
    expect(cs[0]?.summary).toMatch(/^IHD, no acute MI in 28 d/);
  });
});

describe('6. An LVEF of unstated method is never a CMR LVEF', () => {
  test('10230-1 is shown as "LVEF, method not stated" and feeds neither the CMR risk score nor a CMR threshold', async () => {
    const cs = await cards('cmr-ihd-macce', P.echoLvef);
    const cmr = score(cs, 'cmr-risk-score');
    expect(cmr?.inputs.find((i) => i.name === 'lvef')).toBeUndefined();
    expect(cmr?.missing ?? ['lvef']).toContain('lvef');
    const text = cs.map((c) => c.detail ?? '').join('\n');
    expect(text).toContain('LVEF, method not stated');
    expect(text).not.toMatch(/LVEF 35 %: (at or below 47|below 40)/);
    for (const c of cs) expect(c.summary).not.toMatch(/LVEF 35/);
  });
});

describe('7. Cirrhosis is wider than three codes; cholestatic bilirubin bands in PBC/PSC', () => {
  test('ICD-10-CM K74.3 applies; Child-Pugh uses the PBC/PSC bilirubin bands and says so', async () => {
    const cs = await cards('cirrhosis-sarcopenia', P.pbc);
    expect(cs.length).toBeGreaterThan(0);
    // Bilirubin 3.5 mg/dL: 1 point in the cholestatic bands (1–4), 3 in the standard ones (> 3).
    const cp = score(cs, 'child-pugh');
    expect(cp?.inputs.map((i) => i.name)).toContain('cholestaticDisease');
    expect(cs[0]!.detail).toMatch(/primary biliary cholangitis or primary sclerosing cholangitis/);
    expect(cs[0]!.detail).toMatch(/1–4 \/ 4–10 \/ (&gt;|>) 10 mg\/dL/);
  });

  test('SNOMED CT 420054005 (alcoholic cirrhosis) applies', async () => {
    expect((await cards('cirrhosis-sarcopenia', P.alcoholic)).length).toBeGreaterThan(0);
  });
});

describe('8. Dialysis: "none recorded", and what unrecorded dialysis would change', () => {
  test('no dialysis procedure: shown as none recorded; creatinine 3.5 is at MELD 3.0\'s cap but below MELD\'s', async () => {
    const cs = await cards('cirrhosis-sarcopenia', P.crHigh);
    const detail = cs[0]!.detail ?? '';
    expect(detail).toMatch(/\| Dialysis[^|]*\| none recorded/);
    expect(detail).toMatch(/MELD 3\.0: creatinine 3\.5 mg\/dL is at or above its 3\.0 mg\/dL cap/);
    expect(detail).toMatch(/MELD-Na[^\n]*would set creatinine to 4\.0 mg\/dL/);
  });
});

describe('9. Wording: no raw codes or internal names in clinician text', () => {
  const CODE_LIKE = [
    /'[a-z0-9]+(-[a-z0-9]+)+'/, // ValueSet names in quotes, e.g. 'l3-skeletal-muscle-area'
    /\b[a-z]{3,}[A-Z][a-z]{2,}/, // camelCase input names, e.g. timeToReperfusion (not units such as mmHg)
    /\b\d{3,7}-\d\b/, // LOINC codes
  ];
  test.each([
    ['cirrhosis-sarcopenia', P.quick], ['cirrhosis-sarcopenia', P.meld47], ['cirrhosis-sarcopenia', P.crHigh],
    ['cmr-cardiac-mass', P.tumour], ['cmr-ihd-macce', P.nstemi], ['cmr-ihd-macce', P.echoLvef], ['cmr-ihd-macce', P.unstated],
    // Every demo patient through every service (those with nothing to say answer no card).
    ...SERVICES.map((s) => s.id).flatMap((service) => demoPatients(new Date(now)).map((p) => [service, p.id] as [string, string])),
  ])('%s for %s', async (service, pid) => {
    const cs = await cards(service, pid);
    if (!pid.startsWith('demo-')) expect(cs.length).toBeGreaterThan(0);
    for (const c of cs) {
      const text = clinicianText(c).replace(/\]\([^)]*\)/g, ']'); // link targets are URLs, not text
      for (const re of CODE_LIKE) expect({ service, pid, match: re.exec(text)?.[0] }).toEqual({ service, pid, match: undefined });
    }
  });
});

describe('10. The demo patients show the corrections', () => {
  test('demo-nstemi: GRACE 218 read with the NSTE-ACS bands (high), a warning card', async () => {
    const cs = await cards('cmr-ihd-macce', 'demo-nstemi');
    expect(score(cs, 'grace-in-hospital')).toMatchObject({ value: 218, tier: 'high' });
    const c = cs.find((x) => x.source.topic?.code === 'macce-risk')!;
    expect(c.indicator).toBe('warning');
    expect(c.detail).toContain('NSTE-ACS in-hospital death band: high');
  });

  test('demo-cirrhosis-pbc: Child-Pugh 6 (A) with the PBC/PSC bilirubin bands', async () => {
    const cs = await cards('cirrhosis-sarcopenia', 'demo-cirrhosis-pbc');
    expect(score(cs, 'child-pugh')).toMatchObject({ value: 6, tier: 'A' });
    expect(score(cs, 'child-pugh')?.inputs.map((i) => i.name)).toContain('cholestaticDisease');
  });

  test('demo-stemi-high-risk: the CMR LVEF 35 % scores; the echo LVEF 42 % is shown as method not stated', async () => {
    const cs = await cards('cmr-ihd-macce', 'demo-stemi-high-risk');
    expect(score(cs, 'cmr-risk-score')?.inputs.find((i) => i.name === 'lvef')).toMatchObject({ value: 35, source: 'Observation/demo-stemi-high-risk-cmr-lvef' });
    const markers = cs.find((x) => x.source.topic?.code === 'cmr-markers')!;
    expect(markers.detail).toMatch(/\| LVEF, method not stated \| 42 % \|/);
  });

  test('demo-mass-thrombus: the post-contrast T1 of the mass (480 ms) meets the T1 criterion', async () => {
    const [c] = await cards('cmr-cardiac-mass', 'demo-mass-thrombus');
    expect(c!.detail).toMatch(/post-contrast T1 ≥ 422 ms \| 480 ms \| yes/);
  });

  test('demo-cirrhosis-decompensated: dialysis none recorded, one 90-day figure', async () => {
    const cs = await cards('cirrhosis-sarcopenia', 'demo-cirrhosis-decompensated');
    expect(cs[0]!.detail).toMatch(/\| Dialysis[^|]*\| none recorded in the prior 7 days \|/);
    expect(cs[0]!.summary).toMatch(/MELD 3\.0 29 \(\d+(\.\d)? % 90-day mortality\)/);
    expect(cs.map(clinicianText).join('\n')).not.toMatch(/24\.8 %|waitlist/);
  });
});
