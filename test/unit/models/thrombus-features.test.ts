import { assessThrombusFeatures as assessThrombusFeaturesModel, metadata, type ThrombusFeatureInputs } from '../../../src/models/thrombus-features.ts';
import { thrombusInWords } from '../../support/wording.ts';

// Features as the service shows them: criteria, accuracy and notes in the words of its card file.
const assessThrombusFeatures = (...a: Parameters<typeof assessThrombusFeaturesModel>) => thrombusInWords(assessThrombusFeaturesModel(...a));
import type { Input } from '../../../src/models/types.ts';

const n = (name: string, value: number): Input<number> => ({ name, value, source: 'derived' });
const b = (name: string, value: boolean): Input<boolean> => ({ name, value, source: 'derived' });

const statusOf = (inputs: ThrombusFeatureInputs, feature: string) =>
  assessThrombusFeatures(inputs).features.find((f) => f.feature === feature)?.status;

describe('Thrombus features (Pazos-López 2014, Table 3)', () => {
  test('metadata', () => {
    expect(metadata.evidence).toBe('primary');
    expect(metadata.citation).toBe('Pazos-López P et al., JACC Cardiovasc Imaging 2014, Table 3');
  });

  test('nothing assessed: every feature unknown, with its published accuracy', () => {
    const r = assessThrombusFeatures({});
    expect(r.unknown).toHaveLength(7);
    expect(r.missing).toEqual(r.unknown);
    expect(r.favouring).toEqual([]);
    expect(r.features.map((f) => [f.criterion, f.accuracy])).toEqual([
      ['typical TI-scout pattern', 'sensitivity 94 %, specificity 98 %'],
      ['absent LGE', 'accuracy 87 %'],
      ['absent first-pass perfusion', 'sensitivity 96 %, specificity 70 %'],
      ['area < 4.1 cm²', 'accuracy 86 %'],
      ['diameter < 2.4 cm', 'accuracy 82 %'],
      ['homogeneous', 'accuracy 84 %'],
      ['post-contrast T1 ≥ 422 ms', 'accuracy 73 %'],
    ]);
    expect(r.notes).toEqual([]);
  });

  test.each([
    ['areaCm2', 4.09, 'favours-thrombus'],
    ['areaCm2', 4.1, 'does-not-favour'],
    ['diameterCm', 2.39, 'favours-thrombus'],
    ['diameterCm', 2.4, 'does-not-favour'],
    ['postContrastT1', 421, 'does-not-favour'],
    ['postContrastT1', 422, 'favours-thrombus'],
  ] as const)('%s %p → %s', (feature, value, status) => {
    expect(statusOf({ [feature]: n(feature, value) }, feature)).toBe(status);
  });

  test.each([
    ['tiScoutTypical', true, 'favours-thrombus'],
    ['tiScoutTypical', false, 'does-not-favour'],
    ['lgePresent', false, 'favours-thrombus'],
    ['lgePresent', true, 'does-not-favour'],
    ['firstPassPerfusionPresent', false, 'favours-thrombus'],
    ['firstPassPerfusionPresent', true, 'does-not-favour'],
    ['homogeneous', true, 'favours-thrombus'],
    ['homogeneous', false, 'does-not-favour'],
  ] as const)('%s %p → %s', (feature, value, status) => {
    expect(statusOf({ [feature]: b(feature, value) }, feature)).toBe(status);
  });

  test('mixed: lists favouring, not favouring, unknown; TI-scout note without a probability', () => {
    const r = assessThrombusFeatures({
      tiScoutTypical: b('ti', true),
      lgePresent: b('lge', false),
      areaCm2: n('area', 6),
      postContrastT1: n('t1', 1000),
    });
    expect(r.favouring).toEqual(['tiScoutTypical', 'lgePresent', 'postContrastT1']);
    expect(r.notFavouring).toEqual(['areaCm2']);
    expect(r.unknown).toEqual(['firstPassPerfusionPresent', 'diameterCm', 'homogeneous']);
    expect(r.inputs).toHaveLength(4);
    expect(r.notes[0]).toBe(
      'Typical TI-scout pattern present: the single strongest feature in Pazos-López 2014 (sensitivity 94 %, specificity 98 %).',
    );
    expect(r).not.toHaveProperty('probability');
  });

  test('unusable values are unknown', () => {
    const r = assessThrombusFeatures({ areaCm2: n('area', Number.NaN) });
    expect(r.unknown).toContain('areaCm2');
    expect(r.notes[0]).toBe('area < 4.1 cm²: value NaN is not usable; treated as unknown.');
  });
});
