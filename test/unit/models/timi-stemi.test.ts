import {
  computeTimiStemi as computeTimiStemiModel,
  metadata,
  timiMortalityPercent,
  type TimiStemiInputs,
} from '../../../src/models/timi-stemi.ts';
import type { Input } from '../../../src/models/types.ts';
import { inMacceWords } from '../../support/wording.ts';

// Results as the service shows them: the model's notes in the words of its card file.
const computeTimiStemi = (...a: Parameters<typeof computeTimiStemiModel>) => inMacceWords(computeTimiStemiModel(...a));

const n = (name: string, value: number): Input<number> => ({ name, value, source: 'derived' });
const b = (name: string, value: boolean): Input<boolean> => ({ name, value, source: 'derived' });

/** Every item known and scoring 0. */
const zero: TimiStemiInputs = {
  age: n('age', 50),
  diabetes: b('diabetes', false),
  hypertension: b('hypertension', false),
  angina: b('angina', false),
  systolicBp: n('systolicBp', 130),
  heartRate: n('heartRate', 80),
  killipClass: n('killipClass', 1),
  weight: n('weight', 80),
  anteriorSte: b('anteriorSte', false),
  lbbb: b('lbbb', false),
  timeToTreatment: n('timeToTreatment', 2),
};
const pointsOf = (inputs: TimiStemiInputs, item: string): number | undefined =>
  computeTimiStemi(inputs).contributions.find((c) => c.input === item)?.points;

describe('TIMI risk score for STEMI', () => {
  test('metadata', () => {
    expect(metadata.id).toBe('timi-stemi');
    expect(metadata.evidence).toBe('secondary');
    expect(metadata.citation).toBe('Morrow DA et al., Circulation 2000;102:2031–7');
  });

  test('all items 0 → score 0, 0.8 %', () => {
    const r = computeTimiStemi(zero);
    expect(r.value).toBe(0);
    expect(r.probability).toBe(0.008);
    expect(r.outcome).toBe('30-day mortality');
    expect(r.missing).toEqual([]);
    expect(r.contributions).toHaveLength(8);
    expect(r.inputs).toHaveLength(11);
  });

  test.each([
    ['age', 64, 0],
    ['age', 65, 2],
    ['age', 74, 2],
    ['age', 75, 3],
    ['systolicBp', 99, 3],
    ['systolicBp', 100, 0],
    ['heartRate', 100, 0],
    ['heartRate', 101, 2],
    ['weight', 66.9, 1],
    ['weight', 67, 0],
    ['timeToTreatment', 4, 0],
    ['timeToTreatment', 4.01, 1],
    ['killipClass', 1, 0],
    ['killipClass', 2, 2],
    ['killipClass', 4, 2],
  ] as const)('%s %p → %p points', (key, value, points) => {
    expect(pointsOf({ ...zero, [key]: n(key, value) }, key)).toBe(points);
  });

  test.each(['diabetes', 'hypertension', 'angina'] as const)('%s alone → 1 point', (key) => {
    expect(pointsOf({ ...zero, [key]: b(key, true) }, 'diabetesHypertensionOrAngina')).toBe(1);
  });
  test('diabetes and hypertension → still 1 point', () => {
    expect(
      pointsOf({ ...zero, diabetes: b('d', true), hypertension: b('h', true) }, 'diabetesHypertensionOrAngina'),
    ).toBe(1);
  });
  test.each(['anteriorSte', 'lbbb'] as const)('%s → 1 point', (key) => {
    expect(pointsOf({ ...zero, [key]: b(key, true) }, 'anteriorSteOrLbbb')).toBe(1);
  });

  test('mortality table, every score', () => {
    const expected = [0.8, 1.6, 2.2, 4.4, 7.3, 12.4, 16.1, 23.4, 26.8, 35.9, 35.9, 35.9, 35.9, 35.9, 35.9];
    expect(expected.map((_, s) => timiMortalityPercent(s))).toEqual(expected);
  });

  test('maximum 14 → 35.9 %', () => {
    const r = computeTimiStemi({
      ...zero,
      age: n('age', 80),
      diabetes: b('diabetes', true),
      systolicBp: n('systolicBp', 90),
      heartRate: n('heartRate', 120),
      killipClass: n('killipClass', 3),
      weight: n('weight', 60),
      lbbb: b('lbbb', true),
      timeToTreatment: n('timeToTreatment', 6),
    });
    expect(r.value).toBe(14);
    expect(r.probability).toBe(0.359);
  });

  test('score 8 → 26.8 %, score 9 → 35.9 %', () => {
    const eight = { ...zero, age: n('age', 80), systolicBp: n('systolicBp', 90), heartRate: n('heartRate', 120) };
    expect(computeTimiStemi(eight).value).toBe(8);
    expect(computeTimiStemi(eight).probability).toBe(0.268);
    const nine = { ...eight, weight: n('weight', 60) };
    expect(computeTimiStemi(nine).value).toBe(9);
    expect(computeTimiStemi(nine).probability).toBe(0.359);
  });

  test('missing items → range, no probability', () => {
    const { age: _a, weight: _w, ...rest } = zero;
    const r = computeTimiStemi(rest);
    expect(r.value).toBe(0);
    expect(r.range).toEqual({ min: 0, max: 4 });
    expect(r.display).toBe('0–4');
    expect(r.missing).toEqual(['age', 'weight']);
    expect(r.probability).toBeUndefined();
    expect(r.notes).toContain('Score ≥ 0, 2 input(s) missing.');
  });

  test('an "or" item with one unknown part and no yes is missing; a yes decides it', () => {
    const { hypertension: _h, ...rest } = zero;
    const r = computeTimiStemi(rest);
    expect(r.missing).toEqual(['hypertension']);
    expect(r.range).toEqual({ min: 0, max: 1 });
    const r2 = computeTimiStemi({ ...rest, diabetes: b('diabetes', true) });
    expect(r2.missing).toEqual([]);
    expect(r2.value).toBe(1);
    expect(r2.probability).toBe(0.016);
  });

  test('range entirely above 8 → 35.9 % is determinate', () => {
    const r = computeTimiStemi({
      age: n('age', 80),
      systolicBp: n('systolicBp', 90),
      heartRate: n('heartRate', 120),
      killipClass: n('killipClass', 2),
    });
    expect(r.value).toBe(10);
    expect(r.range).toEqual({ min: 10, max: 14 });
    expect(r.probability).toBe(0.359);
  });

  test('no inputs → declines; unusable Killip is missing', () => {
    expect(computeTimiStemi({}).value).toBeNull();
    const r = computeTimiStemi({ ...zero, killipClass: n('killipClass', 0) });
    expect(r.missing).toEqual(['killipClass']);
  });
});
