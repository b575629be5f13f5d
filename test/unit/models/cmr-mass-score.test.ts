import { computeCmrMassScore as computeCmrMassScoreModel, metadata, type CmrMassScoreInputs } from '../../../src/models/cmr-mass-score.ts';
import type { Input } from '../../../src/models/types.ts';
import { inMassWords } from '../../support/wording.ts';

// Results as the service shows them: the model's notes in the words of its card file.
const computeCmrMassScore = (...a: Parameters<typeof computeCmrMassScoreModel>) => inMassWords(computeCmrMassScoreModel(...a));

const b = (name: string, value: boolean): Input<boolean> => ({ name, value, source: 'derived' });
const all = (value: boolean): Required<CmrMassScoreInputs> => ({
  infiltration: b('infiltration', value),
  firstPassPerfusion: b('firstPassPerfusion', value),
  sessile: b('sessile', value),
  polylobate: b('polylobate', value),
  pericardialEffusion: b('pericardialEffusion', value),
  heterogeneousEnhancement: b('heterogeneousEnhancement', value),
});

describe('CMR Mass Score (Paolisso 2024)', () => {
  test('metadata: secondary because of the weights', () => {
    expect(metadata.id).toBe('cmr-mass-score');
    expect(metadata.evidence).toBe('secondary');
    expect(metadata.url).toBe('https://pubmed.ncbi.nlm.nih.gov/38502734/');
    expect(metadata.notes?.[0]).toMatch(/weights.*\[S\]/);
  });

  test('all present = 8, likely malignant', () => {
    const r = computeCmrMassScore(all(true));
    expect(r.value).toBe(8);
    expect(r.tier).toBe('likely malignant');
    expect(r.contributions.map((c) => c.points)).toEqual([2, 2, 1, 1, 1, 1]);
    expect(r.probability).toBeUndefined();
  });

  test('all absent = 0, likely benign', () => {
    const r = computeCmrMassScore(all(false));
    expect(r.value).toBe(0);
    expect(r.tier).toBe('likely benign');
    expect(r.missing).toEqual([]);
  });

  test('infiltration + perfusion + heterogeneous enhancement = 5 → malignant', () => {
    const r = computeCmrMassScore({
      ...all(false),
      infiltration: b('i', true),
      firstPassPerfusion: b('p', true),
      heterogeneousEnhancement: b('h', true),
    });
    expect(r.value).toBe(5);
    expect(r.tier).toBe('likely malignant');
  });

  test('4 → benign', () => {
    const r = computeCmrMassScore({ ...all(false), infiltration: b('i', true), firstPassPerfusion: b('p', true) });
    expect(r.value).toBe(4);
    expect(r.tier).toBe('likely benign');
    const r2 = computeCmrMassScore({ ...all(true), infiltration: b('i', false), firstPassPerfusion: b('p', false) });
    expect(r2.value).toBe(4);
    expect(r2.tier).toBe('likely benign');
  });

  test('missing features → range; tier only when determinate', () => {
    const { infiltration: _i, ...rest } = all(false);
    const a = computeCmrMassScore(rest);
    expect(a.value).toBe(0);
    expect(a.range).toEqual({ min: 0, max: 2 });
    expect(a.tier).toBe('likely benign');
    expect(a.missing).toEqual(['infiltration']);

    const b4 = computeCmrMassScore({ ...rest, firstPassPerfusion: b('p', true), sessile: b('s', true), polylobate: b('pl', true) });
    expect(b4.value).toBe(4);
    expect(b4.range).toEqual({ min: 4, max: 6 });
    expect(b4.tier).toBeUndefined();

    const c = computeCmrMassScore({ firstPassPerfusion: b('p', true), infiltration: b('i', true), sessile: b('s', true) });
    expect(c.range).toEqual({ min: 5, max: 8 });
    expect(c.tier).toBe('likely malignant');
    expect(c.missing).toEqual(['polylobate', 'pericardialEffusion', 'heterogeneousEnhancement']);
    expect(c.notes).toContain('Score ≥ 5, 3 feature(s) not assessed: polylobate, pericardial effusion, heterogeneous enhancement (LGE).');
  });

  test('nothing assessed → declines', () => {
    const r = computeCmrMassScore({});
    expect(r.value).toBeNull();
    expect(r.missing).toHaveLength(6);
  });
});
