// Small builders of FHIR R4 test resources (dates relative to a fixed "now").
import type { Condition, Observation, Patient, Procedure } from 'fhir/r4.js';
import { LOINC, PROJECT_CODESYSTEM, SNOMED, UCUM } from '../../src/fhir/canonical.ts';

export const NOW = new Date('2026-11-20T12:00:00Z');
export const daysAgo = (d: number, from: Date = NOW): string => new Date(from.getTime() - d * 86_400_000).toISOString();

let seq = 0;
const nextId = (prefix: string): string => `${prefix}-${++seq}`;

export function patient(id: string, gender: Patient['gender'], birthDate: string): Patient {
  return { resourceType: 'Patient', id, gender, birthDate };
}

export function condition(patientId: string, system: string, code: string, extra: Partial<Condition> = {}): Condition {
  return {
    resourceType: 'Condition',
    id: nextId('cond'),
    subject: { reference: `Patient/${patientId}` },
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system, code }] },
    ...extra,
  };
}

export const snomedCondition = (patientId: string, code: string, extra: Partial<Condition> = {}): Condition =>
  condition(patientId, SNOMED, code, extra);

export function quantity(patientId: string, system: string, code: string, value: number, unit: string, when: string, extra: Partial<Observation> = {}): Observation {
  return {
    resourceType: 'Observation',
    id: nextId('obs'),
    status: 'final',
    code: { coding: [{ system, code }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: when,
    valueQuantity: { value, unit, system: UCUM, code: unit },
    ...extra,
  };
}

export const loinc = (patientId: string, code: string, value: number, unit: string, when: string, extra: Partial<Observation> = {}): Observation =>
  quantity(patientId, LOINC, code, value, unit, when, extra);

export const projectQuantity = (patientId: string, code: string, value: number, unit: string, when: string): Observation =>
  quantity(patientId, PROJECT_CODESYSTEM, code, value, unit, when);

export function projectValue(patientId: string, code: string, value: Partial<Observation>, when: string): Observation {
  return {
    resourceType: 'Observation',
    id: nextId('obs'),
    status: 'final',
    code: { coding: [{ system: PROJECT_CODESYSTEM, code }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: when,
    ...value,
  };
}

export function procedure(patientId: string, system: string, code: string, performed: Partial<Procedure>): Procedure {
  return {
    resourceType: 'Procedure',
    id: nextId('proc'),
    status: 'completed',
    subject: { reference: `Patient/${patientId}` },
    code: { coding: [{ system, code }] },
    ...performed,
  };
}
