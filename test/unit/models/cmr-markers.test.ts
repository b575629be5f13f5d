import { assessCmrMarkers as assessCmrMarkersModel, metadata, type CmrMarkerInputs } from '../../../src/models/cmr-markers.ts';
import type { WordedFinding as CmrMarkerFinding } from '../../../src/services/cmr-ihd-macce/markers.ts';
import { markersInWords } from '../../support/wording.ts';

// Findings as the service shows them: statements and thresholds in the words of its card file.
const assessCmrMarkers = (...a: Parameters<typeof assessCmrMarkersModel>) => markersInWords(assessCmrMarkersModel(...a));
import type { Input } from '../../../src/models/types.ts';

const n = (name: string, value: number): Input<number> => ({ name, value, source: 'derived' });
const b = (name: string, value: boolean): Input<boolean> => ({ name, value, source: 'derived' });

const find = (inputs: CmrMarkerInputs, marker: string, citation: RegExp, ranges = {}): CmrMarkerFinding | undefined =>
  assessCmrMarkers(inputs, ranges).findings.find((f) => f.marker === marker && citation.test(f.citation));

describe('Single CMR markers (MODELS.md 1d)', () => {
  test('metadata', () => {
    expect(metadata.id).toBe('cmr-markers');
    expect(metadata.evidence).toBe('primary');
  });

  test('nothing measured: no findings, everything missing', () => {
    const r = assessCmrMarkers({});
    expect(r.findings).toEqual([]);
    expect(r.missing).toEqual(['infarctSize', 'mvo', 'lvef', 'laReservoirStrain', 'lvGls', 'haemorrhage', 'nativeT1', 't2']);
  });

  test.each([
    [18.9, false],
    [19, true],
  ])('infarct size %p % → flagged %p (≥ 19 %, Bulluck)', (v, flagged) => {
    const f = find({ infarctSize: n('is', v) }, 'infarctSize', /Bulluck/);
    expect(f?.flagged).toBe(flagged);
    expect(f?.kind).toBe('threshold');
    expect(f?.threshold).toBe('infarct size ≥ 19 % LV');
    expect(f?.evidence).toBe('primary');
  });

  test('infarct size: Stone weight per +5 %', () => {
    const f = find({ infarctSize: n('is', 25) }, 'infarctSize', /Stone/);
    expect(f?.flagged).toBeNull();
    expect(f?.statement).toBe(
      'Infarct size 25 % LV. Each +5 % absolute: all-cause death HR 1.19, heart-failure hospitalisation HR 1.20.',
    );
    expect(f?.citation).toBe('Stone GW et al., J Am Coll Cardiol 2016;67:1674–83');
  });

  test.each([
    [30, 39, false],
    [30.1, 39.9, true],
    [31, 40, false],
    [31, undefined, null],
    [undefined, 35, null],
    [20, undefined, false],
    [undefined, 45, false],
  ])('Bonanad: infarct size %p with LVEF %p → %p', (is, ef, flagged) => {
    const inputs: CmrMarkerInputs = {
      ...(is !== undefined ? { infarctSize: n('is', is) } : {}),
      ...(ef !== undefined ? { lvef: n('ef', ef) } : {}),
    };
    const f = find(inputs, 'infarctSizeWithLvef', /Bonanad/);
    expect(f?.flagged).toBe(flagged);
    if (flagged) expect(f?.statement).toBe(`Infarct size ${is} % LV > 30 % with LVEF ${ef} % < 40 %: 30 % events.`);
  });

  test.each([
    [1.4, false],
    [1.41, true],
  ])('MVO %p % → flagged %p (> 1.4 %)', (v, flagged) => {
    expect(find({ mvo: n('mvo', v) }, 'mvo', /Bulluck/)?.flagged).toBe(flagged);
  });

  test('MVO: de Waha weight per +1 % with DOI', () => {
    const f = find({ mvo: n('mvo', 2) }, 'mvo', /de Waha/);
    expect(f?.flagged).toBeNull();
    expect(f?.url).toBe('https://doi.org/10.1093/eurheartj/ehx414');
    expect(f?.statement).toBe('MVO 2 % LV. Each +1 %: death HR 1.14, heart-failure hospitalisation HR 1.08.');
  });

  test.each([
    [47, true],
    [47.1, false],
  ])('LVEF %p % → flagged %p (≤ 47 %, Bulluck)', (v, flagged) => {
    expect(find({ lvef: n('ef', v) }, 'lvef', /Bulluck/)?.flagged).toBe(flagged);
  });

  test.each([
    [40, false],
    [39.9, true],
  ])('LVEF %p % → flagged %p (< 40 %, Marcos-Garcés)', (v, flagged) => {
    expect(find({ lvef: n('ef', v) }, 'lvef', /Marcos-Garcés/)?.flagged).toBe(flagged);
  });

  test.each([
    [22, true],
    [22.1, false],
  ])('LA reservoir strain %p % → flagged %p (≤ 22 %)', (v, flagged) => {
    const f = find({ laReservoirStrain: n('la', v) }, 'laReservoirStrain', /Radiology 2020/);
    expect(f?.flagged).toBe(flagged);
    expect(f?.statement).toContain('HR 0.84 per unit');
  });

  test.each([-10, -14, -20])('CMR GLS %p % is shown without a threshold (echo −14 % not applied)', (v) => {
    const f = find({ lvGls: n('gls', v) }, 'lvGls', /Ersbøll/);
    expect(f?.flagged).toBeNull();
    expect(f?.kind).toBe('no-threshold');
    expect(f?.statement).toContain(`LV GLS ${v} % by CMR`);
    expect(f?.statement).toContain('not applied');
  });

  test('haemorrhage: per-segment HR, absent, boolean only, conflicting inputs', () => {
    const seg = find({ haemorrhageSegments: n('h', 3) }, 'haemorrhage', /Int J Cardiol 2013/);
    expect(seg?.flagged).toBe(true);
    expect(seg?.statement).toBe('Intramyocardial haemorrhage in 3 segment(s): HR 1.17 per affected segment.');
    expect(find({ haemorrhageSegments: n('h', 0) }, 'haemorrhage', /./)?.flagged).toBe(false);
    expect(find({ haemorrhage: b('h', false) }, 'haemorrhage', /./)?.flagged).toBe(false);
    const yes = find({ haemorrhage: b('h', true) }, 'haemorrhage', /./);
    expect(yes?.flagged).toBe(true);
    expect(yes?.statement).toContain('number of segments not given');
    const both = find({ haemorrhage: b('h', true), haemorrhageSegments: n('s', 2) }, 'haemorrhage', /./);
    expect(both?.flagged).toBe(true);
    expect(both?.inputs).toHaveLength(2);
    expect(find({ haemorrhage: b('h', true), haemorrhageSegments: n('s', 0) }, 'haemorrhage', /./)?.flagged).toBeNull();
  });

  test('native T1 / T2 without a site range: never flagged', () => {
    const r = assessCmrMarkers({ nativeT1: n('t1', 1400), t2: n('t2', 70) });
    expect(r.findings.map((f) => [f.marker, f.flagged, f.evidence])).toEqual([
      ['nativeT1', null, 'site-reference'],
      ['t2', null, 'site-reference'],
    ]);
  });

  test.each([
    [949, true],
    [950, false],
    [1050, false],
    [1051, true],
  ])('native T1 %p ms against site range 950–1050 → flagged %p', (v, flagged) => {
    const f = find({ nativeT1: n('t1', v) }, 'nativeT1', /Site/, { nativeT1: { low: 950, high: 1050 } });
    expect(f?.flagged).toBe(flagged);
    expect(f?.threshold).toBe('site reference range 950–1050 ms');
  });

  test.each([
    [39, true],
    [40, false],
    [50, false],
    [51, true],
  ])('T2 %p ms against site range 40–50 → flagged %p', (v, flagged) => {
    expect(find({ t2: n('t2', v) }, 't2', /Site/, { t2: { low: 40, high: 50 } })?.flagged).toBe(flagged);
  });

  test('all markers: findings in order, nothing missing, unusable values missing', () => {
    const r = assessCmrMarkers({
      infarctSize: n('is', 20),
      mvo: n('mvo', 2),
      lvef: n('ef', 45),
      laReservoirStrain: n('la', 25),
      lvGls: n('gls', -12),
      haemorrhage: b('h', false),
      nativeT1: n('t1', 1000),
      t2: n('t2', 45),
    });
    expect(r.missing).toEqual([]);
    expect(r.findings.map((f) => f.marker)).toEqual([
      'infarctSize', 'infarctSize', 'infarctSizeWithLvef', 'mvo', 'mvo', 'lvef', 'lvef', 'laReservoirStrain', 'lvGls', 'haemorrhage', 'nativeT1', 't2',
    ]);
    const bad = assessCmrMarkers({ lvef: n('ef', 140) });
    expect(bad.findings).toEqual([]);
    expect(bad.missing).toContain('lvef');
    expect(bad.notes[0]).toBe('LVEF: value 140 is not usable; treated as missing.');
  });
});
