// A synthetic abdominal CT series with a DICOM SEG of skeletal muscle whose L3 muscle area is known
// exactly. Inside the muscle mask sit muscle (40 HU), fat (−100 HU), bone (400 HU) and the window's
// edges (−29 and 150 HU count, −30 and 151 HU do not), so only mask ∧ −29..150 HU gives the area;
// outside the mask there is muscle-density tissue too, so only the mask gives it. Each slice has a
// different muscle count, so only the L3 slice gives the expected area.
import { code, ctSlice, segmentation, toPart10, uidFor, type PatientStudy, type SegFrameSpec } from './dicom-builders.ts';

export interface CtPhantomSpec {
  patient: PatientStudy;
  /** Seed for the series and instance UIDs. */
  seed: string;
  rows: number;
  columns: number;
  /** mm [row spacing, column spacing] */
  pixelSpacing: [number, number];
  /** Slices of the CT series (≥ 1); the SEG marks muscle on every slice. */
  slices: number;
  /** 0-based slice that is the L3 level (the middle of the L3 vertebra segment when there is one). */
  l3Slice: number;
  /** Muscle pixels (40 HU) inside the mask on the L3 slice; other slices get more. */
  musclePixels: number;
  /** Add an L3 vertebra segment (SNOMED CT 36470004) over l3Slice − 1 … l3Slice + 1. */
  l3Segment: boolean;
  pixelRepresentation?: 0 | 1;
  bitsStored?: number;
  slope?: number;
  intercept?: number;
  segmentationType?: 'BINARY' | 'FRACTIONAL';
  /** Label of the muscle segment (default TotalSegmentator's 'skeletal_muscle'). */
  muscleLabel?: string;
  /** Set the bits above BitsStored (PS3.5 8.1.1 allows other data there; a reader must mask them). */
  highBitNoise?: boolean;
  contentDate?: string;
}

export interface CtPhantom {
  files: Uint8Array[];
  ctSeriesUid: string;
  segSeriesUid: string;
  segSopUid: string;
  ctSopUids: string[];
  /** The L3 muscle area the layer must return, cm² (pixels × spacing product / 100). */
  expectedAreaCm2: number;
  expectedMusclePixels: number;
}

const EDGE_IN = [-29, 150];
const EDGE_OUT = [-30, 151];
const FAT = -100;
const BONE = 400;
const MUSCLE = 40;

export function buildCtPhantom(spec: CtPhantomSpec): CtPhantom {
  const slope = spec.slope ?? 1;
  const intercept = spec.intercept ?? -1024;
  const pr = spec.pixelRepresentation ?? 0;
  const bitsStored = spec.bitsStored ?? 12;
  const n = spec.rows * spec.columns;
  const ct = { seriesUid: uidFor(`${spec.seed}/ct`), seriesNumber: 2, seriesDescription: 'ABDOMEN 3.0 B30f', modality: 'CT' };
  const segSeries = { seriesUid: uidFor(`${spec.seed}/seg`), seriesNumber: 300, seriesDescription: 'TotalSegmentator tissue_types', modality: 'SEG' };
  const stored = (hu: number): number => {
    const s = (hu - intercept) / slope;
    if (!Number.isInteger(s)) throw new Error(`HU ${hu} is not representable with slope ${slope} and intercept ${intercept}`);
    const max = pr === 1 ? 2 ** (bitsStored - 1) - 1 : 2 ** bitsStored - 1;
    const min = pr === 1 ? -(2 ** (bitsStored - 1)) : 0;
    if (s < min || s > max) throw new Error(`HU ${hu} does not fit ${bitsStored} stored bits`);
    // Two's complement within BitsStored, then (optionally) noise above it.
    const bits = s < 0 ? s + 2 ** bitsStored : s;
    return spec.highBitNoise && bitsStored < 16 ? bits | (0xffff ^ (2 ** bitsStored - 1)) : bits;
  };

  const files: Uint8Array[] = [];
  const frames: SegFrameSpec[] = [];
  const ctSopUids: string[] = [];
  let expectedMusclePixels = 0;
  for (let z = 0; z < spec.slices; z++) {
    const muscle = spec.musclePixels + 97 * Math.abs(z - spec.l3Slice);
    const inMask = [
      ...Array<number>(muscle).fill(MUSCLE), ...EDGE_IN, ...EDGE_OUT,
      ...Array<number>(Math.min(500, Math.floor(n / 20))).fill(FAT), ...Array<number>(Math.min(300, Math.floor(n / 30))).fill(BONE),
    ];
    if (inMask.length + 50 > n) throw new Error('phantom image too small for its mask');
    const hu = new Array<number>(n).fill(-1000); // air
    const mask = new Array<number>(n).fill(0);
    inMask.forEach((v, i) => { hu[i] = v; mask[i] = 1; });
    for (let i = inMask.length; i < inMask.length + 50; i++) hu[i] = MUSCLE; // muscle density outside the mask
    const sopUid = uidFor(`${spec.seed}/ct/${z}`);
    ctSopUids.push(sopUid);
    const zmm = -100 - 3 * z;
    files.push(toPart10(ctSlice(spec.patient, ct, {
      sopUid, instanceNumber: z + 1, rows: spec.rows, columns: spec.columns, pixelSpacing: spec.pixelSpacing, z: zmm,
      slope, intercept, pixelRepresentation: pr, bitsStored, stored: hu.map(stored),
    })));
    const type = spec.segmentationType ?? 'BINARY';
    frames.push({ segmentNumber: 1, source: { sopUid, z: zmm }, mask: type === 'FRACTIONAL' ? mask.map((m, i) => (m ? 200 : i % 2 ? 120 : 0)) : mask });
    if (z === spec.l3Slice) expectedMusclePixels = muscle + EDGE_IN.length;
  }
  if (spec.l3Segment) {
    for (let z = Math.max(0, spec.l3Slice - 1); z <= Math.min(spec.slices - 1, spec.l3Slice + 1); z++) {
      const vertebra = new Array<number>(n).fill(0);
      for (let i = n - 40; i < n; i++) vertebra[i] = spec.segmentationType === 'FRACTIONAL' ? 255 : 1;
      frames.push({ segmentNumber: 2, source: { sopUid: ctSopUids[z] ?? '', z: -100 - 3 * z }, mask: vertebra });
    }
  }
  const segSopUid = uidFor(`${spec.seed}/seg/1`);
  files.push(toPart10(segmentation(spec.patient, segSeries, {
    sopUid: segSopUid,
    rows: spec.rows,
    columns: spec.columns,
    pixelSpacing: spec.pixelSpacing,
    sourceSeriesUid: ct.seriesUid,
    ...(spec.segmentationType ? { type: spec.segmentationType } : {}),
    ...(spec.contentDate ? { contentDate: spec.contentDate } : {}),
    segments: [
      { number: 1, label: spec.muscleLabel ?? 'skeletal_muscle', category: code('123037004', 'SCT', 'Anatomical Structure'), type: code('127954009', 'SCT', 'Skeletal muscle') },
      ...(spec.l3Segment ? [{ number: 2, label: 'vertebrae_L3', category: code('123037004', 'SCT', 'Anatomical Structure'), type: code('36470004', 'SCT', 'L3 vertebra') }] : []),
    ],
    frames,
  })));
  const [rs, cs] = spec.pixelSpacing;
  return {
    files,
    ctSeriesUid: ct.seriesUid,
    segSeriesUid: segSeries.seriesUid,
    segSopUid,
    ctSopUids,
    expectedMusclePixels,
    expectedAreaCm2: Math.round(((expectedMusclePixels * rs * cs) / 100) * 1e6) / 1e6,
  };
}
