// The benchmark's FHIR data: the demo patients, plus
//  - a lab history for 'demo-cirrhosis-decompensated' (SYNTHETIC_LABS older results, inside and
//    outside the 30-day look-back), so that its cirrhosis prefetch totals about 100 resources;
//  - 'bench-composite', one patient whose chart triggers all three services (the decompensated
//    cirrhosis, the high-risk STEMI and the malignant mass re-homed to one subject, with the same
//    lab history), for the patient-view "call set" of scenario (d).
// Everything is built relative to `now`; the FHIR child and the parent agree on it via BENCH_NOW.
import type { FhirResource, Patient } from 'fhir/r4.js';
import { demoPatients, demoResources } from '../src/demo/patients/index.ts';
import { CODES, daysAgo, forPatient, type DemoClock } from '../src/demo/patients/builders.ts';

export const CIRRHOSIS_PATIENT = 'demo-cirrhosis-decompensated';
export const COMPOSITE_PATIENT = 'bench-composite';
export const SYNTHETIC_LABS = 90;
/**
 * The small-body scenario (s): the high-risk STEMI demo chart as cmr-ihd-macce prefetches it (about
 * 25 resources, 22 kB), a call whose fixed costs (HTTP, JWT, threads, store) weigh most.
 */
export const SMALL_BODY_PATIENT = 'demo-stemi-high-risk';
export const SMALL_BODY_SERVICE = 'cmr-ihd-macce';

/**
 * `count` older labs (bilirubin, creatinine, albumin, sodium, INR in SI units, as the patient's own
 * labs): a set every 4 days from 3 days ago, so about a third fall inside the 30-day look-back and
 * the rest outside it. All are older than the patient's current labs (2 days ago), so the card is
 * the same as without them; the service still has to read, code-match and sort every one.
 */
export function labHistory(patientId: string, clock: DemoClock, count = SYNTHETIC_LABS): FhirResource[] {
  const b = forPatient(patientId);
  const kinds = [
    { name: 'bilirubin', code: CODES.bilirubinMoles, unit: 'umol/L', display: 'µmol/L', base: 55, step: 3 },
    { name: 'creatinine', code: CODES.creatinineMoles, unit: 'umol/L', display: 'µmol/L', base: 115, step: 4 },
    { name: 'albumin', code: CODES.albumin, unit: 'g/L', display: 'g/L', base: 29, step: 0.5 },
    { name: 'sodium', code: CODES.sodium, unit: 'mmol/L', display: 'mmol/L', base: 132, step: 1 },
    { name: 'inr', code: CODES.inr, unit: '{INR}', display: 'INR', base: 1.6, step: 0.05 },
  ] as const;
  const out: FhirResource[] = [];
  for (let i = 0; i < count; i++) {
    const k = kinds[i % kinds.length]!;
    const set = Math.floor(i / kinds.length);
    const at = daysAgo(clock, 3 + set * 4);
    const value = Math.round((k.base + ((set % 5) - 2) * k.step) * 100) / 100;
    out.push(b.quantity(`bench-lab-${i}-${k.name}`, k.code, 'laboratory', at, value, k.unit, k.display));
  }
  return out;
}

/** Copies a demo patient's resources onto another subject (ids prefixed, references rewritten). */
export function rehome(resources: FhirResource[], fromId: string, toId: string, tag: string): FhirResource[] {
  return resources
    .filter((r) => !(r.resourceType === 'Patient' && r.id === fromId))
    .map((r) => {
      const json = JSON.stringify(r)
        .replaceAll(`"Patient/${fromId}"`, `"Patient/${toId}"`)
        .replaceAll(`${fromId}-`, `${toId}-${tag}-`);
      return JSON.parse(json) as FhirResource;
    });
}

/**
 * Only the scenario (a)/(b) patient's chart (its demo resources and lab history): the FHIR server of
 * scenario (b). medplum's MemoryRepository answers a search by scanning every resource of the type
 * and evaluating FHIRPath on each, so its latency grows with everything else it holds; a server with
 * just this chart keeps (b) about the service rather than about the test server's data size.
 */
export function cirrhosisChart(now: Date): FhirResource[] {
  const patient = demoPatients(now).find((p) => p.id === CIRRHOSIS_PATIENT);
  if (!patient) throw new Error(`demo patient ${CIRRHOSIS_PATIENT} not found`);
  return [...patient.resources, ...labHistory(CIRRHOSIS_PATIENT, { now })];
}

export function benchResources(now: Date): FhirResource[] {
  const clock = { now };
  const patients = demoPatients(now);
  const byId = new Map(patients.map((p) => [p.id, p]));
  const get = (id: string) => {
    const p = byId.get(id);
    if (!p) throw new Error(`demo patient ${id} not found`);
    return p.resources;
  };
  const cirrhosis = get(CIRRHOSIS_PATIENT);
  const cirrhosisPatient = cirrhosis.find((r): r is Patient => r.resourceType === 'Patient' && r.id === CIRRHOSIS_PATIENT);
  if (!cirrhosisPatient) throw new Error('cirrhosis demo Patient resource not found');
  const composite: FhirResource[] = [
    { ...cirrhosisPatient, id: COMPOSITE_PATIENT, identifier: [{ system: 'urn:bench', value: 'BENCH-0001' }] },
    ...rehome(cirrhosis, CIRRHOSIS_PATIENT, COMPOSITE_PATIENT, 'liver'),
    ...labHistory(COMPOSITE_PATIENT, clock),
    ...rehome(get('demo-stemi-high-risk'), 'demo-stemi-high-risk', COMPOSITE_PATIENT, 'stemi'),
    ...rehome(get('demo-mass-malignant'), 'demo-mass-malignant', COMPOSITE_PATIENT, 'mass'),
  ];
  return [...demoResources(patients), ...labHistory(CIRRHOSIS_PATIENT, clock), ...composite];
}
