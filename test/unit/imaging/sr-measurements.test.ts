// SR content → inputs, on SRs written with dcmjs and read back from Part 10 (the DICOM JSON model the
// archive's instance metadata gives). The archive itself is exercised in test/integration/imaging.
import dcmjs from 'dcmjs';
import { loadTerminology, DEFAULT_PROFILES_DIR } from '../../../src/fhir/terminology.ts';
import { createUnitConverter } from '../../../src/fhir/units.ts';
import { code, structuredReport, toPart10, uidFor, type SrItem } from '../../../src/demo/imaging/dicom-builders.ts';
import { buildCmrStudy } from '../../../src/demo/imaging/cmr-study.ts';
import { datasetSchema, type DicomDataset } from '../../../src/imaging/dicom-json.ts';
import { loadDicomConceptMap } from '../../../src/imaging/dicom-concept-map.ts';
import { readSrMeasurements } from '../../../src/imaging/sr-measurements.ts';
import type { SeriesClass } from '../../../src/imaging/series-classifier.ts';

dcmjs.log.setLevel('silent');
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');
const terminology = loadTerminology([DEFAULT_PROFILES_DIR]);
const units = createUnitConverter();
const conceptMap = loadDicomConceptMap();
const patient = { patientId: 'P-SR', patientName: 'Report^Test', studyUid: uidFor('sr-study'), studyDate: '20260310', studyDescription: 'CMR' };

const asMetadata = (part10: Uint8Array): DicomDataset => datasetSchema.parse(dcmjs.data.DicomMessage.readFile(part10.slice().buffer).dict);

function read(items: SrItem[], classes: Record<string, SeriesClass[]> = {}) {
  const sr = structuredReport(patient, { seriesUid: uidFor('sr-series'), seriesNumber: 9, seriesDescription: 'report', modality: 'SR' }, {
    sopUid: uidFor(JSON.stringify(items)), contentDate: '20260311', contentTime: '101500',
    title: code('126000', 'DCM', 'Imaging Measurement Report'),
    content: [{ kind: 'container', concept: code('126010', 'DCM', 'Imaging Measurements'), children: items }],
  });
  return readSrMeasurements(asMetadata(toPart10(sr)), { terminology, units, conceptMap, seriesClasses: (uid) => classes[uid] });
}
const num = (c: [string, string], value: number, unit: string): SrItem => ({ kind: 'num', concept: code(c[0], c[1], c[0]), value, unit: code(unit, 'UCUM', unit) });
const group = (children: SrItem[]): SrItem => ({ kind: 'container', concept: code('125007', 'DCM', 'Measurement Group'), children });
const source = (uid: string): SrItem => ({ kind: 'uidref', concept: code('121232', 'DCM', 'Source series for segmentation'), value: uid });
const massFinding: SrItem = { kind: 'code', concept: code('121071', 'DCM', 'Finding'), value: code('cardiac-mass', '99IMGCDS', 'Cardiac mass') };
const LVEF_MR: [string, string] = ['8811-2', 'LN'];
const T1: [string, string] = ['113063', 'DCM'];

describe('readSrMeasurements', () => {
  it('reads the demo CMR report: same names, units and values as the FHIR path, source dicom:<SOP UID>', () => {
    const study = buildCmrStudy({
      patient, seed: 'unit-cmr',
      series: [{ description: 'MOLLI 5(3)3 SAX', instances: 1 }, { description: 'T2Map_SAX', instances: 1 }],
      report: {
        contentDate: '20260311',
        measurements: {
          lvef: 35, lvEdv: 182, lvEdvIndexed: 94.3, lvEsv: 118, lvMass: 141, infarctSize: 28, mvo: 2.1, mvoSegments: 3,
          laReservoirStrain: 18, lvGls: -11, ecv: 31, haemorrhage: true,
          nativeT1: { value: 1180, series: 'MOLLI 5(3)3 SAX' }, t2: { value: 62, series: 'T2Map_SAX' },
        },
      },
    });
    const srFile = study.files.at(-1);
    if (!srFile || !study.srSopUid) throw new Error('no SR');
    const classes: Record<string, SeriesClass[]> = {
      [study.seriesUids['MOLLI 5(3)3 SAX'] ?? '']: ['t1-map'],
      [study.seriesUids['T2Map_SAX'] ?? '']: ['t2-map'],
    };
    const r = readSrMeasurements(asMetadata(srFile), { terminology, units, conceptMap, seriesClasses: (uid) => classes[uid] });
    const source = `dicom:${study.srSopUid}`;
    const v = (name: keyof typeof r.cmr) => [r.cmr[name]?.value, r.cmr[name]?.unit, r.cmr[name]?.source];
    expect(v('lvef')).toEqual([35, '%', source]);
    expect(v('lvEdv')).toEqual([182, 'mL', source]);
    expect(v('lvEdvIndexed')).toEqual([94.3, 'mL/m2', source]);
    expect(v('lvEsv')).toEqual([118, 'mL', source]);
    expect(v('lvMass')).toEqual([141, 'g', source]);
    expect(v('infarctSize')).toEqual([28, '%', source]);
    expect(v('mvo')).toEqual([2.1, '%', source]);
    expect(v('mvoSegments')).toEqual([3, '{segments}', source]);
    expect(v('laReservoirStrain')).toEqual([18, '%', source]);
    expect(v('lvGls')).toEqual([-11, '%', source]);
    expect(v('ecv')).toEqual([31, '%', source]);
    expect(v('nativeT1')).toEqual([1180, 'ms', source]);
    expect(v('t2')).toEqual([62, 'ms', source]);
    expect(r.cmr.haemorrhage?.value).toBe(true);
    expect(r.cmr.lvef?.date).toBe('2026-03-11T12:00:00');
    expect(r.cmr.lvef?.name).toBe('lvef');
    expect(r.mass).toEqual({});
  });

  it('reads the cardiac-mass group: features, size, location and the post-contrast T1 on a post-contrast map', () => {
    const study = buildCmrStudy({
      patient, seed: 'unit-mass',
      series: [{ description: 'MOLLI_post', instances: 1 }, { description: 'MOLLI 5(3)3 SAX', instances: 1 }],
      report: {
        contentDate: '20260311',
        measurements: { nativeT1: { value: 1010, series: 'MOLLI 5(3)3 SAX' } },
        mass: {
          features: { 'ti-scout-thrombus-pattern': true, lge: false, 'first-pass-perfusion': false, homogeneous: true, sessile: true, infiltration: false },
          areaCm2: 2.1, diameterCm: 1.5, location: 'left-ventricle', diagnosis: 'thrombus',
          postContrastT1: { value: 480, series: 'MOLLI_post' },
        },
      },
    });
    const srFile = study.files.at(-1);
    if (!srFile) throw new Error('no SR');
    const classes: Record<string, SeriesClass[]> = {
      [study.seriesUids['MOLLI_post'] ?? '']: ['t1-map-post-contrast'],
      [study.seriesUids['MOLLI 5(3)3 SAX'] ?? '']: ['t1-map'],
    };
    const r = readSrMeasurements(asMetadata(srFile), { terminology, units, conceptMap, seriesClasses: (uid) => classes[uid] });
    expect(r.mass.finding?.value).toBe(true);
    expect(r.mass.tiScoutTypical?.value).toBe(true);
    expect(r.mass.lgePresent?.value).toBe(false);
    expect(r.mass.firstPassPerfusion?.value).toBe(false);
    expect(r.mass.homogeneous?.value).toBe(true);
    expect(r.mass.sessile?.value).toBe(true);
    expect(r.mass.infiltration?.value).toBe(false);
    expect([r.mass.areaCm2?.value, r.mass.areaCm2?.unit]).toEqual([2.1, 'cm2']);
    expect([r.mass.diameterCm?.value, r.mass.diameterCm?.unit]).toEqual([1.5, 'cm']);
    expect(r.mass.location?.value).toBe('left-ventricle');
    expect(r.mass.diagnosis?.value).toBe('thrombus');
    expect([r.mass.postContrastT1?.value, r.mass.postContrastT1?.unit]).toEqual([480, 'ms']);
    // The myocardial native T1 stays the myocardium's; the mass's T1 never becomes a native T1.
    expect(r.cmr.nativeT1?.value).toBe(1010);
  });

  it('uses a DICOM T1 only when its source series says which kind of map it was measured on', () => {
    const molli = uidFor('molli');
    const post = uidFor('post');
    expect(read([group([num(T1, 1000, 'ms')])]).cmr.nativeT1).toBeUndefined();
    expect(read([group([source(molli), num(T1, 1000, 'ms')])], { [molli]: ['t1-map'] }).cmr.nativeT1?.value).toBe(1000);
    // a post-contrast map outside a mass group: neither native T1 nor the mass's T1
    const r = read([group([source(post), num(T1, 450, 'ms')])], { [post]: ['t1-map-post-contrast'] });
    expect(r.cmr.nativeT1).toBeUndefined();
    expect(r.mass.postContrastT1).toBeUndefined();
    // a native map inside the mass group: not the myocardium's native T1, not a post-contrast T1
    const inMass = read([group([massFinding, source(molli), num(T1, 1300, 'ms')])], { [molli]: ['t1-map'] });
    expect(inMass.cmr.nativeT1).toBeUndefined();
    expect(inMass.mass.postContrastT1).toBeUndefined();
  });

  it('converts UCUM units and refuses a unit of another quantity', () => {
    const molli = uidFor('molli-s');
    expect(read([group([source(molli), num(T1, 1.18, 's')])], { [molli]: ['t1-map'] }).cmr.nativeT1).toMatchObject({ value: 1180, unit: 'ms', original: { value: 1.18, unit: 's' } });
    expect(read([num(LVEF_MR, 0.35, '1')]).cmr.lvef).toMatchObject({ value: 35, unit: '%' });
    const mm = read([num(LVEF_MR, 35, 'mm')]);
    expect(mm.cmr.lvef).toBeUndefined();
    expect(mm.reasons.cmr.lvef).toMatch(/'mm', which is not a unit of an ejection fraction/);
    // The FHIR path's unit rules (src/fhir/quantities.ts), not mere convertibility: UCUM turns a strain
    // of -0.11 '1' into -11 %, but a strain is only read in %; an infarct in g is a mass, not a share.
    const strain = read([num(['lv-gls', '99IMGCDS'], -0.11, '1')]);
    expect(strain.cmr.lvGls).toBeUndefined();
    expect(strain.reasons.cmr.lvGls).toMatch(/'1', which is not a unit of a strain in %/);
    const infarctMass = read([num(['infarct-size', '99IMGCDS'], 12, 'g')]);
    expect(infarctMass.cmr.infarctSize).toBeUndefined();
    expect(infarctMass.reasons.cmr.infarctSize).toMatch(/'g': an infarct mass, not a percentage of the LV/);
    const noUcum = read([{ kind: 'num', concept: code('8811-2', 'LN', 'LVEF'), value: 35, unit: code('percent', '99LOCAL', 'percent') }]);
    expect(noUcum.cmr.lvef).toBeUndefined();
    expect(noUcum.reasons.cmr.lvef).toMatch(/no UCUM unit/);
    // the indexed volume is told by its unit
    expect(read([num(['8821-1', 'LN'], 94, 'mL/m2')]).cmr).toMatchObject({ lvEdvIndexed: { value: 94 } });
    expect(read([num(['8821-1', 'LN'], 94, 'mL/m2')]).cmr.lvEdv).toBeUndefined();
  });

  it('refuses values outside the possible range and conflicting values in one report', () => {
    expect(read([num(['infarct-size', '99IMGCDS'], 120, '%')]).reasons.cmr.infarctSize).toMatch(/outside the possible range/);
    expect(read([num(['mvo-segments', '99IMGCDS'], 2.5, '{segments}')]).cmr.mvoSegments).toBeUndefined();
    const conflict = read([num(LVEF_MR, 35, '%'), num(LVEF_MR, 45, '%')]);
    expect(conflict.cmr.lvef).toBeUndefined();
    expect(conflict.reasons.cmr.lvef).toMatch(/different values \(35, 45\)/);
    expect(read([num(LVEF_MR, 35, '%'), num(LVEF_MR, 35, '%')]).cmr.lvef?.value).toBe(35);
  });

  it('never takes an LVEF of unstated method (LOINC 10230-1) as a CMR LVEF', () => {
    const r = read([num(['10230-1', 'LN'], 40, '%')]);
    expect(r.cmr.lvef).toBeUndefined();
    expect(r.reasons.cmr.lvef).toMatch(/10230-1/);
  });

  it('reads yes/no answers as well as present/absent, and refuses other answers', () => {
    const haem = code('intramyocardial-haemorrhage', '99IMGCDS', 'haemorrhage');
    expect(read([{ kind: 'code', concept: haem, value: code('373067005', 'SCT', 'No') }]).cmr.haemorrhage?.value).toBe(false);
    expect(read([{ kind: 'code', concept: haem, value: code('373066001', 'SCT', 'Yes') }]).cmr.haemorrhage?.value).toBe(true);
    const other = read([{ kind: 'code', concept: haem, value: code('373068000', 'SCT', 'Undetermined') }]);
    expect(other.cmr.haemorrhage).toBeUndefined();
    expect(other.reasons.cmr.haemorrhage).toMatch(/Undetermined/);
  });
});
