import {
  computeSmi as computeSmiModel, DEFAULT_SMI_CUTOFF_SET, isSarcopenic, isSmiCutoffSet, smiCutoff, smiCutoffSetOf, SMI_CUTOFF_SETS,
  type SmiCutoffSetName, type SmiInputs,
} from '../../../src/models/smi.ts';
import type { Input } from '../../../src/models/types.ts';
import { inCirrhosisWords } from '../../support/wording.ts';

// Results as the service shows them: the model's notes in the words of its card file.
const computeSmi = (...a: Parameters<typeof computeSmiModel>) => inCirrhosisWords(computeSmiModel(...a));

const n = (name: string, value: number, unit?: string): Input<number> => ({ name, value, unit, date: '2024-03-01', source: `Observation/${name}` });
const sex = (value: string): Input<string> => ({ name: 'sex', value, source: 'Patient/p1' });
const smiOf = (value: number, s?: 'male' | 'female', bmi?: number): SmiInputs => ({
  smi: { name: 'smi', value, unit: 'cm2/m2', date: '2024-02-01', source: 'dicom:1.2.3' },
  ...(s !== undefined ? { sex: sex(s) } : {}),
  ...(bmi !== undefined ? { bmi: n('bmi', bmi, 'kg/m2') } : {}),
});

describe('SMI and sarcopenia cut-offs', () => {
  test('default set is carey-2017; sets and evidence as MODELS.md 3e', () => {
    expect(DEFAULT_SMI_CUTOFF_SET).toBe('carey-2017');
    expect(Object.keys(SMI_CUTOFF_SETS)).toEqual(['carey-2017', 'martin-2013', 'prado-2008', 'zeng-2021-china']);
    expect(SMI_CUTOFF_SETS['zeng-2021-china'].metadata.evidence).toBe('primary');
    expect(SMI_CUTOFF_SETS['carey-2017'].metadata.evidence).toBe('secondary');
    expect(SMI_CUTOFF_SETS['prado-2008'].metadata.notes?.join(' ')).toMatch(/≤/);
    expect(isSmiCutoffSet('martin-2013')).toBe(true);
    expect(isSmiCutoffSet('baumgartner')).toBe(false);
  });

  // [set, sex, bmi, cut-off]: at the cut-off → no sarcopenia, just below → sarcopenia (strict <).
  test.each([
    ['carey-2017', 'male', undefined, 50], ['carey-2017', 'female', undefined, 39],
    ['martin-2013', 'male', 24.9, 43], ['martin-2013', 'male', 25, 53], ['martin-2013', 'female', undefined, 41],
    ['prado-2008', 'male', undefined, 52.4], ['prado-2008', 'female', undefined, 38.5],
    ['zeng-2021-china', 'male', undefined, 44.77], ['zeng-2021-china', 'female', undefined, 32.5],
  ] as const)('%s %s BMI %p: cut-off %p', (set: SmiCutoffSetName, s, bmi, cutoff) => {
    expect(smiCutoff(set, s, bmi)).toBe(cutoff);
    const at = computeSmi(smiOf(cutoff, s, bmi), set);
    expect(at.tier).toBe('no sarcopenia');
    const below = computeSmi(smiOf(cutoff - 0.01, s, bmi), set);
    expect(below.tier).toBe('sarcopenia');
    expect(below.metadata.title).toContain(set);
    expect(below.notes?.[0]).toContain(`Cut-off set ${set}`);
    expect(smiCutoffSetOf(below)).toBe(set);
    expect(smiCutoffSetOf(JSON.parse(JSON.stringify(below)))).toBe(set);
  });

  test('Martin men between the BMI cut-offs: BMI decides', () => {
    expect(computeSmi(smiOf(45, 'male', 24.9), 'martin-2013').tier).toBe('no sarcopenia');
    const r = computeSmi(smiOf(45, 'male', 25), 'martin-2013');
    expect(r.tier).toBe('sarcopenia');
    expect(r.contributions[0]?.band).toBe('cut-off < 53 cm²/m² (male, BMI 25, martin-2013)');
  });

  test('Martin men without BMI: tier undefined, bmi missing; women need no BMI', () => {
    const r = computeSmi(smiOf(45, 'male'), 'martin-2013');
    expect(r.tier).toBeUndefined();
    expect(r.missing).toEqual(['bmi']);
    expect(r.value).toBe(45);
    expect(computeSmi(smiOf(40, 'female'), 'martin-2013').tier).toBe('sarcopenia');
  });

  test('sex missing: tier undefined, sex listed', () => {
    const r = computeSmi(smiOf(30));
    expect(r.tier).toBeUndefined();
    expect(r.missing).toEqual(['sex']);
  });

  test('SMI derived from L3 muscle area and height, marked derived', () => {
    const area = n('muscleArea', 150, 'cm2');
    const height = n('height', 1.75, 'm');
    const r = computeSmi({ muscleArea: area, height, sex: sex('male') });
    expect(r.value).toBeCloseTo(48.98, 2);
    expect(r.display).toBe('49.0');
    expect(r.tier).toBe('sarcopenia');
    expect(r.inputs[0]).toMatchObject({ name: 'smi', source: 'derived', unit: 'cm2/m2', date: '2024-03-01' });
    expect(r.inputs).toContain(area);
    expect(r.inputs).toContain(height);
    expect(r.notes).toContain('SMI derived: 150 cm² / (1.75 m)²');
  });

  test('strict < also for derived values with float noise', () => {
    // 39 × 1.6² = 99.84: 99.84 / 2.56 may not be exactly 39 in binary floating point
    expect(99.84 / 1.6 ** 2).toBeLessThan(39);
    expect(isSarcopenic(99.84 / 1.6 ** 2, 39)).toBe(false);
    expect(computeSmi({ muscleArea: n('muscleArea', 99.84), height: n('height', 1.6), sex: sex('female') }).tier).toBe('no sarcopenia');
  });

  test('nothing to compute from: declined, lists what would enable it', () => {
    expect(computeSmi({ sex: sex('male') }).missing).toEqual(['muscleArea', 'height']);
    const r = computeSmi({ muscleArea: n('muscleArea', 150), sex: sex('male') });
    expect(r.value).toBeNull();
    expect(r.missing).toEqual(['height']);
  });

  test('unknown set name is a programming error', () => {
    expect(() => computeSmi(smiOf(40, 'male'), 'nope' as SmiCutoffSetName)).toThrow(RangeError);
  });
});

describe('SMI derived from a height so small that area / height² overflows', () => {
  test('is declined with height missing, never Infinity (found by the fuzzing tests)', () => {
    const r = computeSmi({ muscleArea: n('muscleArea', 150, 'cm2'), height: n('height', 2.47e-322, 'm'), sex: sex('male') }, 'carey-2017');
    expect(r.value).toBeNull();
    expect(r.missing).toContain('height');
  });
});
