// The cmr-ihd-macce CDS service: MACCE risk in ischaemic heart disease / after myocardial infarction
// (MODELS.md section 1): CMR risk score (primary), GRACE, TIMI STEMI and single CMR markers.
// Prefetch templates use only CDS Hooks 2.0 tokens and narrow by code with the ValueSets in
// profiles/ (unions cmr-ihd-macce-conditions, -observations and -procedures). Servers that ignore
// an unsupported parameter (FHIR R4 §3.1.1.4 lenient handling) return a superset; the service
// re-checks every code locally.
import { defineService, type PrefetchTemplate } from '../define.ts';
import { gatherMacceInputs, type MaccePrefetchKey } from './inputs.ts';
import { scoreMacce } from './scores.ts';
import { macceCards } from './cards.ts';
import { macceDetail } from './detail.ts';
import { MACCE_MODELS, macceWording } from './wording.ts';

export const cmrIhdMacce = defineService({
  id: 'cmr-ihd-macce',
  hook: 'patient-view',
  title: 'MACCE risk after myocardial infarction (CMR, GRACE, TIMI)',
  description:
    'For patients with ischaemic heart disease or myocardial infarction: after an acute STEMI, the CMR risk score ' +
    '(Marcos-Garcés 2022) with GRACE and TIMI STEMI; after an acute NSTEMI, GRACE; and single CMR markers with their ' +
    'published weight. Says what is missing; silent without ischaemic heart disease.',
  prefetch: {
    patient: () => 'Patient/{{context.patientId}}',
    conditions: (codes) => `Condition?patient={{context.patientId}}&code=${codes('cmr-ihd-macce-conditions')}`,
    observations: (codes) => `Observation?patient={{context.patientId}}&code=${codes('cmr-ihd-macce-observations')}&_count=200`,
    bloodPressure: (codes) => `Observation?patient={{context.patientId}}&combo-code=${codes('systolic-bp')}&_count=200`,
    procedures: (codes) => `Procedure?patient={{context.patientId}}&code=${codes('cmr-ihd-macce-procedures')}`,
    encounter: () => 'Encounter/{{context.encounterId}}',
  } satisfies Record<MaccePrefetchKey, PrefetchTemplate>,
  // Without the patient and their conditions the service cannot tell whether it applies; without
  // observations it would report inputs as missing that may well exist: 412 rather than a wrong card.
  // Procedures, blood-pressure panels and the encounter are optional: the time to reperfusion is then
  // missing with a reason (or taken from a recorded value), the admission anchor is the MI onset.
  requiredPrefetch: ['patient', 'conditions', 'observations'],
  topics: ['macce-risk', 'cmr-markers'],
  models: MACCE_MODELS,
  valueSets: [
    'ihd', 'acute-mi', 'stemi', 'nstemi', 'anterior-stemi', 'diabetes', 'hypertension', 'angina', 'heart-rate', 'systolic-bp',
    'creatinine', 'troponin', 'killip-class', 'cardiac-arrest-at-admission', 'st-deviation', 'anterior-ste-or-lbbb',
    'body-weight', 'time-to-reperfusion', 'pci', 'fibrinolysis', 'lvef', 'lvef-mr', 'mr-method', 'infarct-size', 'mvo-extent',
    'mvo-segments', 'la-reservoir-strain', 'lv-gls', 'native-t1', 't2', 'intramyocardial-haemorrhage',
  ],
  wording: macceWording,
  // LVEF, infarct size, MVO, strain, T1/T2 from the newest CMR study's DICOM SR, merged newer-wins.
  imaging: { cmr: true },
  gather(data, ev) {
    const inputs = gatherMacceInputs(data, ev);
    // Not applicable without ischaemic heart disease: nothing to say (DESIGN.md, Clinicians).
    return inputs.ihd ? inputs : undefined;
  },
  score: scoreMacce,
  cards: macceCards,
  detail: macceDetail,
});
