import { CMR_RISK_TIERS, computeCmrRiskScore as computeCmrRiskScoreModel, metadata, type CmrRiskScoreInputs } from '../../../src/models/cmr-risk-score.ts';
import type { Input } from '../../../src/models/types.ts';
import { inMacceWords } from '../../support/wording.ts';

// Results as the service shows them: the model's notes in the words of its card file.
const computeCmrRiskScore = (...a: Parameters<typeof computeCmrRiskScoreModel>) => inMacceWords(computeCmrRiskScoreModel(...a));

const n = (name: string, value: number): Input<number> => ({ name, value, source: 'derived' });

/** All items absent-by-value: 0 points. */
const none: CmrRiskScoreInputs = {
  timeToReperfusion: n('timeToReperfusion', 3),
  graceScore: n('graceScore', 120),
  lvef: n('lvef', 55),
  mvoSegments: n('mvoSegments', 0),
};
const pointsOf = (inputs: CmrRiskScoreInputs, key: string): number | undefined =>
  computeCmrRiskScore(inputs).contributions.find((c) => c.input === key)?.points;

describe('CMR risk score (Marcos-Garcés 2022)', () => {
  test('metadata: primary, no invented DOI', () => {
    expect(metadata.id).toBe('cmr-risk-score');
    expect(metadata.evidence).toBe('primary');
    expect(metadata.url).not.toMatch(/doi/i);
    expect(metadata.citation).toContain('Int J Cardiol 2022;349:150–154');
  });

  test.each([
    ['timeToReperfusion', 4.15, 0],
    ['timeToReperfusion', 4.16, 1],
    ['graceScore', 155, 0],
    ['graceScore', 156, 3],
    ['lvef', 40, 0],
    ['lvef', 39.9, 3],
    ['mvoSegments', 1.5, 0],
    ['mvoSegments', 1.6, 1],
    ['mvoSegments', 1, 0],
    ['mvoSegments', 2, 1],
  ] as const)('%s %p → %p points', (key, value, points) => {
    expect(pointsOf({ ...none, [key]: n(key, value) }, key)).toBe(points);
  });

  test('all items → 8, high, 19.7 MACE/100 person-years', () => {
    const r = computeCmrRiskScore({
      timeToReperfusion: n('t', 5),
      graceScore: n('g', 170),
      lvef: n('lvef', 35),
      mvoSegments: n('mvo', 3),
    });
    expect(r.value).toBe(8);
    expect(r.display).toBe('8');
    expect(r.tier).toBe('high');
    expect(r.macePer100PersonYears).toBe(19.7);
    expect(r.outcome).toBe('MACE per 100 person-years');
    expect(r.probability).toBeUndefined();
    expect(r.range).toBeUndefined();
    expect(r.missing).toEqual([]);
    expect(r.inputs).toHaveLength(4);
  });

  test.each([
    // [time, grace, lvef, mvo] → total, tier, rate
    [[3, 120, 55, 0], 0, 'low', 1.96],
    [[5, 120, 55, 2], 2, 'low', 1.96],
    [[3, 156, 55, 0], 3, 'intermediate', 5.44],
    [[5, 156, 55, 2], 5, 'intermediate', 5.44],
    [[3, 156, 39, 0], 6, 'high', 19.7],
  ] as const)('tier edges %p → %p', (v, total, tier, rate) => {
    const r = computeCmrRiskScore({
      timeToReperfusion: n('t', v[0]),
      graceScore: n('g', v[1]),
      lvef: n('lvef', v[2]),
      mvoSegments: n('mvo', v[3]),
    });
    expect(r.value).toBe(total);
    expect(r.tier).toBe(tier);
    expect(r.macePer100PersonYears).toBe(rate);
  });

  test('tier table', () => {
    expect(CMR_RISK_TIERS.map((t) => [t.tier, t.min, t.max, t.macePer100PersonYears])).toEqual([
      ['low', 0, 2, 1.96],
      ['intermediate', 3, 5, 5.44],
      ['high', 6, 8, 19.7],
    ]);
  });

  test('partial: LVEF missing → range 0–3, tier undetermined', () => {
    const { lvef: _l, ...rest } = none;
    const r = computeCmrRiskScore(rest);
    expect(r.value).toBe(0);
    expect(r.range).toEqual({ min: 0, max: 3 });
    expect(r.display).toBe('0–3');
    expect(r.tier).toBeUndefined();
    expect(r.macePer100PersonYears).toBeUndefined();
    expect(r.missing).toEqual(['lvef']);
    // The card names the missing inputs in words; the note counts them (issue 10, item 9).
    expect(r.notes?.[0]).toBe('Score ≥ 0, 1 input(s) missing.');
  });

  test('partial: MVO missing with 0 known points → 0–1, still low', () => {
    const { mvoSegments: _m, ...rest } = none;
    const r = computeCmrRiskScore(rest);
    expect(r.range).toEqual({ min: 0, max: 1 });
    expect(r.tier).toBe('low');
    expect(r.macePer100PersonYears).toBe(1.96);
  });

  test('partial: GRACE > 155 and LVEF < 40 known, others missing → 6–8, high', () => {
    const r = computeCmrRiskScore({ graceScore: n('g', 200), lvef: n('lvef', 30) });
    expect(r.value).toBe(6);
    expect(r.range).toEqual({ min: 6, max: 8 });
    expect(r.tier).toBe('high');
    expect(r.missing).toEqual(['timeToReperfusion', 'mvoSegments']);
  });

  test('partial: 3–5 is intermediate, 5–6 is undetermined', () => {
    const a = computeCmrRiskScore({ graceScore: n('g', 200), lvef: n('lvef', 50) });
    expect(a.range).toEqual({ min: 3, max: 5 });
    expect(a.tier).toBe('intermediate');
    const b = computeCmrRiskScore({ graceScore: n('g', 200), timeToReperfusion: n('t', 6), mvoSegments: n('m', 4) });
    expect(b.range).toEqual({ min: 5, max: 8 });
    expect(b.tier).toBeUndefined();
  });

  test('no inputs → declines; unusable values are missing', () => {
    expect(computeCmrRiskScore({}).value).toBeNull();
    const r = computeCmrRiskScore({ ...none, lvef: n('lvef', Number.NaN) });
    expect(r.missing).toEqual(['lvef']);
    expect(r.range).toEqual({ min: 0, max: 3 });
  });
});
