// QIDO-RS (PS3.18 10.6) for one patient: the MR and CT studies and the SR and SEG instances, asked in
// parallel as the call's first round trip; then the series of a chosen study. Checked against Orthanc
// 1.10 + DICOMweb 1.7: ModalitiesInStudy and Modality accept comma lists (not backslash), and the
// instance level accepts PatientID at the root (/instances?PatientID=…).
//
// The archive's matching is not trusted to keep patients apart: a PatientID with QIDO wildcards is
// refused before any query, and every answer whose PatientID is not exactly the one asked is dropped
// ("data about another patient is never scored").
import { isoDateTime, num, str, strs, TAG, type DicomDataset } from './dicom-json.ts';
import type { DicomWebAccess } from './dicomweb-client.ts';
import { classifySeries, type SeriesPatterns } from './series-classifier.ts';
import type { ClassifiedSeries } from './types.ts';

/** SR classes read for measurements: Enhanced, Comprehensive, Comprehensive 3D and Extensible SR. */
export const SR_SOP_CLASSES = new Set([
  '1.2.840.10008.5.1.4.1.1.88.22',
  '1.2.840.10008.5.1.4.1.1.88.33',
  '1.2.840.10008.5.1.4.1.1.88.34',
  '1.2.840.10008.5.1.4.1.1.88.35',
]);
export const SEG_SOP_CLASSES = new Set(['1.2.840.10008.5.1.4.1.1.66.4']);

export interface StudySummary {
  studyInstanceUid: string;
  /** ISO date-time for ordering and display. */
  date?: string;
  description?: string;
  modalities: string[];
}

export interface InstanceRef {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  /** ISO content date-time, when the archive returns it. */
  date?: string;
}

export interface PatientIndex {
  studies: StudySummary[];
  srs: InstanceRef[];
  segs: InstanceRef[];
}

/** QIDO wildcard characters (PS3.4 C.2.2.2.4) and the multi-value separator: never in an exact key. */
export function isExactPatientId(id: string): boolean {
  return id.length > 0 && id.length <= 64 && !/[*?\\]/.test(id);
}

export async function patientIndex(access: DicomWebAccess, patientId: string): Promise<PatientIndex> {
  const [studies, instances] = await Promise.all([
    access.searchStudies({ PatientID: patientId, ModalitiesInStudy: 'MR,CT', includefield: 'StudyDescription,ModalitiesInStudy,PatientID' }),
    access.searchInstances({ PatientID: patientId, Modality: 'SR,SEG', includefield: 'ContentDate,ContentTime,PatientID,SOPClassUID' }),
  ]);
  const mine = (ds: DicomDataset): boolean => str(ds, TAG.PatientID) === patientId;
  const refs = instances.filter(mine).flatMap((ds): InstanceRef[] => {
    const studyInstanceUid = str(ds, TAG.StudyInstanceUID);
    const seriesInstanceUid = str(ds, TAG.SeriesInstanceUID);
    const sopInstanceUid = str(ds, TAG.SOPInstanceUID);
    const sopClassUid = str(ds, TAG.SOPClassUID);
    if (!studyInstanceUid || !seriesInstanceUid || !sopInstanceUid || !sopClassUid) return [];
    const date = isoDateTime(str(ds, TAG.ContentDate), str(ds, TAG.ContentTime));
    return [{ studyInstanceUid, seriesInstanceUid, sopInstanceUid, sopClassUid, ...(date ? { date } : {}) }];
  });
  return {
    studies: studies.filter(mine).flatMap((ds): StudySummary[] => {
      const uid = str(ds, TAG.StudyInstanceUID);
      if (!uid) return [];
      const date = isoDateTime(str(ds, TAG.StudyDate), str(ds, TAG.StudyTime));
      const description = str(ds, TAG.StudyDescription);
      return [{ studyInstanceUid: uid, ...(date ? { date } : {}), ...(description ? { description } : {}), modalities: strs(ds, TAG.ModalitiesInStudy) }];
    }),
    srs: refs.filter((r) => SR_SOP_CLASSES.has(r.sopClassUid)),
    segs: refs.filter((r) => SEG_SOP_CLASSES.has(r.sopClassUid)),
  };
}

export async function studySeries(access: DicomWebAccess, studyUid: string, patterns: SeriesPatterns): Promise<ClassifiedSeries[]> {
  const series = await access.searchSeries(studyUid, {
    includefield: 'SeriesDescription,Modality,SeriesNumber,ProtocolName,CardiacNumberOfImages,ImageType',
  });
  return series.flatMap((ds): ClassifiedSeries[] => {
    const uid = str(ds, TAG.SeriesInstanceUID);
    if (!uid) return [];
    const modality = str(ds, TAG.Modality);
    const description = str(ds, TAG.SeriesDescription);
    const number = num(ds, TAG.SeriesNumber);
    const cardiacNumberOfImages = num(ds, TAG.CardiacNumberOfImages);
    const protocolName = str(ds, TAG.ProtocolName);
    const imageType = strs(ds, TAG.ImageType);
    return [{
      seriesInstanceUid: uid,
      ...(modality ? { modality } : {}),
      ...(number !== undefined ? { number } : {}),
      ...(description ? { description } : {}),
      classes: classifySeries({
        ...(modality ? { modality } : {}),
        ...(description ? { description } : {}),
        ...(protocolName ? { protocolName } : {}),
        ...(imageType.length ? { imageType } : {}),
        ...(cardiacNumberOfImages !== undefined ? { cardiacNumberOfImages } : {}),
      }, patterns),
    }];
  });
}

/** Newest first (ISO strings order by time); undated last; ties by UID for a stable choice. */
export function newestFirst<T extends { date?: string }>(xs: readonly T[], uid: (x: T) => string): T[] {
  return [...xs].sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '') || uid(a).localeCompare(uid(b)));
}
