// The cmr-cardiac-mass CDS service: CMR Mass Score (Paolisso 2024), features favouring thrombus
// (Pazos-López 2014) and prognosis by recorded CMR diagnosis (Shenoy 2022); MODELS.md section 2.
// Prefetch templates use only the CDS Hooks 2.0 token {{context.patientId}} and narrow by code with the
// ValueSets in profiles/ (cardiac-mass for Conditions; cardiac-mass-observations, the union of every
// Observation code the service reads). Servers may ignore `code` (FHIR R4 §3.1.1.4 lenient handling):
// every code is re-checked locally.
import { defineService, type PrefetchTemplate } from '../define.ts';
import { gatherCardiacMassInputs, type MassPrefetchKey } from './inputs.ts';
import { scoreCardiacMass } from './scores.ts';
import { cardiacMassCards } from './cards.ts';
import { massDetail } from './detail.ts';
import { MASS_MODELS, massWording } from './wording.ts';

export const cmrCardiacMass = defineService({
  id: 'cmr-cardiac-mass',
  hook: 'patient-view',
  title: 'Cardiac mass on CMR: malignancy, thrombus features and prognosis',
  description:
    'For patients with a cardiac mass: the CMR Mass Score (Paolisso 2024) with each feature, the CMR features ' +
    'favouring thrombus with their published accuracy (Pazos-López 2014), guidance, and 5-year mortality by ' +
    'recorded CMR diagnosis (Shenoy 2022). Says which features are missing; silent without a cardiac mass.',
  prefetch: {
    patient: () => 'Patient/{{context.patientId}}',
    conditions: (codes) => `Condition?patient={{context.patientId}}&code=${codes('cardiac-mass')}`,
    observations: (codes) => `Observation?patient={{context.patientId}}&code=${codes('cardiac-mass-observations')}&_count=200`,
  } satisfies Record<MassPrefetchKey, PrefetchTemplate>,
  // Without conditions and observations the service cannot tell whether a mass is recorded, and would
  // report features as missing that may well exist: 412 rather than a wrong card.
  requiredPrefetch: ['patient', 'conditions', 'observations'],
  topics: ['cardiac-mass'],
  models: MASS_MODELS,
  valueSets: [
    'cardiac-mass', 'cardiac-mass-finding', 'mass-diagnosis-thrombus-conditions', 'mass-diagnosis-malignant-conditions',
    'mass-diagnosis-benign-conditions', 'mass-diagnosis', 'mass-diagnosis-answers', 'mass-infiltration',
    'mass-first-pass-perfusion', 'mass-sessile', 'mass-polylobate', 'mass-pericardial-effusion',
    'mass-heterogeneous-enhancement', 'mass-ti-scout-thrombus-pattern', 'mass-lge', 'mass-homogeneous', 'mass-area',
    'mass-diameter', 'mass-post-contrast-t1', 'mass-location', 'cardiac-mass-observations',
  ],
  wording: massWording,
  // The mass features of the newest CMR study's DICOM SR (services/imaging-inputs.ts merges them).
  imaging: { cmr: true },
  gather(data, ev) {
    const inputs = gatherCardiacMassInputs(data, ev);
    // No cardiac mass: nothing to say (DESIGN.md, Clinicians).
    return inputs.applies ? inputs : undefined;
  },
  score: scoreCardiacMass,
  cards: cardiacMassCards,
  detail: massDetail,
});
