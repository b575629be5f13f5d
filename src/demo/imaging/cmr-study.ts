// A synthetic CMR study: MR image series named like a vendor's protocol, and a TID 1500-style SR with
// the measurements a post-processing tool would send (LOINC for LVEF and volumes, DCM T1/T2 in
// measurement groups that name their source series, project codes 99IMGCDS for what has no standard
// code, a cardiac-mass measurement group with its features).
import { PROJECT_SCHEME_DESIGNATOR } from '../../imaging/dicom-codes.ts';
import { code, mrImage, structuredReport, toPart10, uidFor, type Code, type PatientStudy, type SrItem } from './dicom-builders.ts';

const P = PROJECT_SCHEME_DESIGNATOR;
const UNITS: Record<string, Code> = {
  '%': code('%', 'UCUM', 'percent'),
  mL: code('mL', 'UCUM', 'milliliter'),
  'mL/m2': code('mL/m2', 'UCUM', 'milliliter per square meter'),
  g: code('g', 'UCUM', 'gram'),
  'g/m2': code('g/m2', 'UCUM', 'gram per square meter'),
  ms: code('ms', 'UCUM', 'millisecond'),
  cm2: code('cm2', 'UCUM', 'square centimeter'),
  cm: code('cm', 'UCUM', 'centimeter'),
  '{segments}': code('{segments}', 'UCUM', 'segments'),
};
const PRESENT = code('52101004', 'SCT', 'Present');
const ABSENT = code('272519000', 'SCT', 'Absent');

export interface SeriesSpec {
  description: string;
  instances: number;
  cardiacNumberOfImages?: number;
}

export interface CmrMeasurements {
  lvef?: number;
  lvEdv?: number;
  lvEsv?: number;
  lvEdvIndexed?: number;
  lvMass?: number;
  infarctSize?: number;
  mvo?: number;
  mvoSegments?: number;
  laReservoirStrain?: number;
  lvGls?: number;
  ecv?: number;
  haemorrhage?: boolean;
  /** Native T1 (ms), measured on the series with this description (must exist in the study). */
  nativeT1?: { value: number; series: string };
  t2?: { value: number; series: string };
}

export interface MassReport {
  features: Partial<Record<
    'infiltration' | 'first-pass-perfusion' | 'sessile' | 'polylobate' | 'pericardial-effusion' | 'heterogeneous-enhancement'
    | 'ti-scout-thrombus-pattern' | 'lge' | 'homogeneous', boolean>>;
  areaCm2?: number;
  diameterCm?: number;
  location?: string;
  diagnosis?: string;
  /** Mass: post-contrast T1 (ms) on the series with this description. */
  postContrastT1?: { value: number; series: string };
}

export interface CmrStudySpec {
  patient: PatientStudy;
  seed: string;
  series: SeriesSpec[];
  report?: { contentDate: string; measurements: CmrMeasurements; mass?: MassReport; enhanced?: boolean };
}

export interface CmrStudy {
  files: Uint8Array[];
  srSopUid?: string;
  seriesUids: Record<string, string>;
}

const num = (concept: Code, value: number, unit: string): SrItem => {
  const u = UNITS[unit];
  if (!u) throw new Error(`no UCUM unit ${unit}`);
  return { kind: 'num', concept, value, unit: u };
};
const flag = (concept: Code, value: boolean): SrItem => ({ kind: 'code', concept, value: value ? PRESENT : ABSENT });
const group = (children: SrItem[]): SrItem => ({ kind: 'container', concept: code('125007', 'DCM', 'Measurement Group'), children });
const sourceSeries = (uid: string): SrItem => ({ kind: 'uidref', concept: code('121232', 'DCM', 'Source series for segmentation'), value: uid, relationship: 'CONTAINS' });
const finding = (c: Code): SrItem => ({ kind: 'code', concept: code('121071', 'DCM', 'Finding'), value: c });

export function buildCmrStudy(spec: CmrStudySpec): CmrStudy {
  const files: Uint8Array[] = [];
  const seriesUids: Record<string, string> = {};
  spec.series.forEach((s, i) => {
    const series = { seriesUid: uidFor(`${spec.seed}/series/${i}`), seriesNumber: i + 1, seriesDescription: s.description, modality: 'MR' };
    seriesUids[s.description] = series.seriesUid;
    for (let k = 0; k < s.instances; k++) {
      files.push(toPart10(mrImage(spec.patient, series, {
        sopUid: uidFor(`${spec.seed}/series/${i}/${k}`),
        instanceNumber: k + 1,
        ...(s.cardiacNumberOfImages !== undefined ? { cardiacNumberOfImages: s.cardiacNumberOfImages } : {}),
      })));
    }
  });
  if (!spec.report) return { files, seriesUids };

  const m = spec.report.measurements;
  const seriesOf = (description: string): string => {
    const uid = seriesUids[description];
    if (!uid) throw new Error(`no series '${description}' in the study`);
    return uid;
  };
  const items: SrItem[] = [];
  const lv: SrItem[] = [];
  if (m.lvef !== undefined) lv.push(num(code('8811-2', 'LN', 'Left ventricular Ejection fraction by MR'), m.lvef, '%'));
  if (m.lvEdv !== undefined) lv.push(num(code('8821-1', 'LN', 'Left Ventricular ED Volume'), m.lvEdv, 'mL'));
  if (m.lvEdvIndexed !== undefined) lv.push(num(code('8821-1', 'LN', 'Left Ventricular ED Volume'), m.lvEdvIndexed, 'mL/m2'));
  if (m.lvEsv !== undefined) lv.push(num(code('8823-7', 'LN', 'Left Ventricular ES Volume'), m.lvEsv, 'mL'));
  if (m.lvMass !== undefined) lv.push(num(code('18087-7', 'LN', 'Left Ventricle Mass'), m.lvMass, 'g'));
  if (m.lvGls !== undefined) lv.push(num(code('lv-gls', P, 'LV global longitudinal strain'), m.lvGls, '%'));
  if (m.laReservoirStrain !== undefined) lv.push(num(code('la-reservoir-strain', P, 'Left atrial reservoir strain'), m.laReservoirStrain, '%'));
  if (lv.length) items.push(group(lv));
  const scar: SrItem[] = [];
  if (m.infarctSize !== undefined) scar.push(num(code('infarct-size', P, 'Infarct size'), m.infarctSize, '%'));
  if (m.mvo !== undefined) scar.push(num(code('mvo-extent', P, 'Microvascular obstruction'), m.mvo, '%'));
  if (m.mvoSegments !== undefined) scar.push(num(code('mvo-segments', P, 'MVO segments'), m.mvoSegments, '{segments}'));
  if (m.haemorrhage !== undefined) scar.push(flag(code('intramyocardial-haemorrhage', P, 'Intramyocardial haemorrhage'), m.haemorrhage));
  if (scar.length) items.push(group(scar));
  if (m.nativeT1) items.push(group([sourceSeries(seriesOf(m.nativeT1.series)), num(code('113063', 'DCM', 'T1'), m.nativeT1.value, 'ms')]));
  if (m.t2) items.push(group([sourceSeries(seriesOf(m.t2.series)), num(code('113065', 'DCM', 'T2'), m.t2.value, 'ms')]));
  if (m.ecv !== undefined) items.push(group([num(code('ecv', P, 'Extracellular volume fraction'), m.ecv, '%')]));

  const mass = spec.report.mass;
  if (mass) {
    const children: SrItem[] = [finding(code('cardiac-mass', P, 'Cardiac mass'))];
    for (const [feature, value] of Object.entries(mass.features)) {
      if (value !== undefined) children.push(flag(code(`mass-${feature}`, P, `Mass: ${feature}`), value));
    }
    if (mass.areaCm2 !== undefined) children.push(num(code('42798000', 'SCT', 'Area'), mass.areaCm2, 'cm2'));
    if (mass.diameterCm !== undefined) children.push(num(code('81827009', 'SCT', 'Diameter'), mass.diameterCm, 'cm'));
    if (mass.location) children.push({ kind: 'code', concept: code('mass-location', P, 'Mass location'), value: code(mass.location, P, mass.location) });
    if (mass.diagnosis) children.push({ kind: 'code', concept: code('mass-diagnosis', P, 'CMR diagnosis of the mass'), value: code(mass.diagnosis, P, mass.diagnosis) });
    items.push(group(children));
    if (mass.postContrastT1) {
      items.push(group([
        finding(code('cardiac-mass', P, 'Cardiac mass')),
        sourceSeries(seriesOf(mass.postContrastT1.series)),
        num(code('113063', 'DCM', 'T1'), mass.postContrastT1.value, 'ms'),
      ]));
    }
  }
  const srSeries = { seriesUid: uidFor(`${spec.seed}/sr`), seriesNumber: 900, seriesDescription: 'CMR measurements', modality: 'SR' };
  const srSopUid = uidFor(`${spec.seed}/sr/1`);
  files.push(toPart10(structuredReport(spec.patient, srSeries, {
    sopUid: srSopUid,
    ...(spec.report.enhanced ? { sopClass: 'enhanced' as const } : {}),
    contentDate: spec.report.contentDate,
    title: code('126000', 'DCM', 'Imaging Measurement Report'),
    content: [{ kind: 'container', concept: code('126010', 'DCM', 'Imaging Measurements'), children: items }],
  })));
  return { files, srSopUid, seriesUids };
}
