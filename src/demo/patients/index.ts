// All synthetic demo patients, built relative to `now` (dates never go stale).
import type { FhirResource } from 'fhir/r4.js';
import type { DemoPatient } from './builders.ts';
import { cirrhosisPatients } from './cirrhosis.ts';
import { ischemicPatients } from './ischemic.ts';
import { cardiacMassPatients } from './cardiac-mass.ts';

export type { DemoPatient };

export function demoPatients(now: Date = new Date()): DemoPatient[] {
  const clock = { now };
  return [...cirrhosisPatients, ...ischemicPatients, ...cardiacMassPatients].map((build) => build(clock));
}

export function demoResources(patients: DemoPatient[]): FhirResource[] {
  return patients.flatMap((p) => p.resources);
}
