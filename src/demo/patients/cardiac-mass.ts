// Demo patients of the cmr-cardiac-mass service (MODELS.md §2). Names are obviously fictional.
// A CMR mass report is one `cardiac-mass` finding (hasMember → its features), one Observation per
// feature (boolean), and the size and location.
import type { CodeableConcept, Observation } from 'fhir/r4.js';
import { CODES, birthDateForAge, daysAgo, forPatient, massLocation, type DemoClock, type DemoPatient } from './builders.ts';

type Builders = ReturnType<typeof forPatient>;

interface MassReport {
  at: Date;
  /** Project code (ValueSet mass-location-answers) and the matching SNOMED CT body structure. */
  location: { answer: CodeableConcept; bodySite: CodeableConcept };
  features: Partial<Record<
    'infiltration' | 'firstPass' | 'sessile' | 'polylobate' | 'effusion' | 'heterogeneous' | 'tiScout' | 'lge' | 'homogeneous',
    boolean
  >>;
  areaCm2?: number;
  diameterCm?: number;
  /** T1 of the mass after contrast (the Pazos-López feature), ms. */
  postContrastT1Ms?: number;
}

const FEATURE_CODES = {
  infiltration: ['mass-infiltration', CODES.massInfiltration],
  firstPass: ['mass-first-pass', CODES.massFirstPass],
  sessile: ['mass-sessile', CODES.massSessile],
  polylobate: ['mass-polylobate', CODES.massPolylobate],
  effusion: ['mass-effusion', CODES.massEffusion],
  heterogeneous: ['mass-heterogeneous', CODES.massHeterogeneous],
  tiScout: ['mass-ti-scout', CODES.massTiScout],
  lge: ['mass-lge', CODES.massLge],
  homogeneous: ['mass-homogeneous', CODES.massHomogeneous],
} as const;

function massObservations(b: Builders, r: MassReport): Observation[] {
  const members: Observation[] = [];
  for (const [name, value] of Object.entries(r.features)) {
    if (value === undefined) continue;
    const [key, code] = FEATURE_CODES[name as keyof typeof FEATURE_CODES];
    members.push(b.flag(key, code, 'imaging', r.at, value));
  }
  if (r.areaCm2 !== undefined) members.push(b.quantity('mass-area', CODES.massArea, 'imaging', r.at, r.areaCm2, 'cm2', 'cm²'));
  if (r.diameterCm !== undefined) members.push(b.quantity('mass-diameter', CODES.massDiameter, 'imaging', r.at, r.diameterCm, 'cm'));
  members.push(
    b.observation({ key: 'mass-location', code: CODES.massLocation, category: 'imaging', at: r.at, value: { concept: r.location.answer } }),
  );
  if (r.postContrastT1Ms !== undefined) members.push(b.quantity('mass-post-contrast-t1', CODES.massPostContrastT1, 'imaging', r.at, r.postContrastT1Ms, 'ms'));
  const finding = b.observation({
    key: 'mass', code: CODES.cardiacMass, category: 'imaging', at: r.at, value: { boolean: true }, bodySite: r.location.bodySite,
  });
  finding.hasMember = members.map((m) => ({ reference: `Observation/${m.id ?? ''}` }));
  return [finding, ...members];
}

/**
 * (g) Likely malignant mass in the right atrium. Female, 52.
 * Infiltration, first-pass perfusion, heterogeneous enhancement, pericardial effusion, sessile;
 * not polylobate; 9 cm², 4.5 cm. Expected: CMR Mass Score 2 + 2 + 1 + 1 + 1 = 7 (≥ 5: likely
 * malignant); no feature favours thrombus; Shenoy 5-year mortality for malignant masses 73 %.
 */
export function malignantMass(clock: DemoClock): DemoPatient {
  const id = 'demo-mass-malignant';
  const b = forPatient(id);
  return {
    id,
    scenario: 'Right atrial mass with infiltration, perfusion and effusion (likely malignant)',
    resources: [
      b.patient({ given: 'Marta', family: 'Mockup', gender: 'female', birthDate: birthDateForAge(clock, 52), mrn: 'DEMO-0007' }),
      ...massObservations(b, {
        at: daysAgo(clock, 4),
        location: { answer: massLocation('right-atrium'), bodySite: CODES.rightAtrium },
        features: {
          infiltration: true, firstPass: true, sessile: true, polylobate: false, effusion: true, heterogeneous: true,
          tiScout: false, lge: true, homogeneous: false,
        },
        areaCm2: 9,
        diameterCm: 4.5,
      }),
    ],
  };
}

/**
 * (h) Likely left ventricular thrombus after an anterior MI 2 months ago. Male, 64.
 * TI-scout thrombus pattern, no LGE, no first-pass perfusion, homogeneous, 2.1 cm², 1.5 cm,
 * post-contrast T1 of the mass 480 ms (≥ 422). Expected: all seven Pazos-López features favour thrombus; CMR Mass
 * Score 1 (sessile only: benign range); anticoagulation guidance; Shenoy thrombus 5-year mortality 36 %.
 */
export function likelyThrombus(clock: DemoClock): DemoPatient {
  const id = 'demo-mass-thrombus';
  const b = forPatient(id);
  const cmr = daysAgo(clock, 3);
  return {
    id,
    scenario: 'Left ventricular mass after anterior myocardial infarction (thrombus pattern)',
    resources: [
      b.patient({ given: 'Nils', family: 'Synthetic', gender: 'male', birthDate: birthDateForAge(clock, 64), mrn: 'DEMO-0008' }),
      b.condition({ key: 'mi', code: { ...CODES.mi, text: 'Anterior myocardial infarction' }, onset: daysAgo(clock, 60) }),
      b.condition({ key: 'thrombus', code: CODES.thrombus, onset: cmr, bodySite: CODES.leftVentricle }),
      b.quantity('cmr-lvef', CODES.lvefMr, 'imaging', cmr, 38, '%'),
      ...massObservations(b, {
        at: cmr,
        location: { answer: massLocation('left-ventricle'), bodySite: CODES.leftVentricle },
        features: {
          infiltration: false, firstPass: false, sessile: true, polylobate: false, effusion: false, heterogeneous: false,
          tiScout: true, lge: false, homogeneous: true,
        },
        areaCm2: 2.1,
        diameterCm: 1.5,
        postContrastT1Ms: 480,
      }),
    ],
  };
}

/**
 * (j) Left atrial mass with key features missing (no infiltration, perfusion, enhancement or
 * sessile/effusion assessment; only polylobate and the diameter). Male, 47.
 * Expected: CMR Mass Score partial: 1 point known, 1–8 possible (indeterminate), missing listed.
 */
export function massMissingFeatures(clock: DemoClock): DemoPatient {
  const id = 'demo-mass-missing-features';
  const b = forPatient(id);
  return {
    id,
    scenario: 'Left atrial mass, incomplete CMR report (most mass features not assessed)',
    resources: [
      b.patient({ given: 'Pavel', family: 'Notreal', gender: 'male', birthDate: birthDateForAge(clock, 47), mrn: 'DEMO-0010' }),
      ...massObservations(b, {
        at: daysAgo(clock, 6),
        location: { answer: massLocation('left-atrium'), bodySite: CODES.leftAtrium },
        features: { polylobate: true },
        diameterCm: 3.2,
      }),
    ],
  };
}

export const cardiacMassPatients = [malignantMass, likelyThrombus, massMissingFeatures];
