// DICOM coded entries → FHIR codings, and the few DICOM codes the readers act on. Coding scheme
// designators and their FHIR systems: DICOM PS3.16 Table 8-1 "Coding Schemes" and the FHIR
// terminology page for DICOM (http://dicom.nema.org/resources/ontology/DCM). Codes verified in the
// DICOM CIDs rendered as FHIR (bvdh/dicom-terminology-in-fhir): CID 230 Yes-No, CID 240
// Present-Absent, CID 7603 Vertebra, TID 1501 concept names.
import type { Coding } from 'fhir/r4.js';
import { LOINC, PROJECT_CODESYSTEM, SNOMED, UCUM } from '../fhir/canonical.ts';
import type { DicomCode } from './dicom-json.ts';

export const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

/**
 * The project's own codes inside DICOM objects: a private coding scheme designator (PS3.16 8.2:
 * private schemes begin with "99"), the same codes as the imaging-cds CodeSystem.
 */
export const PROJECT_SCHEME_DESIGNATOR = '99IMGCDS';

const SYSTEMS: Record<string, string> = {
  DCM,
  LN: LOINC,
  SCT: SNOMED,
  UCUM,
  [PROJECT_SCHEME_DESIGNATOR]: PROJECT_CODESYSTEM,
};

export function toCoding(code: DicomCode): Coding | undefined {
  const system = SYSTEMS[code.scheme.toUpperCase()] ?? SYSTEMS[code.scheme];
  return system ? { system, code: code.value, ...(code.meaning ? { display: code.meaning } : {}) } : undefined;
}

const is = (c: DicomCode | undefined, scheme: string, value: string): boolean => c?.scheme === scheme && c.value === value;

/** TID 1501 "Finding" (DCM 121071) and "Source series for segmentation" (DCM 121232). */
export const isFindingConcept = (c: DicomCode | undefined): boolean => is(c, 'DCM', '121071');
export const isSourceSeriesConcept = (c: DicomCode | undefined): boolean => is(c, 'DCM', '121232');

/** CID 240 Present (SCT 52101004) / Absent (SCT 272519000); CID 230 Yes (373066001) / No (373067005). */
export function booleanOf(c: DicomCode | undefined): boolean | undefined {
  if (is(c, 'SCT', '52101004') || is(c, 'SCT', '373066001')) return true;
  if (is(c, 'SCT', '272519000') || is(c, 'SCT', '373067005')) return false;
  return undefined;
}

/** SNOMED CT 127954009 "Skeletal muscle" (segmented property type of a muscle SEG). */
export const isSkeletalMuscle = (c: DicomCode | undefined): boolean => is(c, 'SCT', '127954009');
/** SNOMED CT 36470004 "L3 vertebra" (CID 7603). */
export const isL3Vertebra = (c: DicomCode | undefined): boolean => is(c, 'SCT', '36470004');

/** The cardiac-mass finding: the project code, as TID 1501 Finding of a mass measurement group. */
export const isCardiacMassFinding = (c: DicomCode | undefined): boolean => is(c, PROJECT_SCHEME_DESIGNATOR, 'cardiac-mass');
