import { computeGrace as computeGraceModel, graceNsteAcsTier, metadata, type GraceInputs } from '../../../src/models/grace.ts';
import type { Input } from '../../../src/models/types.ts';
import { inMacceWords } from '../../support/wording.ts';

// Results as the service shows them: the model's notes in the words of its card file.
const computeGrace = (...a: Parameters<typeof computeGraceModel>) => inMacceWords(computeGraceModel(...a));

const n = (name: string, value: number, unit?: string): Input<number> => ({ name, value, unit, source: 'derived' });
const b = (name: string, value: boolean): Input<boolean> => ({ name, value, source: 'derived' });

/** MODELS.md 1b worked example. */
const example: GraceInputs = {
  age: n('age', 57, 'a'),
  heartRate: n('heartRate', 70, '/min'),
  systolicBp: n('systolicBp', 110, 'mm[Hg]'),
  creatinine: n('creatinine', 1.2, 'mg/dL'),
  killipClass: n('killipClass', 3),
  cardiacArrest: b('cardiacArrest', true),
  stDeviation: b('stDeviation', true),
  elevatedEnzymes: b('elevatedEnzymes', false),
};

const pointsOf = (inputs: GraceInputs, item: string): number | undefined =>
  computeGrace(inputs).contributions.find((c) => c.input === item)?.points;

describe('GRACE in-hospital death', () => {
  test('metadata', () => {
    expect(metadata.id).toBe('grace-in-hospital');
    expect(metadata.citation).toBe('Granger CB et al., Arch Intern Med 2003;163:2345–53');
    expect(metadata.evidence).toBe('secondary');
  });

  test('worked example: logit −1.28364, probability 0.21693', () => {
    const r = computeGrace(example);
    expect(r.logit).toBeCloseTo(-1.28364, 4);
    expect(r.probability).toBeCloseTo(0.21693, 4);
    expect(r.outcome).toBe('in-hospital death');
    // points: 41 + 9 + 43 + 10 + 39 + 39 + 28 + 0 = 209 → high
    expect(r.value).toBe(209);
    expect(r.display).toBe('209');
    expect(r.tier).toBe('high');
    expect(r.missing).toEqual([]);
    expect(r.range).toBeUndefined();
    expect(r.inputs).toHaveLength(8);
    expect(r.contributions.map((c) => [c.input, c.points])).toEqual([
      ['age', 41],
      ['heartRate', 9],
      ['systolicBp', 43],
      ['creatinine', 10],
      ['killipClass', 39],
      ['cardiacArrest', 39],
      ['stDeviation', 28],
      ['elevatedEnzymes', 0],
    ]);
    expect(r.contributions[0]!.band).toBe('50–59 years');
    expect(r.contributions[4]!.band).toBe('Killip III');
  });

  const edges: Array<[keyof GraceInputs, string, Array<[number, number]>]> = [
    ['age', 'a', [[29, 0], [30, 8], [39, 8], [40, 25], [49, 25], [50, 41], [59, 41], [60, 58], [69, 58], [70, 75], [79, 75], [80, 91], [89, 91], [90, 100]]],
    ['heartRate', '/min', [[49, 0], [50, 3], [69, 3], [70, 9], [89, 9], [90, 15], [109, 15], [110, 24], [149, 24], [150, 38], [199, 38], [200, 46]]],
    ['systolicBp', 'mm[Hg]', [[79, 58], [80, 53], [99, 53], [100, 43], [119, 43], [120, 34], [139, 34], [140, 24], [159, 24], [160, 10], [199, 10], [200, 0]]],
    ['creatinine', 'mg/dL', [[0.39, 1], [0.4, 4], [0.79, 4], [0.8, 7], [1.19, 7], [1.2, 10], [1.59, 10], [1.6, 13], [1.99, 13], [2.0, 21], [3.99, 21], [4.0, 28]]],
    ['killipClass', '', [[1, 0], [2, 20], [3, 39], [4, 59]]],
  ];
  for (const [item, unit, cases] of edges) {
    test.each(cases)(`${item} %p → %p points`, (value, points) => {
      expect(pointsOf({ ...example, [item]: n(item, value, unit) }, item)).toBe(points);
    });
  }

  test.each([
    ['cardiacArrest', 39],
    ['stDeviation', 28],
    ['elevatedEnzymes', 14],
  ] as const)('%s yes → %p points, no → 0', (item, points) => {
    expect(pointsOf({ ...example, [item]: b(item, true) }, item)).toBe(points);
    expect(pointsOf({ ...example, [item]: b(item, false) }, item)).toBe(0);
  });

  const make = (v: [number, number, number, number, number, boolean, boolean, boolean]): GraceInputs => ({
    age: n('age', v[0]),
    heartRate: n('heartRate', v[1]),
    systolicBp: n('systolicBp', v[2]),
    creatinine: n('creatinine', v[3]),
    killipClass: n('killipClass', v[4]),
    cardiacArrest: b('cardiacArrest', v[5]),
    stDeviation: b('stDeviation', v[6]),
    elevatedEnzymes: b('elevatedEnzymes', v[7]),
  });

  // Tier edges 125/126 and 154/155 (owners' STEMI bands).
  test.each([
    // 25 + 9 + 0 + 4 + 20 + 39 + 28 + 0
    [125, 'low', [40, 70, 200, 0.4, 2, true, true, false]],
    // 41 + 3 + 0 + 4 + 39 + 39 + 0 + 0
    [126, 'intermediate', [50, 50, 200, 0.4, 3, true, false, false]],
    // 100 + 9 + 24 + 21 + 0
    [154, 'intermediate', [90, 70, 140, 2.0, 1, false, false, false]],
    // 100 + 3 + 24 + 28 + 0
    [155, 'high', [90, 50, 140, 4.0, 1, false, false, false]],
  ] as const)('total %p → %s', (total, tier, v) => {
    const r = computeGrace(make([...v]));
    expect(r.value).toBe(total);
    expect(r.tier).toBe(tier);
    expect(r.probability).toBeGreaterThan(0);
  });

  test('missing inputs: points of known items, range, no probability, tier only when determinate', () => {
    const { creatinine: _c, killipClass: _k, ...rest } = example;
    const r = computeGrace(rest);
    // known: 41 + 9 + 43 + 39 + 28 + 0 = 160; creatinine 1–28, Killip 0–59
    expect(r.value).toBe(160);
    expect(r.range).toEqual({ min: 161, max: 247 });
    expect(r.display).toBe('161–247');
    expect(r.missing).toEqual(['creatinine', 'killipClass']);
    expect(r.tier).toBe('high');
    expect(r.probability).toBeUndefined();
    expect(r.logit).toBeUndefined();
    expect(r.inputs).toHaveLength(6);
  });

  test('range within one tier keeps it; a range spanning tiers has none', () => {
    const { age: _a, ...rest } = example;
    const r = computeGrace(rest);
    // 209 − 41 = 168; age 0–100 → 168–268: all high
    expect(r.range).toEqual({ min: 168, max: 268 });
    expect(r.tier).toBe('high');
    const r2 = computeGrace({ heartRate: n('heartRate', 70), elevatedEnzymes: b('elevatedEnzymes', false) });
    expect(r2.value).toBe(9);
    expect(r2.range).toEqual({ min: 10, max: 9 + 100 + 58 + 28 + 59 + 39 + 28 });
    expect(r2.tier).toBeUndefined();
    expect(r2.missing).toHaveLength(6);
  });

  test('missing is never treated as normal: a missing boolean widens the range', () => {
    const { cardiacArrest: _x, ...rest } = example;
    const r = computeGrace(rest);
    expect(r.value).toBe(209 - 39);
    expect(r.range).toEqual({ min: 170, max: 209 });
    expect(r.missing).toEqual(['cardiacArrest']);
  });

  test('no inputs: declines', () => {
    const r = computeGrace({});
    expect(r.value).toBeNull();
    expect(r.missing).toHaveLength(8);
    expect(r.tier).toBeUndefined();
  });

  test('unusable values are reported and treated as missing', () => {
    const r = computeGrace({ ...example, killipClass: n('killipClass', 5), heartRate: n('heartRate', Number.NaN) });
    expect(r.missing).toEqual(['heartRate', 'killipClass']);
    expect(r.probability).toBeUndefined();
    // In words, not the input's internal name (issue 10, item 9).
    expect(r.notes).toContain('Killip class: value 5 is not usable; treated as missing.');
    expect((r.notes ?? []).join(' ')).not.toMatch(/killipClass|heartRate/);
  });

  describe('NSTE-ACS in-hospital death bands: ≤ 108 low, 109–140 intermediate, > 140 high (MODELS.md 1b)', () => {
    test.each([[108, 'low'], [109, 'intermediate'], [140, 'intermediate'], [141, 'high'], [0, 'low'], [300, 'high']] as const)('%p → %s', (p, t) => {
      expect(graceNsteAcsTier(p)).toBe(t);
    });

    test.each([
      // 0 + 0 + 53 + 7 + 20 + 0 + 28 + 0
      [108, 'low', [25, 40, 90, 1.0, 2, false, true, false]],
      // 0 + 0 + 53 + 28 + 0 + 0 + 28 + 0
      [109, 'intermediate', [25, 40, 90, 4.5, 1, false, true, false]],
      // 0 + 0 + 58 + 1 + 0 + 39 + 28 + 14
      [140, 'intermediate', [25, 40, 70, 0.3, 1, true, true, true]],
      // 0 + 0 + 58 + 10 + 20 + 39 + 0 + 14
      [141, 'high', [25, 40, 70, 1.4, 2, true, false, true]],
    ] as const)('after an NSTEMI, total %p → %s', (total, tier, v) => {
      const r = computeGrace(make([...v]), 'nste-acs');
      expect(r.value).toBe(total);
      expect(r.tier).toBe(tier);
      expect(r.bands).toBe('nste-acs');
    });

    test('worked example (21.7 % in-hospital death) after an NSTEMI: high, and the note names the NSTE-ACS bands', () => {
      const r = computeGrace(example, 'nste-acs');
      expect([r.value, r.tier]).toEqual([209, 'high']);
      expect(r.probability).toBeCloseTo(0.21693, 4);
      expect(r.notes).toContain('NSTE-ACS in-hospital death band: high (> 3 %).');
      expect((r.notes ?? []).join(' ')).not.toMatch(/STEMI in-hospital/);
    });

    test('an acute MI of unstated type: both readings; a tier only when they agree', () => {
      // 41 + 9 + 43 + 10 + 0 + 0 + 28 + 14 = 145: STEMI intermediate (126–154), NSTE-ACS high (> 140).
      const r = computeGrace({ ...example, killipClass: n('killipClass', 1), cardiacArrest: b('cardiacArrest', false), elevatedEnzymes: b('elevatedEnzymes', true) }, 'both');
      expect(r.value).toBe(145);
      expect(r.readings).toEqual({ stemi: 'intermediate', nsteAcs: 'high' });
      expect(r.tier).toBeUndefined();
      expect(r.probability).toBeGreaterThan(0);
      expect(r.notes).toEqual(expect.arrayContaining(['STEMI in-hospital death band: intermediate (2–5 %).', 'NSTE-ACS in-hospital death band: high (> 3 %).']));
      const agree = computeGrace(example, 'both');
      expect(agree.readings).toEqual({ stemi: 'high', nsteAcs: 'high' });
      expect(agree.tier).toBe('high');
    });

    test('partial score: the NSTE-ACS tier only when the range lies in one band; notes count the missing items', () => {
      const { creatinine: _c, killipClass: _k, ...rest } = example;
      const r = computeGrace(rest, 'nste-acs');
      // 161–247: all > 140
      expect(r.tier).toBe('high');
      expect(r.notes).toContain('GRACE 161–247 points, 2 input(s) missing.');
      const wide = computeGrace({ heartRate: n('heartRate', 70), elevatedEnzymes: b('elevatedEnzymes', false) }, 'nste-acs');
      expect(wide.tier).toBeUndefined();
      expect(wide.notes).toContain('Tier undetermined: the range spans low to high (NSTE-ACS bands).');
    });
  });
});
