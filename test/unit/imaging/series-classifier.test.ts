// Series classification on real vendor series names. Where each name comes from:
//   UKBB   UK Biobank CMR protocol names, as matched in baiwenjia/ukbb_cardiac data/biobank_utils.py
//          (Bai W et al., J Cardiovasc Magn Reson 2018; UK Biobank showcase category 102).
//   HCM    a public HCM CMR preprocessing script in the search tool's code corpus (file 8570300016)
//          that sorts multi-vendor exams by SeriesDescription: Philips 'B-TFE_BH', 'sBTFE_BH_M2D',
//          'B-TFE_M2D_SA'; GE 'FIESTA CINE', '4CH FIESTA CINE'; Siemens 'cine_tf2d13_retro_iPAT',
//          'tf2d12_retro_iPAT', 'tfl_loc_short-axis_iPAT'; PSIR for LGE.
//   SYN    'SAX FIESTA Cine BH' from a public synthetic-CMR DICOM writer (search corpus file 22433039967).
//   DESIGN the names listed in DESIGN.md "Imaging" (FIESTA, trufi, bFFE, PSIR, MDE, DE_, DELAY, DHE,
//          "delayed enhancement", MOLLI, T1Map, T2Map, T2_MAP, PERF, first_pass, TI-Scout, LOOKLOCKER).
//   MOLLIpost  'MOLLI_post' in public T1-mapping research code (search corpus file 37906379602).
//   PHILIPS-IT ImageType ['ORIGINAL','PRIMARY','T1 MAP','T1','UNSPECIFIED'] (search corpus file 605664355).
import { classifySeries, loadSeriesPatterns, parseSeriesPatterns, type SeriesClass, type SeriesFacts } from '../../../src/imaging/series-classifier.ts';

const patterns = loadSeriesPatterns();
const classes = (facts: SeriesFacts): SeriesClass[] => classifySeries({ modality: 'MR', ...facts }, patterns);

const NAMED: Array<[string, string, SeriesClass[]]> = [
  // UK Biobank
  ['UKBB', 'CINE_segmented_SAX_b1', ['cine']],
  ['UKBB', 'CINE_segmented_SAX', ['cine']],
  ['UKBB', 'CINE_segmented_LAX_4Ch', ['cine']],
  ['UKBB', 'CINE_segmented_LAX_2Ch', ['cine']],
  ['UKBB', 'CINE_segmented_LVOT', ['cine']],
  ['UKBB', 'ShMOLLI_192i_SAX_b2s', ['t1-map']],
  ['UKBB', 'ShMOLLI_192i_SAX_b2s_SAX_b2s_SAX_b2s_T1MAP', ['t1-map']],
  ['UKBB', 'cine_tagging_3sl_SAX_b2s', ['strain']],
  ['UKBB', 'flow_250_tp_AoV_bh_ePAT@c', []],
  // Philips
  ['HCM', 'B-TFE_BH', ['cine']],
  ['HCM', 'sBTFE_BH_M2D', ['cine']],
  ['HCM', 'B-TFE_M2D_SA', ['cine']],
  ['DESIGN', 'bFFE 4ch', ['cine']],
  // GE
  ['HCM', 'FIESTA CINE', ['cine']],
  ['HCM', '4CH FIESTA CINE', ['cine']],
  ['SYN', 'SAX FIESTA Cine BH', ['cine']],
  ['DESIGN', '2D MDE SAX', ['lge']],
  // Siemens
  ['HCM', 'cine_tf2d13_retro_iPAT', ['cine']],
  ['HCM', 'tf2d12_retro_iPAT', ['cine']],
  ['DESIGN', 'trufi_cine_sax', ['cine']],
  ['HCM', 'PSIR SAX', ['lge']],
  ['DESIGN', 'de_psir_sax', ['lge']],
  ['DESIGN', 'DE_SAX', ['lge']],
  ['DESIGN', 'DELAY 10 MIN', ['lge']],
  ['DESIGN', 'DHE short axis', ['lge']],
  ['DESIGN', 'delayed enhancement', ['lge']],
  ['DESIGN', 'MOLLI 5(3)3 SAX', ['t1-map']],
  ['DESIGN', 'T1Map_SAX_mid', ['t1-map']],
  ['MOLLIpost', 'MOLLI_post', ['t1-map-post-contrast']],
  ['DESIGN', 'T2Map_SAX', ['t2-map']],
  ['DESIGN', 'T2_MAP basal', ['t2-map']],
  ['DESIGN', 'PERF_REST', ['perfusion']],
  ['DESIGN', 'first_pass_perfusion', ['perfusion']],
  ['DESIGN', 'TI-Scout', ['ti-scout']],
  ['DESIGN', 'LOOKLOCKER 4ch', ['ti-scout']],
];

describe('classifySeries on real vendor series names', () => {
  it.each(NAMED)('%s: %s → %j', (_source, description, expected) => {
    expect(classes({ description })).toEqual(expected);
  });

  it('the localizer and the TI scout are not cines', () => {
    // HCM: 'tfl_loc_short-axis_iPAT' is a Siemens localizer (turbo FLASH), not a balanced SSFP cine.
    expect(classes({ description: 'tfl_loc_short-axis_iPAT' })).toEqual([]);
    expect(classes({ description: 'TI-Scout', cardiacNumberOfImages: 25 })).toEqual(['ti-scout']);
  });
});

describe('classifySeries beyond the description', () => {
  it('reads a T1 map from ImageType (Philips T1 MAP value)', () => {
    expect(classes({ description: 'SAX mid', imageType: ['ORIGINAL', 'PRIMARY', 'T1 MAP', 'T1', 'UNSPECIFIED'] })).toEqual(['t1-map']);
  });

  it('takes a series with many cardiac phases and no other name as a cine', () => {
    expect(classes({ description: 'SA 8', cardiacNumberOfImages: 30 })).toEqual(['cine']);
    expect(classes({ description: 'SA 8', cardiacNumberOfImages: 1 })).toEqual([]);
  });

  it('classes SR and SEG by modality', () => {
    expect(classifySeries({ modality: 'SR', description: 'cvi42 report' }, patterns)).toEqual(['sr']);
    expect(classifySeries({ modality: 'SEG', description: 'PSIR contours' }, patterns)).toEqual(['seg']);
  });

  it('rejects a pattern file with an invalid regular expression at load', () => {
    const bad = { description: 'x', rules: [{ class: 'cine', description: ['(unclosed'], sources: ['x'] }], byModality: {} };
    expect(() => parseSeriesPatterns(bad)).toThrow(/invalid regular expression/);
  });
});
