// Demo patients of the cmr-ihd-macce service (MODELS.md §1). Names are obviously fictional.
import { CODES, birthDateForAge, daysAgo, hoursAfter, forPatient, ucum, type DemoClock, type DemoPatient } from './builders.ts';

/**
 * (e) STEMI 6 days ago, high CMR risk, SI units. Male, 68, hypertensive, 82 kg.
 * Admission: HR 96, SBP 105, creatinine 124 µmol/L (1.40 mg/dL), hs-troponin T 2350 ng/L (H),
 * Killip II, ST deviation (anterior), no cardiac arrest; primary PCI 5 h after onset. CMR day 5: LVEF 35 %, infarct size 28 %,
 * MVO 2.1 % / 3 segments, LA reservoir strain 18 %, GLS −11 %, haemorrhage.
 * Expected: GRACE 188 (high, > 155; logistic in-hospital death ≈ 11.6 %), TIMI 7 (age 2, hypertension 1,
 * Killip 2, anterior STE 1, time to treatment > 4 h 1: 23.4 % 30-day mortality), CMR risk score 1 + 3 + 3 + 1 = 8 (high, 19.7 MACE/100 person-years);
 * adverse CMR markers: LVEF < 40, infarct ≥ 19 %, MVO > 1.4 %, LA strain ≤ 22 %.
 * An admission echocardiogram LVEF 42 % (LOINC 10230-1, method not stated) is shown as "LVEF, method not
 * stated" and used for no CMR threshold or score: the CMR LVEF 35 % (8811-2) is.
 */
export function stemiHighRisk(clock: DemoClock): DemoPatient {
  const id = 'demo-stemi-high-risk';
  const b = forPatient(id);
  const onset = daysAgo(clock, 6);
  const admission = hoursAfter(onset, 2);
  const reperfusion = hoursAfter(onset, 5);
  const cmr = daysAgo(clock, 1);
  return {
    id,
    scenario: 'STEMI 6 days ago, reperfused at 5 h; CMR: LVEF 35 %, large infarct with MVO (high risk)',
    resources: [
      b.patient({ given: 'Karl', family: 'Demoson', gender: 'male', birthDate: birthDateForAge(clock, 68), mrn: 'DEMO-0005' }),
      b.condition({ key: 'stemi', code: CODES.stemi, onset, category: 'encounter-diagnosis' }),
      b.condition({ key: 'hypertension', code: CODES.hypertension, onset: daysAgo(clock, 8 * 365) }),
      b.procedure({ key: 'pci', code: CODES.pci, at: reperfusion, reasonKey: 'stemi' }),
      b.quantity('heart-rate', CODES.heartRate, 'vital-signs', admission, 96, '/min', 'beats/min'),
      b.quantity('sbp', CODES.systolicBp, 'vital-signs', admission, 105, 'mm[Hg]', 'mmHg'),
      b.quantity('weight', CODES.weight, 'vital-signs', admission, 82, 'kg'),
      b.quantity('height', CODES.height, 'vital-signs', admission, 176, 'cm'),
      b.quantity('creatinine', CODES.creatinineMoles, 'laboratory', admission, 124, 'umol/L', 'µmol/L'),
      b.observation({
        key: 'troponin', code: CODES.troponinTHs, category: 'laboratory', at: admission,
        value: { quantity: ucum(2350, 'ng/L') }, referenceHigh: ucum(14, 'ng/L'), interpretation: 'H',
      }),
      b.observation({ key: 'killip', code: CODES.killip, category: 'exam', at: admission, value: { integer: 2 } }),
      b.flag('st-deviation', CODES.stDeviation, 'procedure', hoursAfter(onset, 1), true),
      b.flag('anterior-ste', CODES.anteriorSteOrLbbb, 'procedure', hoursAfter(onset, 1), true),
      b.flag('cardiac-arrest', CODES.cardiacArrest, 'exam', admission, false),
      b.quantity('time-to-reperfusion', CODES.timeToReperfusion, 'procedure', reperfusion, 5, 'h'),
      b.quantity('echo-lvef', CODES.lvef, 'imaging', hoursAfter(onset, 20), 42, '%'),
      b.quantity('cmr-lvef', CODES.lvefMr, 'imaging', cmr, 35, '%'),
      b.quantity('cmr-infarct-size', CODES.infarctSize, 'imaging', cmr, 28, '%'),
      b.quantity('cmr-mvo-extent', CODES.mvoExtent, 'imaging', cmr, 2.1, '%'),
      b.quantity('cmr-mvo-segments', CODES.mvoSegments, 'imaging', cmr, 3, '{segments}', 'segments'),
      b.quantity('cmr-la-strain', CODES.laReservoirStrain, 'imaging', cmr, 18, '%'),
      b.quantity('cmr-lv-gls', CODES.lvGls, 'imaging', cmr, -11, '%'),
      b.quantity('cmr-native-t1', CODES.nativeT1, 'imaging', cmr, 1180, 'ms'),
      b.quantity('cmr-t2', CODES.t2, 'imaging', cmr, 62, 'ms'),
      b.flag('cmr-haemorrhage', CODES.haemorrhage, 'imaging', cmr, true),
    ],
  };
}

/**
 * (f) Chronic ischaemic heart disease, MI 3 years ago (outside the acute window), recent CMR with
 * LVEF 52 % and infarct size 8 %. Female, 72.
 * Expected: no acute-MI scores (GRACE/TIMI/CMR risk score need an acute STEMI); CMR markers below
 * every adverse threshold: at most an info card.
 */
export function chronicIhd(clock: DemoClock): DemoPatient {
  const id = 'demo-chronic-ihd';
  const b = forPatient(id);
  const cmr = daysAgo(clock, 45);
  const clinic = daysAgo(clock, 10);
  return {
    id,
    scenario: 'Chronic ischaemic heart disease, myocardial infarction 3 years ago; CMR: LVEF 52 %, small scar',
    resources: [
      b.patient({ given: 'Lena', family: 'Fictive', gender: 'female', birthDate: birthDateForAge(clock, 72), mrn: 'DEMO-0006' }),
      b.condition({ key: 'ihd', code: CODES.ihd, onset: daysAgo(clock, 3 * 365 + 20) }),
      b.condition({ key: 'mi', code: CODES.mi, onset: daysAgo(clock, 3 * 365) }),
      b.condition({ key: 'diabetes', code: CODES.diabetes, onset: daysAgo(clock, 10 * 365) }),
      b.quantity('heart-rate', CODES.heartRate, 'vital-signs', clinic, 64, '/min', 'beats/min'),
      b.quantity('sbp', CODES.systolicBp, 'vital-signs', clinic, 128, 'mm[Hg]', 'mmHg'),
      b.quantity('creatinine', CODES.creatinineMass, 'laboratory', clinic, 1.0, 'mg/dL'),
      b.quantity('cmr-lvef', CODES.lvefMr, 'imaging', cmr, 52, '%'),
      b.quantity('cmr-infarct-size', CODES.infarctSize, 'imaging', cmr, 8, '%'),
      b.quantity('cmr-mvo-extent', CODES.mvoExtent, 'imaging', cmr, 0, '%'),
      b.quantity('cmr-la-strain', CODES.laReservoirStrain, 'imaging', cmr, 29, '%'),
      b.quantity('cmr-lv-gls', CODES.lvGls, 'imaging', cmr, -17, '%'),
      b.quantity('cmr-native-t1', CODES.nativeT1, 'imaging', cmr, 1010, 'ms'),
      b.quantity('cmr-t2', CODES.t2, 'imaging', cmr, 49, 'ms'),
      b.quantity('cmr-ecv', CODES.ecv, 'imaging', cmr, 27, '%'),
      // An earlier CMR (outside the markers card's one-year look-back): the detail view's LVEF trend and
      // the report draft's comparison.
      b.quantity('cmr-lvef-prior', CODES.lvefMr, 'imaging', daysAgo(clock, 2 * 365), 47, '%'),
    ],
  };
}

/**
 * (i) STEMI 3 days ago with key inputs missing: no CMR yet (no LVEF, no MVO) and no Killip class.
 * Female, 55. HR 78, BP 132/84 (as a 85354-9 panel), creatinine 71 µmol/L (0.80 mg/dL), hs-troponin I 5400 ng/L (H),
 * ST deviation, no cardiac arrest, PCI 3 h after onset.
 * Expected: GRACE partial 133 without Killip (133–192), TIMI partial, CMR risk score partial
 * (reperfusion ≤ 4.15 h → 0; GRACE, LVEF, MVO missing: 0–7); the card says what is missing, once.
 */
export function stemiMissingInputs(clock: DemoClock): DemoPatient {
  const id = 'demo-stemi-missing-inputs';
  const b = forPatient(id);
  const onset = daysAgo(clock, 3);
  const admission = hoursAfter(onset, 1.5);
  const reperfusion = hoursAfter(onset, 3);
  return {
    id,
    scenario: 'STEMI 3 days ago; no CMR yet and no Killip class recorded (inputs missing)',
    resources: [
      b.patient({ given: 'Olga', family: 'Dummy', gender: 'female', birthDate: birthDateForAge(clock, 55), mrn: 'DEMO-0009' }),
      b.condition({ key: 'stemi', code: CODES.stemi, onset, category: 'encounter-diagnosis' }),
      b.procedure({ key: 'pci', code: CODES.pci, at: reperfusion, reasonKey: 'stemi' }),
      b.quantity('heart-rate', CODES.heartRate, 'vital-signs', admission, 78, '/min', 'beats/min'),
      // Blood pressure as a panel with components (the common EHR shape), unlike the other patients.
      b.bloodPressure('bp', admission, 132, 84),
      b.quantity('weight', CODES.weight, 'vital-signs', admission, 64, 'kg'),
      b.quantity('creatinine', CODES.creatinineMoles, 'laboratory', admission, 71, 'umol/L', 'µmol/L'),
      b.observation({
        key: 'troponin', code: CODES.troponinIHs, category: 'laboratory', at: admission,
        value: { quantity: ucum(5400, 'ng/L') }, referenceHigh: ucum(16, 'ng/L'), interpretation: 'H',
      }),
      b.flag('st-deviation', CODES.stDeviation, 'procedure', hoursAfter(onset, 1), true),
      b.flag('cardiac-arrest', CODES.cardiacArrest, 'exam', admission, false),
      b.quantity('time-to-reperfusion', CODES.timeToReperfusion, 'procedure', reperfusion, 3, 'h'),
    ],
  };
}

/**
 * (k) NSTEMI 2 days ago. Female, 74. Admission: HR 104, SBP 98, creatinine 159 µmol/L (1.80 mg/dL),
 * hs-troponin I 860 ng/L (H), Killip II, ST depression, no cardiac arrest.
 * Expected: GRACE 75 + 15 + 53 + 13 + 20 + 0 + 28 + 14 = 218, high by the NSTE-ACS bands (> 140;
 * MODELS.md 1b), logistic in-hospital death ≈ 18.9 %, a warning card; no TIMI STEMI and no CMR risk
 * score (STEMI populations), said so.
 */
export function nstemi(clock: DemoClock): DemoPatient {
  const id = 'demo-nstemi';
  const b = forPatient(id);
  const onset = daysAgo(clock, 2);
  const admission = hoursAfter(onset, 3);
  return {
    id,
    scenario: 'NSTEMI 2 days ago, Killip II, renal impairment (GRACE with the NSTE-ACS bands)',
    resources: [
      b.patient({ given: 'Rosa', family: 'Placebo', gender: 'female', birthDate: birthDateForAge(clock, 74), mrn: 'DEMO-0011' }),
      b.condition({ key: 'nstemi', code: CODES.nstemi, onset, category: 'encounter-diagnosis' }),
      b.condition({ key: 'hypertension', code: CODES.hypertension, onset: daysAgo(clock, 12 * 365) }),
      b.quantity('heart-rate', CODES.heartRate, 'vital-signs', admission, 104, '/min', 'beats/min'),
      b.quantity('sbp', CODES.systolicBp, 'vital-signs', admission, 98, 'mm[Hg]', 'mmHg'),
      b.quantity('creatinine', CODES.creatinineMoles, 'laboratory', admission, 159, 'umol/L', 'µmol/L'),
      b.observation({
        key: 'troponin', code: CODES.troponinIHs, category: 'laboratory', at: admission,
        value: { quantity: ucum(860, 'ng/L') }, referenceHigh: ucum(16, 'ng/L'), interpretation: 'H',
      }),
      b.observation({ key: 'killip', code: CODES.killip, category: 'exam', at: admission, value: { integer: 2 } }),
      b.flag('st-deviation', CODES.stDeviation, 'procedure', hoursAfter(onset, 2), true),
      b.flag('cardiac-arrest', CODES.cardiacArrest, 'exam', admission, false),
    ],
  };
}

export const ischemicPatients = [stemiHighRisk, chronicIhd, stemiMissingInputs, nstemi];
