// The cirrhosis-sarcopenia CDS service: MELD 3.0 family, Child-Pugh, ALBI, L3 SMI and MELD-Sarcopenia
// (MODELS.md section 3). Prefetch templates use only CDS Hooks 2.0 tokens ({{context.patientId}}) and
// narrow by code with the ValueSets in profiles/. Epic and Oracle Health do not support `code` on
// every resource's search; FHIR servers ignore unsupported parameters by default (FHIR R4 §3.1.1.4
// "lenient" handling), so the templates stay portable and the service re-checks every code locally.
import { defineService, type PrefetchTemplate } from '../define.ts';
import { gatherCirrhosisInputs, type CirrhosisPrefetchKey } from './inputs.ts';
import { scoreCirrhosis } from './scores.ts';
import { cirrhosisCards } from './cards.ts';
import { cirrhosisDetail } from './detail.ts';
import { CIRRHOSIS_MODELS, cirrhosisWording } from './wording.ts';

export const cirrhosisSarcopenia = defineService({
  id: 'cirrhosis-sarcopenia',
  hook: 'patient-view',
  title: 'Cirrhosis prognosis with CT sarcopenia',
  description:
    'For patients with cirrhosis: MELD 3.0 (primary), MELD-Na, MELD, Child-Pugh and ALBI from recent labs, ' +
    'and the L3 skeletal muscle index with MELD-Sarcopenia. Says what is missing; silent without cirrhosis.',
  prefetch: {
    patient: () => 'Patient/{{context.patientId}}',
    conditions: (codes) => `Condition?patient={{context.patientId}}&code=${codes('cirrhosis-service-conditions')}`,
    observations: (codes) => `Observation?patient={{context.patientId}}&code=${codes('cirrhosis-observations')}&_count=200`,
    procedures: (codes) => `Procedure?patient={{context.patientId}}&code=${codes('dialysis')}`,
  } satisfies Record<CirrhosisPrefetchKey, PrefetchTemplate>,
  // Without the patient and their conditions the service cannot tell whether it applies; without
  // observations it would report labs as missing that may well exist: 412 rather than a wrong card.
  requiredPrefetch: ['patient', 'conditions', 'observations'],
  topics: ['liver-prognosis', 'sarcopenia'],
  models: CIRRHOSIS_MODELS,
  valueSets: [
    'cirrhosis', 'cholestatic-liver-disease', 'ascites', 'hepatic-encephalopathy', 'bilirubin-total', 'creatinine', 'sodium',
    'albumin', 'inr', 'body-height', 'body-weight', 'bmi', 'l3-smi', 'l3-skeletal-muscle-area', 'ascites-severity',
    'hepatic-encephalopathy-grade', 'dialysis',
  ],
  wording: cirrhosisWording,
  // The L3 skeletal muscle area from a CT's DICOM SEG (imaging/seg-muscle.ts), with the FHIR height.
  imaging: { ct: true },
  gather(data, ev) {
    const inputs = gatherCirrhosisInputs(data, ev);
    // Not applicable without cirrhosis: nothing to say (DESIGN.md, Clinicians).
    return inputs.cirrhosis ? inputs : undefined;
  },
  score: scoreCirrhosis,
  cards: cirrhosisCards,
  detail: cirrhosisDetail,
});
