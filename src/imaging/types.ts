// The imaging layer's contract with the services' gather step (readImaging in imaging-reader.ts).
// Inputs are keyed by the names the services use for the same facts from FHIR
// (src/services/*/inputs.ts), each an Input with `source: "dicom:<SOP Instance UID>"`.
import type { Input } from '../models/types.ts';
import type { CmrMarkerInputs } from '../models/cmr-markers.ts';
import type { CmrMassScoreInputs } from '../models/cmr-mass-score.ts';
import type { ThrombusFeatureInputs } from '../models/thrombus-features.ts';
import type { SeriesClass } from './series-classifier.ts';

/** Configuration of the layer (src/config.ts reads it from the environment). */
export interface ImagingConfig {
  /** DICOMweb base URL (QIDO-RS/WADO-RS root); without it imaging is off. */
  dicomWebUrl?: string;
  /** Authorization header value sent to the archive; never logged. */
  authorization?: string;
  /** Patient.identifier system whose value is the archive's PatientID; absent → the FHIR Patient id. */
  patientIdSystem?: string;
  /** "Open images" link template, e.g. https://viewer.example.org/viewer?StudyInstanceUIDs={StudyInstanceUID} */
  viewerUrlTemplate?: string;
  /** Seconds QIDO answers are kept per patient (0 = no cache). */
  qidoCacheTtlS: number;
  /** Per-request timeout (ms); the caller's deadline applies as well. */
  requestTimeoutMs: number;
  /** Largest response body accepted (bytes); larger answers make imaging unavailable. */
  maxResponseBytes: number;
  /** Concurrent archive requests of one call, and of the whole process. */
  callConcurrency: number;
  processConcurrency: number;
  /** SEG segment labels taken as skeletal muscle besides SNOMED CT 127954009 (e.g. TotalSegmentator's). */
  muscleSegmentLabels: string[];
  /** SEG segment labels taken as the L3 vertebra besides SNOMED CT 36470004. */
  l3SegmentLabels: string[];
}

export type UnavailableReason =
  | 'not-configured'
  | 'no-patient-identifier'
  | 'timeout'
  | 'aborted'
  | 'unreachable'
  | 'unauthorized'
  | 'archive-error'
  | 'malformed-response'
  | 'oversized-response';

export interface Unavailable {
  reason: UnavailableReason;
  /** Short, clinician-safe text (no URL, no identifier). */
  message: string;
}

export interface ClassifiedSeries {
  seriesInstanceUid: string;
  modality?: string;
  number?: number;
  description?: string;
  /** Empty when no pattern matched. */
  classes: SeriesClass[];
}

/** The study a part's inputs came from: what the card shows, and the "Open images" link. */
export interface ImagingStudy {
  studyInstanceUid: string;
  /** ISO date or date-time (StudyDate/StudyTime). */
  date?: string;
  description?: string;
  modalities: string[];
  viewerUrl?: string;
  /** CMR: the study's series with their classes (technique and sequences, MODELS.md 5). */
  series?: ClassifiedSeries[];
}

/**
 * Same names as CmrInputs (services/cmr-ihd-macce/inputs.ts) and the models' CmrMarkerInputs, plus
 * the volumes and mass of the CMR report (MODELS.md 5); an indexed value is told by its unit.
 */
export interface CmrImagingInputs
  extends Pick<CmrMarkerInputs, 'lvef' | 'infarctSize' | 'mvo' | 'laReservoirStrain' | 'lvGls' | 'haemorrhage' | 'nativeT1' | 't2'> {
  mvoSegments?: Input<number>;
  ecv?: Input<number>;
  lvEdv?: Input<number>;
  lvEsv?: Input<number>;
  lvEdvIndexed?: Input<number>;
  lvEsvIndexed?: Input<number>;
  lvMass?: Input<number>;
  lvMassIndexed?: Input<number>;
}

/** Same names as CardiacMassInputs (services/cmr-cardiac-mass/inputs.ts) and the mass models' inputs. */
export interface MassImagingInputs
  extends CmrMassScoreInputs, Pick<ThrombusFeatureInputs, 'tiScoutTypical' | 'lgePresent' | 'homogeneous' | 'areaCm2' | 'diameterCm'> {
  /** A cardiac mass is reported (the cardiac-mass finding). */
  finding?: Input<boolean>;
  location?: Input<string>;
  diagnosis?: Input<string>;
  /** Post-contrast T1 of the mass, ms (Pazos-López 2014 "T1 ≥ 422 ms"; never a native T1). */
  postContrastT1?: Input<number>;
}

/** Same name as CirrhosisInputs.muscleArea; the service divides by height² for the SMI. */
export interface CtImagingInputs {
  muscleArea?: Input<number>;
}

export interface ImagingPart<I> {
  inputs: I;
  study?: ImagingStudy;
  /** Qualifying studies found for this part (the chosen `study` is the newest that gave inputs). */
  studiesFound: number;
  /**
   * Why nothing was read, as a code the services word from their card file: no qualifying study
   * (CMR: no MR study with an SR; CT: no CT study with a SEG), or studies whose objects gave nothing.
   */
  absent?: 'no-study' | 'nothing-usable';
  /** Input name or 'study' → why it was not read (shown on the card, once). */
  missingReasons: Record<string, string>;
  /** How inputs were derived (e.g. which CT slice and SEG gave the muscle area), for the "why" view. */
  derivations: string[];
  /** This part alone could not be read (e.g. the SEG answer timed out). */
  unavailable?: Unavailable;
}

export interface ImagingStats {
  /** HTTP requests sent to the archive in this call. */
  requests: number;
  /** Response body bytes received. */
  bytes: number;
  /** Sequential round trips (stages that sent at least one request). */
  depth: number;
  /** Requests and bytes per kind: QIDO, instance metadata, whole instances (the SEG), raw frames. */
  byKind: Record<'qido' | 'metadata' | 'instance' | 'frames', { requests: number; bytes: number }>;
  /** Answers served from the runtime cache. */
  cacheHits: number;
  elapsedMs: number;
}

/** Where a DICOM object that gave inputs lives: the SMART view's origin of a `dicom:` source. */
export interface DicomObjectOrigin {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  /** The study's date (ISO), description and modalities. */
  studyDate?: string;
  studyDescription?: string;
  modality: string;
  seriesDescription?: string;
}

export interface ImagingResult {
  /** The archive could not be used at all: the services go on with FHIR data alone. */
  unavailable?: Unavailable;
  /** SOP Instance UID → its study and series, for every object whose inputs are in a part. */
  objects: Record<string, DicomObjectOrigin>;
  cmr: ImagingPart<CmrImagingInputs>;
  mass: ImagingPart<MassImagingInputs>;
  ct: ImagingPart<CtImagingInputs>;
  stats: ImagingStats;
}

export interface ImagingRequest {
  /** The FHIR Patient id of the hook context. */
  patientId: string;
  /** Patient.identifier, for DICOMWEB_PATIENT_ID_SYSTEM. */
  identifiers?: ReadonlyArray<{ system?: string; value?: string }>;
  /** The caller's time budget: aborts every archive request. */
  signal: AbortSignal;
  /** What the calling service needs (both by default). */
  want?: { cmr?: boolean; ct?: boolean };
}
