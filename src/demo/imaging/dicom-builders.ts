// Synthetic DICOM objects for the demo, the tests and the benchmark, written with dcmjs as
// naturalized datasets (dcmjs's SR template helpers are broken in 0.51–0.52, DESIGN.md "Imaging").
// Every UID is derived from a seed string, so a rebuild gives the same objects.
import { createHash } from 'node:crypto';
import dcmjs from 'dcmjs';

export const SOP = {
  mrImage: '1.2.840.10008.5.1.4.1.1.4',
  ctImage: '1.2.840.10008.5.1.4.1.1.2',
  comprehensiveSr: '1.2.840.10008.5.1.4.1.1.88.33',
  enhancedSr: '1.2.840.10008.5.1.4.1.1.88.22',
  segmentation: '1.2.840.10008.5.1.4.1.1.66.4',
} as const;
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** A UID under the 2.25 root (PS3.5 B.2: a UUID as a decimal integer), derived from the seed. */
export function uidFor(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${hex}`).toString()}`;
}

export interface PatientStudy {
  patientId: string;
  patientName: string;
  studyUid: string;
  /** YYYYMMDD */
  studyDate: string;
  /** HHMMSS */
  studyTime?: string;
  studyDescription: string;
  accessionNumber?: string;
}

export interface SeriesRef {
  seriesUid: string;
  seriesNumber: number;
  seriesDescription: string;
  modality: string;
}

export type Dataset = Record<string, unknown>;

function header(p: PatientStudy, s: SeriesRef, sopClass: string, sopUid: string, instanceNumber: number): Dataset {
  return {
    _meta: { TransferSyntaxUID: { Value: [EXPLICIT_LE] } },
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: sopClass,
    SOPInstanceUID: sopUid,
    PatientID: p.patientId,
    PatientName: p.patientName,
    StudyInstanceUID: p.studyUid,
    StudyDate: p.studyDate,
    StudyTime: p.studyTime ?? '090000',
    StudyDescription: p.studyDescription,
    AccessionNumber: p.accessionNumber ?? '',
    StudyID: '1',
    ReferringPhysicianName: '',
    SeriesInstanceUID: s.seriesUid,
    SeriesNumber: s.seriesNumber,
    SeriesDescription: s.seriesDescription,
    Modality: s.modality,
    InstanceNumber: instanceNumber,
    Manufacturer: 'imaging-cds synthetic',
  };
}

/** Part 10 bytes of a naturalized dataset (explicit VR little endian). */
export function toPart10(dataset: Dataset): Uint8Array {
  return new Uint8Array(dcmjs.data.datasetToBuffer(dataset));
}

// ---------------------------------------------------------------------------------------------------
// Images

export interface MrImageSpec {
  sopUid: string;
  instanceNumber: number;
  imageType?: string[];
  inversionTime?: number;
  cardiacNumberOfImages?: number;
  /** Rows = Columns (small: the demo's MR images are placeholders, only their attributes matter). */
  size?: number;
}

export function mrImage(p: PatientStudy, s: SeriesRef, spec: MrImageSpec): Dataset {
  const size = spec.size ?? 8;
  return {
    ...header(p, s, SOP.mrImage, spec.sopUid, spec.instanceNumber),
    ImageType: spec.imageType ?? ['ORIGINAL', 'PRIMARY', 'M', 'NONE'],
    ...(spec.inversionTime !== undefined ? { InversionTime: spec.inversionTime } : {}),
    ...(spec.cardiacNumberOfImages !== undefined ? { CardiacNumberOfImages: spec.cardiacNumberOfImages } : {}),
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: size,
    Columns: size,
    BitsAllocated: 16,
    BitsStored: 12,
    HighBit: 11,
    PixelRepresentation: 0,
    PixelSpacing: [1.5, 1.5],
    ImagePositionPatient: [0, 0, spec.instanceNumber],
    ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
    PixelData: [new Uint16Array(size * size).fill(100).buffer],
    _vrMap: { PixelData: 'OW' },
  };
}

export interface CtSliceSpec {
  sopUid: string;
  instanceNumber: number;
  rows: number;
  columns: number;
  /** mm: [row spacing, column spacing] */
  pixelSpacing: [number, number];
  /** z of ImagePositionPatient (mm) */
  z: number;
  slope: number;
  intercept: number;
  /** 0 unsigned, 1 two's complement */
  pixelRepresentation: 0 | 1;
  bitsStored: number;
  /** Stored values, row by row (rows × columns). */
  stored: ArrayLike<number>;
}

export function ctSlice(p: PatientStudy, s: SeriesRef, spec: CtSliceSpec): Dataset {
  const n = spec.rows * spec.columns;
  if (spec.stored.length !== n) throw new Error(`CT slice needs ${n} stored values, got ${spec.stored.length}`);
  const pixels = spec.pixelRepresentation === 1 ? new Int16Array(n) : new Uint16Array(n);
  for (let i = 0; i < n; i++) pixels[i] = spec.stored[i] ?? 0;
  return {
    ...header(p, s, SOP.ctImage, spec.sopUid, spec.instanceNumber),
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    FrameOfReferenceUID: uidFor(`${s.seriesUid}/for`),
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: spec.rows,
    Columns: spec.columns,
    BitsAllocated: 16,
    BitsStored: spec.bitsStored,
    HighBit: spec.bitsStored - 1,
    PixelRepresentation: spec.pixelRepresentation,
    RescaleSlope: spec.slope,
    RescaleIntercept: spec.intercept,
    RescaleType: 'HU',
    PixelSpacing: spec.pixelSpacing,
    SliceThickness: 3,
    ImagePositionPatient: [0, 0, spec.z],
    ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
    PixelData: [pixels.buffer],
    _vrMap: { PixelData: 'OW' },
  };
}

// ---------------------------------------------------------------------------------------------------
// Segmentation (PS3.3 A.51, C.8.20)

export interface Code {
  value: string;
  scheme: string;
  meaning: string;
}

export const code = (value: string, scheme: string, meaning: string): Code => ({ value, scheme, meaning });
const codeItem = (c: Code): Dataset => ({ CodeValue: c.value, CodingSchemeDesignator: c.scheme, CodeMeaning: c.meaning });

export interface SegmentSpec {
  number: number;
  label: string;
  category: Code;
  type: Code;
}

export interface SegFrameSpec {
  segmentNumber: number;
  /** The CT slice this frame was derived from. */
  source: { sopUid: string; z: number };
  /** rows × columns mask: BINARY → 0/1, FRACTIONAL → 0..maxFractional */
  mask: ArrayLike<number>;
}

export interface SegSpec {
  sopUid: string;
  rows: number;
  columns: number;
  pixelSpacing: [number, number];
  segments: SegmentSpec[];
  frames: SegFrameSpec[];
  /** The CT series the frames come from (ReferencedSeriesSequence). */
  sourceSeriesUid: string;
  type?: 'BINARY' | 'FRACTIONAL';
  maxFractional?: number;
  contentDate?: string;
}

/**
 * A DICOM SEG built by hand rather than with dcmjs's Segmentation derivation, so the tests control
 * what real SEGs vary in: frames whose bits are not byte-aligned (PS3.5 8.1.1: BINARY frames are
 * packed back to back), FRACTIONAL segmentations, and several segments.
 */
export function segmentation(p: PatientStudy, s: SeriesRef, spec: SegSpec): Dataset {
  const n = spec.rows * spec.columns;
  const type = spec.type ?? 'BINARY';
  let pixelData: ArrayBuffer;
  if (type === 'BINARY') {
    const bits = new Uint8Array(Math.ceil((n * spec.frames.length) / 8));
    spec.frames.forEach((f, i) => {
      for (let j = 0; j < n; j++) {
        if ((f.mask[j] ?? 0) === 0) continue;
        const bit = i * n + j;
        bits[bit >> 3] = (bits[bit >> 3] ?? 0) | (1 << (bit & 7)); // PS3.5 D.2: first pixel in bit 0
      }
    });
    pixelData = bits.buffer;
  } else {
    const bytes = new Uint8Array(n * spec.frames.length);
    spec.frames.forEach((f, i) => { for (let j = 0; j < n; j++) bytes[i * n + j] = f.mask[j] ?? 0; });
    pixelData = bytes.buffer;
  }
  return {
    ...header(p, s, SOP.segmentation, spec.sopUid, 1),
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentDate: spec.contentDate ?? p.studyDate,
    ContentTime: '120000',
    ContentLabel: 'SEGMENTATION',
    ContentCreatorName: '',
    FrameOfReferenceUID: uidFor(`${spec.sourceSeriesUid}/for`),
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: spec.rows,
    Columns: spec.columns,
    NumberOfFrames: spec.frames.length,
    BitsAllocated: type === 'BINARY' ? 1 : 8,
    BitsStored: type === 'BINARY' ? 1 : 8,
    HighBit: type === 'BINARY' ? 0 : 7,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: type,
    ...(type === 'FRACTIONAL' ? { SegmentationFractionalType: 'OCCUPANCY', MaximumFractionalValue: spec.maxFractional ?? 255 } : {}),
    SegmentSequence: spec.segments.map((seg) => ({
      SegmentNumber: seg.number,
      SegmentLabel: seg.label,
      SegmentAlgorithmType: 'AUTOMATIC',
      SegmentAlgorithmName: 'synthetic',
      SegmentedPropertyCategoryCodeSequence: [codeItem(seg.category)],
      SegmentedPropertyTypeCodeSequence: [codeItem(seg.type)],
    })),
    DimensionOrganizationType: '3D',
    SharedFunctionalGroupsSequence: [{
      PixelMeasuresSequence: [{ PixelSpacing: spec.pixelSpacing, SliceThickness: 3 }],
      PlaneOrientationSequence: [{ ImageOrientationPatient: [1, 0, 0, 0, 1, 0] }],
    }],
    PerFrameFunctionalGroupsSequence: spec.frames.map((f, i) => ({
      DerivationImageSequence: [{
        SourceImageSequence: [{
          ReferencedSOPClassUID: SOP.ctImage,
          ReferencedSOPInstanceUID: f.source.sopUid,
          PurposeOfReferenceCodeSequence: [codeItem(code('121322', 'DCM', 'Source image for image processing operation'))],
        }],
        DerivationCodeSequence: [codeItem(code('113076', 'DCM', 'Segmentation'))],
      }],
      FrameContentSequence: [{ DimensionIndexValues: [f.segmentNumber, i + 1] }],
      PlanePositionSequence: [{ ImagePositionPatient: [0, 0, f.source.z] }],
      SegmentIdentificationSequence: [{ ReferencedSegmentNumber: f.segmentNumber }],
    })),
    ReferencedSeriesSequence: [{
      SeriesInstanceUID: spec.sourceSeriesUid,
      ReferencedInstanceSequence: [...new Set(spec.frames.map((f) => f.source.sopUid))].map((uid) => ({
        ReferencedSOPClassUID: SOP.ctImage,
        ReferencedSOPInstanceUID: uid,
      })),
    }],
    PixelData: [pixelData],
    _vrMap: { PixelData: 'OB' },
  };
}

// ---------------------------------------------------------------------------------------------------
// Structured reports (PS3.3 A.35, TID 1500-style content)

export type SrItem =
  | { kind: 'num'; concept: Code; value: number; unit: Code; relationship?: string }
  | { kind: 'code'; concept: Code; value: Code; relationship?: string }
  | { kind: 'text'; concept: Code; value: string; relationship?: string }
  | { kind: 'uidref'; concept: Code; value: string; relationship?: string }
  | { kind: 'container'; concept: Code; children: SrItem[]; relationship?: string };

function srContent(item: SrItem): Dataset {
  const base = { RelationshipType: item.relationship ?? 'CONTAINS', ConceptNameCodeSequence: [codeItem(item.concept)] };
  switch (item.kind) {
    case 'num':
      return { ...base, ValueType: 'NUM', MeasuredValueSequence: [{ NumericValue: item.value, MeasurementUnitsCodeSequence: [codeItem(item.unit)] }] };
    case 'code':
      return { ...base, ValueType: 'CODE', ConceptCodeSequence: [codeItem(item.value)] };
    case 'text':
      return { ...base, ValueType: 'TEXT', TextValue: item.value };
    case 'uidref':
      return { ...base, ValueType: 'UIDREF', UID: item.value };
    case 'container':
      return { ...base, ValueType: 'CONTAINER', ContinuityOfContent: 'SEPARATE', ContentSequence: item.children.map(srContent) };
  }
}

export interface SrSpec {
  sopUid: string;
  /** Comprehensive SR by default; 'enhanced' for Enhanced SR. */
  sopClass?: 'comprehensive' | 'enhanced';
  contentDate: string;
  contentTime?: string;
  title: Code;
  content: SrItem[];
}

export function structuredReport(p: PatientStudy, s: SeriesRef, spec: SrSpec): Dataset {
  return {
    ...header(p, s, spec.sopClass === 'enhanced' ? SOP.enhancedSr : SOP.comprehensiveSr, spec.sopUid, 1),
    ContentDate: spec.contentDate,
    ContentTime: spec.contentTime ?? '120000',
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ValueType: 'CONTAINER',
    ContinuityOfContent: 'SEPARATE',
    ConceptNameCodeSequence: [codeItem(spec.title)],
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    ContentSequence: spec.content.map(srContent),
  };
}
