// The DICOM JSON model (PS3.18 F.2): what QIDO-RS and WADO-RS metadata answer, what the PS3.19 XML
// parser produces, and what dcmjs's DicomMessage.readFile gives for a Part 10 file. Archives are
// outside our control, so every response is validated here and read through small typed accessors:
// a missing or odd attribute is `undefined`, never an exception deep in the reading code.
import { z } from 'zod';

export const TAG = {
  SpecificCharacterSet: '00080005',
  ImageType: '00080008',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyDate: '00080020',
  SeriesDate: '00080021',
  ContentDate: '00080023',
  StudyTime: '00080030',
  SeriesTime: '00080031',
  ContentTime: '00080033',
  Modality: '00080060',
  ModalitiesInStudy: '00080061',
  CodeValue: '00080100',
  CodingSchemeDesignator: '00080102',
  CodeMeaning: '00080104',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  ReferencedFrameNumber: '00081160',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  DerivationImageSequence: '00089124',
  SourceImageSequence: '00082112',
  ReferencedSeriesSequence: '00081115',
  ReferencedInstanceSequence: '0008114A',
  PatientID: '00100020',
  InversionTime: '00180082',
  ProtocolName: '00181030',
  CardiacNumberOfImages: '00181090',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  ImagePositionPatient: '00200032',
  ImageOrientationPatient: '00200037',
  NumberOfTemporalPositions: '00200105',
  NumberOfSeriesRelatedInstances: '00201209',
  SamplesPerPixel: '00280002',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  PixelSpacing: '00280030',
  BitsAllocated: '00280100',
  BitsStored: '00280101',
  HighBit: '00280102',
  PixelRepresentation: '00280103',
  RescaleIntercept: '00281052',
  RescaleSlope: '00281053',
  SegmentSequence: '00620002',
  SegmentationType: '00620001',
  SegmentNumber: '00620004',
  SegmentedPropertyCategoryCodeSequence: '00620003',
  SegmentedPropertyTypeCodeSequence: '0062000F',
  SegmentLabel: '00620005',
  ReferencedSegmentNumber: '0062000B',
  SegmentIdentificationSequence: '0062000A',
  MaximumFractionalValue: '0062000E',
  SharedFunctionalGroupsSequence: '52009229',
  PerFrameFunctionalGroupsSequence: '52009230',
  PixelMeasuresSequence: '00289110',
  PlanePositionSequence: '00209113',
  PlaneOrientationSequence: '00209116',
  ValueType: '0040A040',
  ConceptNameCodeSequence: '0040A043',
  RelationshipType: '0040A010',
  ContentSequence: '0040A730',
  MeasuredValueSequence: '0040A300',
  NumericValue: '0040A30A',
  MeasurementUnitsCodeSequence: '004008EA',
  ConceptCodeSequence: '0040A168',
  TextValue: '0040A160',
  UID: '0040A124',
  ReferencedSOPSequence: '00081199',
  PixelData: '7FE00010',
} as const;

export interface DicomElement {
  vr?: string;
  Value?: unknown[];
  BulkDataURI?: string;
  InlineBinary?: string;
}
export type DicomDataset = Record<string, DicomElement>;

const elementSchema = z
  .object({
    vr: z.string().max(2).optional(),
    Value: z.array(z.unknown()).optional(),
    BulkDataURI: z.string().optional(),
    InlineBinary: z.string().optional(),
  })
  .loose();
/** A dataset: 8-hex-digit tag keys. Nested sequence items are checked when read (`items`). */
export const datasetSchema = z.record(z.string().regex(/^[0-9A-Fa-f]{8}$/), elementSchema);
export const datasetListSchema = z.array(datasetSchema);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function values(ds: DicomDataset | undefined, tag: string): unknown[] {
  return ds?.[tag]?.Value ?? [];
}

/** First value as a string (PN: its Alphabetic component). */
export function str(ds: DicomDataset | undefined, tag: string): string | undefined {
  const v = values(ds, tag)[0];
  if (typeof v === 'string') return v.trim() === '' ? undefined : v.trim();
  if (typeof v === 'number') return String(v);
  if (isRecord(v) && typeof v.Alphabetic === 'string') return v.Alphabetic;
  return undefined;
}

export function strs(ds: DicomDataset | undefined, tag: string): string[] {
  return values(ds, tag).flatMap((v) => (typeof v === 'string' ? [v.trim()] : typeof v === 'number' ? [String(v)] : []));
}

/** Numbers of IS/DS/US/FL… (DICOM JSON may carry DS as strings: PS3.18 F.2.3.1). */
export function nums(ds: DicomDataset | undefined, tag: string): number[] {
  const out: number[] = [];
  for (const v of values(ds, tag)) {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) return [];
    out.push(n);
  }
  return out;
}

export function num(ds: DicomDataset | undefined, tag: string): number | undefined {
  return nums(ds, tag)[0];
}

/** Items of a sequence, each checked to be a dataset (a malformed item is skipped). */
export function items(ds: DicomDataset | undefined, tag: string): DicomDataset[] {
  return values(ds, tag).flatMap((v) => {
    const parsed = datasetSchema.safeParse(v);
    return parsed.success ? [parsed.data] : [];
  });
}

export function item(ds: DicomDataset | undefined, tag: string): DicomDataset | undefined {
  return items(ds, tag)[0];
}

/** A coded entry (PS3.3 8.8): code value, coding scheme designator, meaning. */
export interface DicomCode {
  value: string;
  scheme: string;
  meaning?: string;
}

export function codeOf(ds: DicomDataset | undefined): DicomCode | undefined {
  const value = str(ds, TAG.CodeValue);
  const scheme = str(ds, TAG.CodingSchemeDesignator);
  if (!value || !scheme) return undefined;
  const meaning = str(ds, TAG.CodeMeaning);
  return { value, scheme, ...(meaning ? { meaning } : {}) };
}

export function codeIn(ds: DicomDataset | undefined, tag: string): DicomCode | undefined {
  return codeOf(item(ds, tag));
}

/** DA + TM → ISO 8601 local date-time ('2024-03-01T09:30:00'), or the date alone. */
export function isoDateTime(date: string | undefined, time?: string): string | undefined {
  const d = date?.match(/^(\d{4})(\d{2})(\d{2})$/);
  if (!d) return undefined;
  const day = `${d[1]}-${d[2]}-${d[3]}`;
  const t = time?.match(/^(\d{2})(\d{2})?(\d{2})?/);
  if (!t) return day;
  return `${day}T${t[1]}:${t[2] ?? '00'}:${t[3] ?? '00'}`;
}
