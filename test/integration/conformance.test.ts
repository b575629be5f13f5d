// The demo data and the services' output conform to the profiles in profiles/, checked with a FHIR
// validation library (medplum's validator via src/fhir/profile-validator.ts), not by hand.
import type { FhirResource, Observation, RiskAssessment } from 'fhir/r4.js';
import { createProfileValidator } from '../../src/fhir/profile-validator.ts';
import { demoPatients } from '../../src/demo/patients/index.ts';
import { PROJECT_CODESYSTEM } from '../../src/fhir/canonical.ts';
import type { ResolvedPrefetch } from '../../src/services/types.ts';
import { createEvaluation } from '../../src/services/evaluation.ts';
import { testRuntime } from '../support/runtime.ts';

const now = new Date();
const patients = demoPatients(now);
const { validateAgainstProfile } = createProfileValidator();

describe('demo data', () => {
  const all = patients.flatMap((p) => p.resources);

  test.each(all.map((r) => [`${r.resourceType}/${r.id ?? '?'}`, r] as const))('%s is valid FHIR R4', (_name, resource) => {
    expect(validateAgainstProfile(resource)).toEqual([]);
  });

  const projectObservations = all.filter((r): r is Observation => r.resourceType === 'Observation'
    && (r.code.coding ?? []).some((c) => c.system === PROJECT_CODESYSTEM));
  test('demo patients carry project-coded measurements', () => {
    expect(projectObservations.length).toBeGreaterThan(20);
  });
  test.each(projectObservations.map((o) => [`Observation/${o.id ?? '?'} (${o.code.coding?.[0]?.code ?? ''})`, o] as const))(
    '%s conforms to cmr-measurement', (_name, o) => {
      expect(validateAgainstProfile(o, 'cmr-measurement')).toEqual([]);
    },
  );
});

describe('service output', () => {
  const runtime = testRuntime();
  const services = runtime.services;
  const riskAssessments: Array<[string, RiskAssessment]> = [];
  for (const p of patients) {
    const byType = (t: string): FhirResource[] => p.resources.filter((r) => r.resourceType === t);
    const patient = byType('Patient')[0] ?? null;
    const data: ResolvedPrefetch = {
      patient, conditions: byType('Condition'), observations: byType('Observation'), procedures: byType('Procedure'),
      bloodPressure: byType('Observation'), encounter: null,
    };
    for (const s of services) {
      const cards = s.evaluate(data, createEvaluation(runtime, {
        hookInstance: 'conformance', patientId: p.id, userId: 'Practitioner/x', now, unavailable: [],
      }));
      for (const c of cards) {
        for (const a of c.suggestions?.flatMap((sg) => sg.actions ?? []) ?? []) {
          riskAssessments.push([`${s.description.id} / ${p.id} / ${(a.resource as RiskAssessment).method?.coding?.[0]?.code ?? '?'}`, a.resource as RiskAssessment]);
        }
      }
    }
  }

  test('the demo patients produce RiskAssessment suggestions from every service', () => {
    const services = new Set(riskAssessments.map(([name]) => name.split(' / ')[0]));
    expect([...services].sort()).toEqual(runtime.services.map((s) => s.description.id).sort());
  });

  test.each(riskAssessments)('%s conforms to cds-risk-assessment', (_name, ra) => {
    expect(ra.meta?.profile).toContain('https://fhir.imaging-cds.example.org/StructureDefinition/cds-risk-assessment');
    expect(validateAgainstProfile(ra, 'cds-risk-assessment')).toEqual([]);
  });
});
