// Discovery entry of the cmr-cardiac-mass service (CDS Hooks 2.0 §"Discovery"). Prefetch templates use
// only the CDS Hooks 2.0 token {{context.patientId}} and narrow by code with the ValueSets in profiles/
// (cardiac-mass for Conditions; cardiac-mass-observations, the union of every Observation code the
// service reads). Servers may ignore `code` (FHIR R4 §3.1.1.4 lenient handling): every code is
// re-checked locally.
import type { CdsServiceDescription } from '../../hooks/types.ts';
import { queryCodes } from '../../fhir/terminology.ts';

export const SERVICE_ID = 'cmr-cardiac-mass';

export const PREFETCH_KEYS = {
  patient: 'patient',
  conditions: 'conditions',
  observations: 'observations',
} as const;

export function cardiacMassDescription(): CdsServiceDescription & { prefetch: Record<string, string> } {
  return {
    hook: 'patient-view',
    id: SERVICE_ID,
    title: 'Cardiac mass on CMR: malignancy, thrombus features and prognosis',
    description:
      'For patients with a cardiac mass: the CMR Mass Score (Paolisso 2024) with each feature, the CMR features ' +
      'favouring thrombus with their published accuracy (Pazos-López 2014), guidance, and 5-year mortality by ' +
      'recorded CMR diagnosis (Shenoy 2022). Says which features are missing; silent without a cardiac mass.',
    prefetch: {
      [PREFETCH_KEYS.patient]: 'Patient/{{context.patientId}}',
      [PREFETCH_KEYS.conditions]: `Condition?patient={{context.patientId}}&code=${queryCodes('cardiac-mass')}`,
      [PREFETCH_KEYS.observations]: `Observation?patient={{context.patientId}}&code=${queryCodes('cardiac-mass-observations')}&_count=200`,
    },
  };
}
