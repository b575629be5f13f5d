// L3 skeletal muscle area from a DICOM SEG (1.2.840.10008.5.1.4.1.1.66.4) and the one CT slice it was
// derived from (MODELS.md 3e; DESIGN.md "Imaging"):
//   muscle pixel = in the SEG's muscle mask ∧ −29 ≤ HU ≤ 150, HU = stored value × RescaleSlope +
//   RescaleIntercept (stored value read with BitsStored and PixelRepresentation, PS3.3 C.7.6.3.1);
//   area (cm²) = muscle pixels × row spacing × column spacing (PixelSpacing, mm) / 100.
//
// The SEG is decoded with dcmjs (DicomMessage.readFile). Frames map to segments through
// SegmentIdentificationSequence and to source CT images through DerivationImageSequence /
// SourceImageSequence, the CT series through ReferencedSeriesSequence (PS3.3 C.8.20.2, A.51).
// BINARY frames are packed back to back, first pixel in bit 0 (PS3.5 8.1.1, D.2); a FRACTIONAL
// (occupancy) pixel is in the mask when its value is at least half of MaximumFractionalValue.
//
// Which slice is L3 (the rule implemented):
//   1. the SEG has an L3 vertebra segment (SNOMED CT 36470004 "L3 vertebra", DICOM CID 7603, or a
//      configured label — TotalSegmentator's "total" task names it `vertebrae_L3`): the muscle frame whose position along
//      the slice normal is nearest the middle of the L3 segment's extent, and inside that extent;
//   2. otherwise the muscle segment covers exactly one CT slice: that slice (an L3 single-slice SEG);
//   3. otherwise no L3 level can be told: no area (the card says so).
// Muscle segments: SNOMED CT 127954009 "Skeletal muscle", or a configured label (TotalSegmentator's
// "tissue_types" task: `skeletal_muscle`); several muscle segments are combined (a pixel counts once).
// TotalSegmentator's own DICOM SEG export codes `skeletal_muscle` as SCT 127954009 and `vertebrae_L3`
// as SCT 36470004 (wasserth/TotalSegmentator, totalsegmentator/resources/totalsegmentator_snomed_mapping.csv),
// so its SEGs are recognised by code, whatever their labels.
import dcmjs from 'dcmjs';
import { codeIn, datasetSchema, isoDateTime, item, items, num, nums, str, TAG, type DicomDataset } from './dicom-json.ts';
import { isL3Vertebra, isSkeletalMuscle } from './dicom-codes.ts';

export const SEG_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';
/** MODELS.md 3e: skeletal muscle attenuation range on CT [S]. */
export const MUSCLE_HU_MIN = -29;
export const MUSCLE_HU_MAX = 150;

export interface SegLabels {
  muscle: readonly string[];
  l3: readonly string[];
}

export interface L3Plan {
  segSopInstanceUid: string;
  /** PatientID of the SEG (checked against the patient asked for). */
  patientId?: string;
  /** SEG content date-time (ISO), else its series/study date. */
  date?: string;
  rows: number;
  columns: number;
  /** 1 = muscle, 0 = not, row by row. */
  mask: Uint8Array;
  source: { seriesInstanceUid: string; sopInstanceUid: string; frame: number };
  /** How the slice was chosen (shown in the "why" view). */
  rule: string;
  segmentLabels: string[];
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };
const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

interface Frame {
  index: number;
  segment: number;
  sourceSop?: string;
  sourceFrame: number;
  position?: number;
}

/** Reads the SEG and decides which CT slice and mask the area comes from. */
export function planL3(part10: Uint8Array, labels: SegLabels): Outcome<L3Plan> {
  let seg: DicomDataset;
  try {
    const copy = part10.slice().buffer;
    const parsed = datasetSchema.safeParse(dcmjs.data.DicomMessage.readFile(copy, { ignoreErrors: false }).dict);
    if (!parsed.success) return fail('the SEG could not be read');
    seg = parsed.data;
  } catch {
    return fail('the SEG could not be read');
  }
  if (str(seg, TAG.SOPClassUID) !== SEG_SOP_CLASS) return fail('the object is not a DICOM SEG');
  const segSopInstanceUid = str(seg, TAG.SOPInstanceUID) ?? 'unknown';
  const type = str(seg, TAG.SegmentationType);
  const rows = num(seg, TAG.Rows);
  const columns = num(seg, TAG.Columns);
  const nFrames = num(seg, TAG.NumberOfFrames) ?? 1;
  if (type !== 'BINARY' && type !== 'FRACTIONAL') return fail(`SEG type ${type ?? 'unknown'} is not supported`);
  if (!rows || !columns || !Number.isInteger(nFrames) || nFrames < 1) return fail('the SEG has no usable image size');

  const lower = (xs: readonly string[]): Set<string> => new Set(xs.map((x) => x.toLowerCase()));
  const muscleLabels = lower(labels.muscle);
  const l3Labels = lower(labels.l3);
  const muscle = new Set<number>();
  const l3 = new Set<number>();
  const segmentLabels: string[] = [];
  for (const s of items(seg, TAG.SegmentSequence)) {
    const n = num(s, TAG.SegmentNumber);
    if (n === undefined) continue;
    const label = str(s, TAG.SegmentLabel) ?? '';
    const property = codeIn(s, TAG.SegmentedPropertyTypeCodeSequence);
    if (isSkeletalMuscle(property) || muscleLabels.has(label.toLowerCase())) {
      muscle.add(n);
      segmentLabels.push(label || 'skeletal muscle');
    } else if (isL3Vertebra(property) || l3Labels.has(label.toLowerCase())) l3.add(n);
  }
  if (muscle.size === 0) return fail('the SEG has no skeletal muscle segment (SNOMED CT 127954009 or a configured label)');

  const shared = item(seg, TAG.SharedFunctionalGroupsSequence);
  const normal = sliceNormal(nums(item(shared, TAG.PlaneOrientationSequence), TAG.ImageOrientationPatient));
  const perFrame = items(seg, TAG.PerFrameFunctionalGroupsSequence);
  if (perFrame.length !== nFrames) return fail('the SEG frames lack their functional groups');
  const frames: Frame[] = perFrame.map((fg, index) => {
    const source = item(item(fg, TAG.DerivationImageSequence), TAG.SourceImageSequence);
    const ipp = nums(item(fg, TAG.PlanePositionSequence), TAG.ImagePositionPatient);
    const sourceSop = str(source, TAG.ReferencedSOPInstanceUID);
    return {
      index,
      segment: num(item(fg, TAG.SegmentIdentificationSequence), TAG.ReferencedSegmentNumber) ?? -1,
      ...(sourceSop ? { sourceSop } : {}),
      sourceFrame: num(source, TAG.ReferencedFrameNumber) ?? 1,
      ...(ipp.length === 3 ? { position: dot(ipp, normal) } : {}),
    };
  });
  const muscleFrames = frames.filter((f) => muscle.has(f.segment));
  if (muscleFrames.length === 0) return fail('the SEG muscle segment has no frames');
  if (muscleFrames.some((f) => !f.sourceSop)) return fail('the SEG frames do not name their source CT images (DerivationImageSequence)');

  // Which slice.
  let chosen: Frame[];
  let rule: string;
  const l3Frames = frames.filter((f) => l3.has(f.segment) && f.position !== undefined);
  const slices = new Set(muscleFrames.map((f) => `${f.sourceSop}#${f.sourceFrame}`));
  if (l3Frames.length > 0) {
    const ps = l3Frames.map((f) => f.position ?? 0);
    const lo = Math.min(...ps);
    const hi = Math.max(...ps);
    const mid = (lo + hi) / 2;
    const tolerance = 1e-3;
    const candidates = muscleFrames.filter((f) => f.position !== undefined && f.position >= lo - tolerance && f.position <= hi + tolerance);
    if (candidates.length === 0) return fail('no muscle frame of the SEG lies at the level of its L3 vertebra segment');
    const best = candidates.reduce((a, b) => (Math.abs((b.position ?? 0) - mid) < Math.abs((a.position ?? 0) - mid) ? b : a));
    chosen = muscleFrames.filter((f) => f.sourceSop === best.sourceSop && f.sourceFrame === best.sourceFrame);
    rule = `the muscle slice nearest the middle of the SEG's L3 vertebra segment (${lo.toFixed(1)} to ${hi.toFixed(1)} mm)`;
  } else if (slices.size === 1) {
    chosen = muscleFrames;
    rule = 'the one CT slice the SEG segments muscle on (an L3 single-slice segmentation)';
  } else {
    return fail(`the SEG segments muscle on ${slices.size} CT slices but marks no L3 level (no L3 vertebra segment, SNOMED CT 36470004 or a configured label such as vertebrae_L3)`);
  }
  const first = chosen[0];
  if (!first?.sourceSop) return fail('the SEG muscle segment has no frames');

  const series = seriesOf(seg, first.sourceSop);
  if (!series) return fail('the SEG does not name the CT series of its source image (ReferencedSeriesSequence)');

  const pixels = pixelBytes(seg);
  if (!pixels) return fail('the SEG has no native pixel data');
  const n = rows * columns;
  const mask = new Uint8Array(n);
  const max = num(seg, TAG.MaximumFractionalValue) ?? 255;
  for (const f of chosen) {
    if (type === 'BINARY') {
      const start = f.index * n;
      if (Math.ceil((start + n) / 8) > pixels.length) return fail('the SEG pixel data is shorter than its frames');
      for (let j = 0; j < n; j++) {
        const bit = start + j;
        if (((pixels[bit >> 3] ?? 0) >> (bit & 7)) & 1) mask[j] = 1;
      }
    } else {
      const start = f.index * n;
      if (start + n > pixels.length || max <= 0) return fail('the SEG pixel data is shorter than its frames');
      for (let j = 0; j < n; j++) if (2 * (pixels[start + j] ?? 0) >= max) mask[j] = 1;
    }
  }
  const date = isoDateTime(str(seg, TAG.ContentDate), str(seg, TAG.ContentTime)) ?? isoDateTime(str(seg, TAG.SeriesDate), str(seg, TAG.SeriesTime)) ?? isoDateTime(str(seg, TAG.StudyDate));
  return {
    ok: true,
    value: {
      segSopInstanceUid,
      ...(str(seg, TAG.PatientID) ? { patientId: str(seg, TAG.PatientID) } : {}),
      ...(date ? { date } : {}),
      rows,
      columns,
      mask,
      source: { seriesInstanceUid: series, sopInstanceUid: first.sourceSop, frame: first.sourceFrame },
      rule,
      segmentLabels,
    },
  };
}

export interface MuscleArea {
  areaCm2: number;
  musclePixels: number;
  maskPixels: number;
  pixelSpacing: [number, number];
}

/** The muscle area on the chosen CT slice: its instance metadata and its raw frame. */
export function muscleArea(plan: L3Plan, ct: DicomDataset, frame: Uint8Array): Outcome<MuscleArea> {
  const rows = num(ct, TAG.Rows);
  const columns = num(ct, TAG.Columns);
  if (rows !== plan.rows || columns !== plan.columns) return fail(`the SEG grid (${plan.rows}×${plan.columns}) differs from the CT slice (${rows ?? '?'}×${columns ?? '?'})`);
  if ((num(ct, TAG.NumberOfFrames) ?? 1) > 1) return fail('multi-frame (enhanced) CT is not supported');
  const spacing = nums(ct, TAG.PixelSpacing);
  const [rowSpacing, columnSpacing] = spacing;
  if (spacing.length !== 2 || !rowSpacing || !columnSpacing || rowSpacing <= 0 || columnSpacing <= 0) return fail('the CT slice has no PixelSpacing');
  const slope = num(ct, TAG.RescaleSlope);
  const intercept = num(ct, TAG.RescaleIntercept);
  if (slope === undefined || intercept === undefined) return fail('the CT slice has no rescale slope and intercept (HU cannot be computed)');
  const bitsAllocated = num(ct, TAG.BitsAllocated);
  const bitsStored = num(ct, TAG.BitsStored) ?? bitsAllocated;
  const signed = num(ct, TAG.PixelRepresentation) === 1;
  if ((num(ct, TAG.SamplesPerPixel) ?? 1) !== 1) return fail('the CT slice is not greyscale');
  if ((bitsAllocated !== 8 && bitsAllocated !== 16) || !bitsStored || bitsStored > bitsAllocated) return fail(`CT BitsAllocated ${bitsAllocated ?? '?'} is not supported`);
  const n = rows * columns;
  const bytesPerPixel = bitsAllocated / 8;
  if (frame.length < n * bytesPerPixel) return fail('the CT frame is shorter than its image');

  const valueMask = bitsStored >= 32 ? 0xffffffff : (1 << bitsStored) - 1;
  const signBit = 1 << (bitsStored - 1);
  let musclePixels = 0;
  let maskPixels = 0;
  for (let i = 0; i < n; i++) {
    if (plan.mask[i] !== 1) continue;
    maskPixels++;
    const raw = bytesPerPixel === 2 ? (frame[2 * i] ?? 0) | ((frame[2 * i + 1] ?? 0) << 8) : (frame[i] ?? 0);
    let stored = raw & valueMask;
    if (signed && stored & signBit) stored -= 1 << bitsStored;
    const hu = stored * slope + intercept;
    if (hu >= MUSCLE_HU_MIN && hu <= MUSCLE_HU_MAX) musclePixels++;
  }
  // Rounded to 1e-6 cm² (0.0001 mm²): removes floating-point noise of spacing products only.
  const areaCm2 = Math.round(((musclePixels * rowSpacing * columnSpacing) / 100) * 1e6) / 1e6;
  return { ok: true, value: { areaCm2, musclePixels, maskPixels, pixelSpacing: [rowSpacing, columnSpacing] } };
}

function seriesOf(seg: DicomDataset, sop: string): string | undefined {
  for (const s of items(seg, TAG.ReferencedSeriesSequence)) {
    if (items(s, TAG.ReferencedInstanceSequence).some((i) => str(i, TAG.ReferencedSOPInstanceUID) === sop)) return str(s, TAG.SeriesInstanceUID);
  }
  return undefined;
}

/** Native PixelData as bytes (dcmjs gives one ArrayBuffer per fragment; native data is one). */
function pixelBytes(seg: DicomDataset): Uint8Array | undefined {
  const v = seg[TAG.PixelData]?.Value;
  const first = v?.[0];
  if (v?.length !== 1 || !(first instanceof ArrayBuffer)) return undefined;
  return new Uint8Array(first);
}

function sliceNormal(iop: number[]): [number, number, number] {
  if (iop.length !== 6) return [0, 0, 1];
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0] = iop;
  return [b * f - c * e, c * d - a * f, a * e - b * d];
}

const dot = (p: number[], n: [number, number, number]): number => (p[0] ?? 0) * n[0] + (p[1] ?? 0) * n[1] + (p[2] ?? 0) * n[2];

