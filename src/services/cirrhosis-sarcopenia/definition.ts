// Discovery entry of the cirrhosis-sarcopenia service (CDS Hooks 2.0 §"Discovery").
// Prefetch templates use only CDS Hooks 2.0 tokens ({{context.patientId}}) and narrow by code with
// the ValueSets in profiles/. Epic and Oracle Health do not support `code` on every resource's
// search; FHIR servers ignore unsupported parameters by default (FHIR R4 §3.1.1.4 "lenient"
// handling), so the templates stay portable and the service re-checks every code locally.
import type { CdsServiceDescription } from '../../hooks/types.ts';
import { queryCodes } from '../../fhir/terminology.ts';

export const SERVICE_ID = 'cirrhosis-sarcopenia';

export const PREFETCH_KEYS = {
  patient: 'patient',
  conditions: 'conditions',
  observations: 'observations',
  procedures: 'procedures',
} as const;

export function cirrhosisDescription(): CdsServiceDescription & { prefetch: Record<string, string> } {
  return {
    hook: 'patient-view',
    id: SERVICE_ID,
    title: 'Cirrhosis prognosis with CT sarcopenia',
    description:
      'For patients with cirrhosis: MELD 3.0 (primary), MELD-Na, MELD, Child-Pugh and ALBI from recent labs, ' +
      'and the L3 skeletal muscle index with MELD-Sarcopenia. Says what is missing; silent without cirrhosis.',
    prefetch: {
      [PREFETCH_KEYS.patient]: 'Patient/{{context.patientId}}',
      [PREFETCH_KEYS.conditions]: `Condition?patient={{context.patientId}}&code=${queryCodes('cirrhosis-service-conditions')}`,
      [PREFETCH_KEYS.observations]: `Observation?patient={{context.patientId}}&code=${queryCodes('cirrhosis-observations')}&_count=200`,
      [PREFETCH_KEYS.procedures]: `Procedure?patient={{context.patientId}}&code=${queryCodes('dialysis')}`,
    },
  };
}
