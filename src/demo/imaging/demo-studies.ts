// The demo patients' imaging, matching src/demo/patients/: the archive's PatientID is the demo MRN
// (Patient.identifier system DEMO_MRN_SYSTEM, i.e. DICOMWEB_PATIENT_ID_SYSTEM). Where FHIR and DICOM
// report the same CMR or CT, the values agree; two patients have a NEWER study in the archive with
// different values, so the services can show "newest wins" and where each number came from:
//   demo-chronic-ihd         FHIR CMR 45 days ago (LVEF 52 %) → DICOM CMR 10 days ago (LVEF 49 %)
//   demo-cirrhosis-compensated  FHIR CT 30 days ago (171.7 cm²) → DICOM CT 7 days ago (168.96 cm²)
import type { DemoClock } from '../patients/builders.ts';
import { buildCmrStudy, type CmrStudySpec } from './cmr-study.ts';
import { buildCtPhantom } from './ct-phantom.ts';
import { uidFor, type PatientStudy } from './dicom-builders.ts';

export interface DemoImagingPatient {
  /** The FHIR Patient id of src/demo/patients. */
  fhirId: string;
  /** The archive's PatientID: the patient's demo MRN. */
  mrn: string;
  files: Uint8Array[];
  /** What the imaging layer must read for this patient (for tests and the demo page). */
  expected: { cmr?: Record<string, number | boolean>; mass?: Record<string, number | boolean | string>; muscleAreaCm2?: number };
}

const DAY_MS = 86_400_000;
const dicomDate = (clock: DemoClock, daysAgo: number): string => new Date(clock.now.getTime() - daysAgo * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '');

/** A CMR protocol as a Siemens scanner names its series (sources in series-patterns.json). */
export const DEMO_CMR_SERIES: CmrStudySpec['series'] = [
  { description: 'tfl_loc_short-axis_iPAT', instances: 1 },
  { description: 'trufi_cine_sax', instances: 2, cardiacNumberOfImages: 25 },
  { description: 'TI-Scout', instances: 1 },
  { description: 'MOLLI 5(3)3 SAX', instances: 1 },
  { description: 'T2Map_SAX', instances: 1 },
  { description: 'de_psir_sax', instances: 2 },
  { description: 'MOLLI_post', instances: 1 },
];

function study(clock: DemoClock, mrn: string, name: string, key: string, daysAgo: number, description: string): PatientStudy {
  return { patientId: mrn, patientName: name, studyUid: uidFor(`demo/${key}`), studyDate: dicomDate(clock, daysAgo), studyTime: '091500', studyDescription: description };
}

export function demoImagingPatients(clock: DemoClock): DemoImagingPatient[] {
  const stemi = buildCmrStudy({
    patient: study(clock, 'DEMO-0005', 'Demoson^Karl', 'stemi-cmr', 1, 'CMR VIABILITY'),
    seed: 'demo/stemi-cmr',
    series: DEMO_CMR_SERIES,
    report: {
      contentDate: dicomDate(clock, 1),
      measurements: {
        lvef: 35, lvEdv: 182, lvEsv: 118, lvMass: 141, infarctSize: 28, mvo: 2.1, mvoSegments: 3, laReservoirStrain: 18, lvGls: -11,
        haemorrhage: true, nativeT1: { value: 1180, series: 'MOLLI 5(3)3 SAX' }, t2: { value: 62, series: 'T2Map_SAX' },
      },
    },
  });
  const chronic = buildCmrStudy({
    patient: study(clock, 'DEMO-0006', 'Fictive^Lena', 'chronic-cmr', 10, 'CMR FUNCTION/LGE'),
    seed: 'demo/chronic-cmr',
    series: DEMO_CMR_SERIES,
    report: {
      contentDate: dicomDate(clock, 10),
      measurements: {
        lvef: 49, infarctSize: 9, mvo: 0, laReservoirStrain: 27, lvGls: -16, ecv: 28,
        nativeT1: { value: 1025, series: 'MOLLI 5(3)3 SAX' }, t2: { value: 50, series: 'T2Map_SAX' },
      },
    },
  });
  const malignant = buildCmrStudy({
    patient: study(clock, 'DEMO-0007', 'Mockup^Marta', 'malignant-cmr', 4, 'CMR CARDIAC MASS'),
    seed: 'demo/malignant-cmr',
    series: DEMO_CMR_SERIES,
    report: {
      contentDate: dicomDate(clock, 4),
      measurements: {},
      mass: {
        features: {
          infiltration: true, 'first-pass-perfusion': true, sessile: true, polylobate: false, 'pericardial-effusion': true,
          'heterogeneous-enhancement': true, 'ti-scout-thrombus-pattern': false, lge: true, homogeneous: false,
        },
        areaCm2: 9, diameterCm: 4.5, location: 'right-atrium',
      },
    },
  });
  const thrombus = buildCmrStudy({
    patient: study(clock, 'DEMO-0008', 'Synthetic^Nils', 'thrombus-cmr', 3, 'CMR CARDIAC MASS'),
    seed: 'demo/thrombus-cmr',
    series: DEMO_CMR_SERIES,
    report: {
      contentDate: dicomDate(clock, 3),
      measurements: { lvef: 38 },
      mass: {
        features: {
          infiltration: false, 'first-pass-perfusion': false, sessile: true, polylobate: false, 'pericardial-effusion': false,
          'heterogeneous-enhancement': false, 'ti-scout-thrombus-pattern': true, lge: false, homogeneous: true,
        },
        areaCm2: 2.1, diameterCm: 1.5, location: 'left-ventricle', postContrastT1: { value: 480, series: 'MOLLI_post' },
      },
    },
  });
  // 0.8 × 0.8 mm pixels: 0.0064 cm² each. 14 500 px = 92.8 cm² (FHIR: 92.8 cm², SMI 34.1 at 1.65 m).
  const decompensated = buildCtPhantom({
    patient: study(clock, 'DEMO-0001', 'Example^Greta', 'decompensated-ct', 12, 'CT ABDOMEN/PELVIS'),
    seed: 'demo/decompensated-ct', rows: 256, columns: 256, pixelSpacing: [0.8, 0.8], slices: 3, l3Slice: 1, l3Segment: true,
    musclePixels: 14_498, contentDate: dicomDate(clock, 12),
  });
  // 26 400 px = 168.96 cm² (SMI 53.3 at 1.78 m: no sarcopenia, as the FHIR value says).
  const compensated = buildCtPhantom({
    patient: study(clock, 'DEMO-0002', 'Sample^Henrik', 'compensated-ct', 7, 'CT ABDOMEN'),
    seed: 'demo/compensated-ct', rows: 256, columns: 256, pixelSpacing: [0.8, 0.8], slices: 3, l3Slice: 1, l3Segment: true,
    musclePixels: 26_398, contentDate: dicomDate(clock, 7), pixelRepresentation: 1, intercept: 0, bitsStored: 16,
  });
  return [
    {
      fhirId: 'demo-stemi-high-risk', mrn: 'DEMO-0005', files: stemi.files,
      expected: { cmr: { lvef: 35, infarctSize: 28, mvo: 2.1, mvoSegments: 3, laReservoirStrain: 18, lvGls: -11, nativeT1: 1180, t2: 62, haemorrhage: true, lvEdv: 182, lvEsv: 118, lvMass: 141 } },
    },
    {
      fhirId: 'demo-chronic-ihd', mrn: 'DEMO-0006', files: chronic.files,
      expected: { cmr: { lvef: 49, infarctSize: 9, mvo: 0, laReservoirStrain: 27, lvGls: -16, ecv: 28, nativeT1: 1025, t2: 50 } },
    },
    {
      fhirId: 'demo-mass-malignant', mrn: 'DEMO-0007', files: malignant.files,
      expected: { mass: { finding: true, infiltration: true, firstPassPerfusion: true, sessile: true, polylobate: false, pericardialEffusion: true, heterogeneousEnhancement: true, tiScoutTypical: false, lgePresent: true, homogeneous: false, areaCm2: 9, diameterCm: 4.5, location: 'right-atrium' } },
    },
    {
      fhirId: 'demo-mass-thrombus', mrn: 'DEMO-0008', files: thrombus.files,
      expected: { cmr: { lvef: 38 }, mass: { finding: true, infiltration: false, firstPassPerfusion: false, sessile: true, polylobate: false, pericardialEffusion: false, heterogeneousEnhancement: false, tiScoutTypical: true, lgePresent: false, homogeneous: true, areaCm2: 2.1, diameterCm: 1.5, location: 'left-ventricle', postContrastT1: 480 } },
    },
    { fhirId: 'demo-cirrhosis-decompensated', mrn: 'DEMO-0001', files: decompensated.files, expected: { muscleAreaCm2: decompensated.expectedAreaCm2 } },
    { fhirId: 'demo-cirrhosis-compensated', mrn: 'DEMO-0002', files: compensated.files, expected: { muscleAreaCm2: compensated.expectedAreaCm2 } },
  ];
}
