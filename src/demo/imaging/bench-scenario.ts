// The benchmark's imaging patient (issue 13, "Benchmark"): 3 CMR studies of 15 MR series × 50
// instances each (plus one SR per study, in its own series), and 1 abdominal CT of 512 × 512 slices
// with a DICOM SEG of skeletal muscle over every slice and an L3 vertebra segment. Only the newest CMR
// study's SR and the SEG with its one L3 slice should be read, never a whole series.
import { buildCmrStudy, type SeriesSpec } from './cmr-study.ts';
import { buildCtPhantom } from './ct-phantom.ts';
import { uidFor } from './dicom-builders.ts';

export const BENCH_PATIENT_ID = 'BENCH-IMAGING-1';

/** Series descriptions of a typical CMR protocol (names as in series-patterns.json's sources). */
const PROTOCOL = [
  'tfl_loc_short-axis_iPAT', 'trufi_cine_2ch', 'trufi_cine_4ch', 'trufi_cine_3ch', 'trufi_cine_sax', 'TI-Scout', 'MOLLI 5(3)3 SAX',
  'T2Map_SAX', 'PERF_REST', 'de_psir_sax', 'de_psir_4ch', 'de_psir_2ch', 'MOLLI_post', 'cine_tagging_3sl_SAX_b2s', 'flow_250_tp_AoV_bh_ePAT@c',
];

export interface BenchImagingPatient {
  patientId: string;
  files: Uint8Array[];
  /** Newest CMR study's LVEF and the CT's L3 area, to check the reading. */
  expected: { lvef: number; muscleAreaCm2: number };
  counts: { cmrStudies: number; seriesPerStudy: number; instancesPerSeries: number; ctSlices: number };
}

/** A DICOM DA value `days` before `now`. */
const daysBefore = (now: Date, days: number): string => new Date(now.getTime() - days * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');

/**
 * `now`: the studies are dated relative to it (CMR about 2 years, 1 year and 30 days before, the CT 35
 * days before), so that the newest ones stay within the services' one-year look-backs whenever the
 * benchmark runs.
 */
export function benchImagingPatient(opts: { instancesPerSeries?: number; ctSlices?: number; ctSize?: number; now?: Date } = {}): BenchImagingPatient {
  const now = opts.now ?? new Date();
  const instances = opts.instancesPerSeries ?? 50;
  const series: SeriesSpec[] = PROTOCOL.map((description) => ({
    description, instances, ...(description.includes('cine') ? { cardiacNumberOfImages: instances } : {}),
  }));
  const person = { patientId: BENCH_PATIENT_ID, patientName: 'Bench^Imaging' };
  const files: Uint8Array[] = [];
  const lvefs = [52, 47, 41];
  [daysBefore(now, 720), daysBefore(now, 350), daysBefore(now, 30)].forEach((date, i) => {
    const study = buildCmrStudy({
      patient: { ...person, studyUid: uidFor(`bench/cmr/${i}`), studyDate: date, studyDescription: 'CMR VIABILITY' },
      seed: `bench/cmr/${i}`,
      series,
      report: {
        contentDate: date,
        measurements: {
          lvef: lvefs[i] ?? 50, lvEdv: 170, lvEsv: 95, infarctSize: 10 + i, mvo: 0.5, mvoSegments: 1, laReservoirStrain: 24, lvGls: -15,
          nativeT1: { value: 1020, series: 'MOLLI 5(3)3 SAX' }, t2: { value: 52, series: 'T2Map_SAX' },
        },
      },
    });
    files.push(...study.files);
  });
  const size = opts.ctSize ?? 512;
  const ct = buildCtPhantom({
    patient: { ...person, studyUid: uidFor('bench/ct'), studyDate: daysBefore(now, 35), studyDescription: 'CT ABDOMEN' },
    seed: 'bench/ct', rows: size, columns: size, pixelSpacing: [0.78125, 0.78125], slices: opts.ctSlices ?? 40, l3Slice: 20,
    l3Segment: true, musclePixels: 18_000, pixelRepresentation: 1, intercept: 0, bitsStored: 16,
  });
  files.push(...ct.files);
  return {
    patientId: BENCH_PATIENT_ID,
    files,
    expected: { lvef: lvefs[2] ?? 0, muscleAreaCm2: ct.expectedAreaCm2 },
    counts: { cmrStudies: 3, seriesPerStudy: PROTOCOL.length, instancesPerSeries: instances, ctSlices: opts.ctSlices ?? 40 },
  };
}
