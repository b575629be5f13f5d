// Discovery entry of the cmr-ihd-macce service (CDS Hooks 2.0 §"Discovery").
// Prefetch templates use only CDS Hooks 2.0 tokens and narrow by code with the ValueSets in
// profiles/ (unions cmr-ihd-macce-conditions, -observations and -procedures). Servers that ignore
// an unsupported parameter (FHIR R4 §3.1.1.4 lenient handling) return a superset; the service
// re-checks every code locally.
import type { CdsServiceDescription } from '../../hooks/types.ts';
import { queryCodes } from '../../fhir/terminology.ts';

export const SERVICE_ID = 'cmr-ihd-macce';

export const PREFETCH_KEYS = {
  patient: 'patient',
  conditions: 'conditions',
  observations: 'observations',
  /**
   * Blood pressure is usually sent as a panel (LOINC 85354-9) holding systolic 8480-6 as a component,
   * which a `code` search does not find; `combo-code` (R4 Observation search parameter) matches code
   * or component code. Optional: without it, only stand-alone systolic results are seen.
   */
  bloodPressure: 'bloodPressure',
  procedures: 'procedures',
  /** The context encounter: its start is the admission anchor when it began within 24 h of the MI onset. */
  encounter: 'encounter',
} as const;

export function cmrIhdMacceDescription(): CdsServiceDescription & { prefetch: Record<string, string> } {
  return {
    hook: 'patient-view',
    id: SERVICE_ID,
    title: 'MACCE risk after myocardial infarction (CMR, GRACE, TIMI)',
    description:
      'For patients with ischaemic heart disease or myocardial infarction: after an acute STEMI, the CMR risk score ' +
      '(Marcos-Garcés 2022) with GRACE and TIMI STEMI; after an acute NSTEMI, GRACE; and single CMR markers with their ' +
      'published weight. Says what is missing; silent without ischaemic heart disease.',
    prefetch: {
      [PREFETCH_KEYS.patient]: 'Patient/{{context.patientId}}',
      [PREFETCH_KEYS.conditions]: `Condition?patient={{context.patientId}}&code=${queryCodes('cmr-ihd-macce-conditions')}`,
      [PREFETCH_KEYS.observations]: `Observation?patient={{context.patientId}}&code=${queryCodes('cmr-ihd-macce-observations')}&_count=200`,
      [PREFETCH_KEYS.bloodPressure]: `Observation?patient={{context.patientId}}&combo-code=${queryCodes('systolic-bp')}&_count=200`,
      [PREFETCH_KEYS.procedures]: `Procedure?patient={{context.patientId}}&code=${queryCodes('cmr-ihd-macce-procedures')}`,
      [PREFETCH_KEYS.encounter]: 'Encounter/{{context.encounterId}}',
    },
  };
}
