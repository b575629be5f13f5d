// Demo patients of the cirrhosis-sarcopenia service (MODELS.md §3). Names are obviously fictional.
import {
  CODES,
  SEVERITY_MODERATE,
  ascitesSeverity,
  birthDateForAge,
  daysAgo,
  forPatient,
  icd10cm,
  type DemoClock,
  type DemoPatient,
} from './builders.ts';

/**
 * (a) Decompensated cirrhosis with sarcopenia, labs in SI units. Female, 58.
 * Bilirubin 68 µmol/L (3.98 mg/dL), creatinine 133 µmol/L (1.50 mg/dL), albumin 27 g/L, Na 129,
 * INR 1.9, moderate ascites, encephalopathy grade 2, L3 SMI 34.1 cm²/m² (< 39, Carey women).
 * Expected: MELD 3.0 ≈ 28.8 (29), MELD 23 / MELD-Na ≈ 27.5, Child-Pugh 13 (C), ALBI ≈ −1.09 (grade 3),
 * sarcopenia yes, MELD-Sarcopenia ≈ 33.4.
 */
export function decompensatedCirrhosis(clock: DemoClock): DemoPatient {
  const id = 'demo-cirrhosis-decompensated';
  const b = forPatient(id);
  const labs = daysAgo(clock, 2);
  const ct = daysAgo(clock, 12);
  return {
    id,
    scenario: 'Decompensated cirrhosis with ascites, encephalopathy and CT sarcopenia; labs in SI units',
    resources: [
      b.patient({ given: 'Greta', family: 'Example', gender: 'female', birthDate: birthDateForAge(clock, 58), mrn: 'DEMO-0001' }),
      b.condition({ key: 'cirrhosis', code: CODES.cirrhosis, onset: daysAgo(clock, 3 * 365) }),
      b.condition({ key: 'ascites', code: CODES.ascites, onset: daysAgo(clock, 40), severity: SEVERITY_MODERATE }),
      b.quantity('bilirubin', CODES.bilirubinMoles, 'laboratory', labs, 68, 'umol/L', 'µmol/L'),
      b.quantity('creatinine', CODES.creatinineMoles, 'laboratory', labs, 133, 'umol/L', 'µmol/L'),
      b.quantity('albumin', CODES.albumin, 'laboratory', labs, 27, 'g/L'),
      b.quantity('sodium', CODES.sodium, 'laboratory', labs, 129, 'mmol/L'),
      b.quantity('inr', CODES.inr, 'laboratory', labs, 1.9, '{INR}', 'INR'),
      // An older set of labs: the services must pick the most recent value.
      b.quantity('bilirubin-old', CODES.bilirubinMoles, 'laboratory', daysAgo(clock, 9), 51, 'umol/L', 'µmol/L'),
      b.quantity('creatinine-old', CODES.creatinineMoles, 'laboratory', daysAgo(clock, 9), 110, 'umol/L', 'µmol/L'),
      b.observation({
        key: 'ascites-severity', code: CODES.ascitesSeverity, category: 'exam', at: daysAgo(clock, 3),
        value: { concept: ascitesSeverity('moderate-severe') },
      }),
      b.observation({
        key: 'encephalopathy', code: CODES.encephalopathyGrade, category: 'exam', at: daysAgo(clock, 3),
        value: { integer: 2 },
      }),
      b.quantity('height', CODES.height, 'vital-signs', daysAgo(clock, 20), 165, 'cm'),
      b.quantity('weight', CODES.weight, 'vital-signs', daysAgo(clock, 3), 62, 'kg'),
      b.quantity('l3-muscle-area', CODES.l3MuscleArea, 'imaging', ct, 92.8, 'cm2', 'cm²'),
      b.quantity('l3-smi', CODES.l3Smi, 'imaging', ct, 34.1, 'cm2/m2', 'cm²/m²'),
    ],
  };
}

/**
 * (b) Compensated cirrhosis, conventional units, ICD-10-CM coded. Male, 61.
 * Bilirubin 1.1 mg/dL, creatinine 0.9 mg/dL, albumin 4.2 g/dL, Na 139, INR 1.1, no ascites,
 * encephalopathy grade 0, SMI 54.2 cm²/m² (≥ 50, Carey men).
 * Expected: MELD 3.0 ≈ 7.3 (7), MELD 8 / MELD-Na 8, Child-Pugh 5 (A), ALBI ≈ −2.73 (grade 1),
 * no sarcopenia, MELD-Sarcopenia 8.
 */
export function compensatedCirrhosis(clock: DemoClock): DemoPatient {
  const id = 'demo-cirrhosis-compensated';
  const b = forPatient(id);
  const labs = daysAgo(clock, 5);
  const ct = daysAgo(clock, 30);
  return {
    id,
    scenario: 'Compensated cirrhosis (ICD-10-CM K74.60), labs in conventional units, no ascites, normal muscle mass',
    resources: [
      b.patient({ given: 'Henrik', family: 'Sample', gender: 'male', birthDate: birthDateForAge(clock, 61), mrn: 'DEMO-0002' }),
      b.condition({ key: 'cirrhosis', code: icd10cm('K74.60', 'Unspecified cirrhosis of liver'), onset: daysAgo(clock, 2 * 365) }),
      b.quantity('bilirubin', CODES.bilirubinMass, 'laboratory', labs, 1.1, 'mg/dL'),
      b.quantity('creatinine', CODES.creatinineMass, 'laboratory', labs, 0.9, 'mg/dL'),
      b.quantity('albumin', CODES.albumin, 'laboratory', labs, 4.2, 'g/dL'),
      b.quantity('sodium', CODES.sodium, 'laboratory', labs, 139, 'mmol/L'),
      b.quantity('inr', CODES.inr, 'laboratory', labs, 1.1, '{INR}', 'INR'),
      // Two earlier full panels, outside the 30-day look-back (the cards ignore them; bilirubin in µmol/L
      // as another lab reported it): the detail view's MELD 3.0 trend recomputes the score at each date.
      ...[[120, 17, 0.8, 4.4, 140, 1.0], [60, 20, 0.9, 4.3, 138, 1.1]].flatMap(([days, bili, creat, alb, na, inr]) => {
        const at = daysAgo(clock, days!);
        return [
          b.quantity(`bilirubin-${days}d`, CODES.bilirubinMoles, 'laboratory', at, bili!, 'umol/L', 'µmol/L'),
          b.quantity(`creatinine-${days}d`, CODES.creatinineMass, 'laboratory', at, creat!, 'mg/dL'),
          b.quantity(`albumin-${days}d`, CODES.albumin, 'laboratory', at, alb!, 'g/dL'),
          b.quantity(`sodium-${days}d`, CODES.sodium, 'laboratory', at, na!, 'mmol/L'),
          b.quantity(`inr-${days}d`, CODES.inr, 'laboratory', at, inr!, '{INR}', 'INR'),
        ];
      }),
      b.observation({
        key: 'ascites-severity', code: CODES.ascitesSeverity, category: 'exam', at: daysAgo(clock, 5),
        value: { concept: ascitesSeverity('none') },
      }),
      b.observation({
        key: 'encephalopathy', code: CODES.encephalopathyGrade, category: 'exam', at: daysAgo(clock, 5),
        value: { integer: 0 },
      }),
      b.quantity('height', CODES.height, 'vital-signs', daysAgo(clock, 30), 178, 'cm'),
      b.quantity('weight', CODES.weight, 'vital-signs', daysAgo(clock, 5), 84, 'kg'),
      b.quantity('l3-muscle-area', CODES.l3MuscleArea, 'imaging', ct, 171.7, 'cm2', 'cm²'),
      b.quantity('l3-smi', CODES.l3Smi, 'imaging', ct, 54.2, 'cm2/m2', 'cm²/m²'),
    ],
  };
}

/** (c) No liver disease: hypertension only, some normal labs. Expected: no cirrhosis card. */
export function noLiverDisease(clock: DemoClock): DemoPatient {
  const id = 'demo-no-liver-disease';
  const b = forPatient(id);
  const labs = daysAgo(clock, 4);
  return {
    id,
    scenario: 'Hypertension only, no liver disease (no cirrhosis card expected)',
    resources: [
      b.patient({ given: 'Ines', family: 'Testcase', gender: 'female', birthDate: birthDateForAge(clock, 54), mrn: 'DEMO-0003' }),
      b.condition({ key: 'hypertension', code: CODES.hypertension, onset: daysAgo(clock, 5 * 365) }),
      b.quantity('creatinine', CODES.creatinineMoles, 'laboratory', labs, 78, 'umol/L', 'µmol/L'),
      b.quantity('sodium', CODES.sodium, 'laboratory', labs, 140, 'mmol/L'),
      b.quantity('bilirubin', CODES.bilirubinMoles, 'laboratory', labs, 9, 'umol/L', 'µmol/L'),
      b.quantity('albumin', CODES.albumin, 'laboratory', labs, 44, 'g/L'),
      b.quantity('height', CODES.height, 'vital-signs', daysAgo(clock, 60), 168, 'cm'),
      b.quantity('weight', CODES.weight, 'vital-signs', labs, 71, 'kg'),
      b.quantity('heart-rate', CODES.heartRate, 'vital-signs', labs, 72, '/min', 'beats/min'),
      b.quantity('sbp', CODES.systolicBp, 'vital-signs', labs, 146, 'mm[Hg]', 'mmHg'),
    ],
  };
}

/**
 * (d) Cirrhosis with missing labs: only bilirubin is recent; creatinine is 60 days old (outside the
 * 30-day look-back); no albumin, INR or sodium; no ascites/encephalopathy data. Male, 66.
 * Expected: MELD family and Child-Pugh declined, the card lists what is missing (once).
 */
export function cirrhosisMissingLabs(clock: DemoClock): DemoPatient {
  const id = 'demo-cirrhosis-missing-labs';
  const b = forPatient(id);
  return {
    id,
    scenario: 'Cirrhosis with missing labs: only a recent bilirubin; creatinine 60 days old; no INR or albumin',
    resources: [
      b.patient({ given: 'Jonas', family: 'Placeholder', gender: 'male', birthDate: birthDateForAge(clock, 66), mrn: 'DEMO-0004' }),
      b.condition({ key: 'cirrhosis', code: CODES.cirrhosis, onset: daysAgo(clock, 400) }),
      b.quantity('bilirubin', CODES.bilirubinMoles, 'laboratory', daysAgo(clock, 3), 42, 'umol/L', 'µmol/L'),
      b.quantity('creatinine', CODES.creatinineMoles, 'laboratory', daysAgo(clock, 60), 95, 'umol/L', 'µmol/L'),
      b.quantity('height', CODES.height, 'vital-signs', daysAgo(clock, 60), 174, 'cm'),
    ],
  };
}

/**
 * (l) Primary biliary cholangitis with cirrhosis (ICD-10-CM K74.3), conventional units. Female, 63.
 * Bilirubin 3.4 mg/dL, albumin 3.3 g/dL, INR 1.2, Na 136, creatinine 0.8 mg/dL, no ascites,
 * encephalopathy grade 0.
 * Expected: Child-Pugh with the PBC/PSC bilirubin bands (MODELS.md 3c): bilirubin 3.4 (< 4) 1 + albumin
 * 2 + INR 1 + ascites 1 + encephalopathy 1 = 6, class A (the standard bands would give bilirubin 3
 * points, 8, class B), and the card says which bands; MELD 3.0 ≈ 15.5 (15).
 */
export function primaryBiliaryCholangitis(clock: DemoClock): DemoPatient {
  const id = 'demo-cirrhosis-pbc';
  const b = forPatient(id);
  const labs = daysAgo(clock, 4);
  return {
    id,
    scenario: 'Primary biliary cholangitis with cirrhosis (K74.3): Child-Pugh with the cholestatic bilirubin bands',
    resources: [
      b.patient({ given: 'Sofia', family: 'Mockdata', gender: 'female', birthDate: birthDateForAge(clock, 63), mrn: 'DEMO-0012' }),
      b.condition({ key: 'pbc', code: icd10cm('K74.3', 'Primary biliary cirrhosis'), onset: daysAgo(clock, 6 * 365) }),
      b.quantity('bilirubin', CODES.bilirubinMass, 'laboratory', labs, 3.4, 'mg/dL'),
      b.quantity('creatinine', CODES.creatinineMass, 'laboratory', labs, 0.8, 'mg/dL'),
      b.quantity('albumin', CODES.albumin, 'laboratory', labs, 3.3, 'g/dL'),
      b.quantity('sodium', CODES.sodium, 'laboratory', labs, 136, 'mmol/L'),
      b.quantity('inr', CODES.inr, 'laboratory', labs, 1.2, '{INR}', 'INR'),
      b.observation({
        key: 'ascites-severity', code: CODES.ascitesSeverity, category: 'exam', at: labs,
        value: { concept: ascitesSeverity('none') },
      }),
      b.observation({ key: 'encephalopathy', code: CODES.encephalopathyGrade, category: 'exam', at: labs, value: { integer: 0 } }),
    ],
  };
}

export const cirrhosisPatients = [decompensatedCirrhosis, compensatedCirrhosis, noLiverDisease, cirrhosisMissingLabs, primaryBiliaryCholangitis];
