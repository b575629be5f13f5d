import { albiGrade, albiScore, computeAlbi as computeAlbiModel, metadata } from '../../../src/models/albi.ts';
import type { Input } from '../../../src/models/types.ts';
import { inCirrhosisWords } from '../../support/wording.ts';

// Results as the service shows them: the model's notes in the words of its card file.
const computeAlbi = (...a: Parameters<typeof computeAlbiModel>) => inCirrhosisWords(computeAlbiModel(...a));

const n = (name: string, value: number, unit?: string): Input<number> => ({ name, value, unit, date: '2024-03-01', source: `Observation/${name}` });

describe('ALBI', () => {
  test('metadata', () => {
    expect(metadata.id).toBe('albi');
    expect(metadata.url).toBe('https://doi.org/10.1200/JCO.2014.57.9151');
    expect(metadata.evidence).toBe('secondary');
  });

  test('MODELS.md check: 17.1 µmol/L, 40 g/L → −2.586, grade 2 (−2.586 > −2.60)', () => {
    expect(albiScore(17.1, 40)).toBeCloseTo(-2.586, 3);
    // inputs arrive in mg/dL and g/dL: 1.0 mg/dL = 17.1 µmol/L, 4.0 g/dL = 40 g/L
    const r = computeAlbi({ bilirubin: n('bilirubin', 1.0, 'mg/dL'), albumin: n('albumin', 4.0, 'g/dL') });
    expect(r.value).toBeCloseTo(-2.586, 3);
    expect(r.tier).toBe('grade 2');
    expect(r.display).toBe('-2.59');
    expect(r.contributions.map((c) => c.term ?? 0).reduce((a, b) => a + b, 0)).toBeCloseTo(-2.586, 3);
    expect(r.contributions[1]).toEqual({ input: 'albumin', term: expect.closeTo(-3.4, 10), band: '40 g/L' });
    expect(r.missing).toEqual([]);
    expect(r.inputs).toHaveLength(2);
  });

  test('MODELS.md check: 34.2 µmol/L, 30 g/L → −1.538, grade 2', () => {
    expect(albiScore(34.2, 30)).toBeCloseTo(-1.538, 3);
    const r = computeAlbi({ bilirubin: n('bilirubin', 2.0, 'mg/dL'), albumin: n('albumin', 3.0, 'g/dL') });
    expect(r.value).toBeCloseTo(-1.538, 3);
    expect(r.tier).toBe('grade 2');
  });

  test.each([
    [-2.61, 1], [-2.6, 1], [-2.5999, 2], [-1.39, 2], [-1.3899, 3], [-1.0, 3],
  ])('grade at %p → %p', (score, grade) => expect(albiGrade(score)).toBe(grade));

  test('grade 1 and 3 through compute', () => {
    expect(computeAlbi({ bilirubin: n('bilirubin', 0.5), albumin: n('albumin', 4.5) }).tier).toBe('grade 1');
    expect(computeAlbi({ bilirubin: n('bilirubin', 6.0), albumin: n('albumin', 2.5) }).tier).toBe('grade 3');
  });

  test('missing inputs: declined, listed; bilirubin ≤ 0 declined with a note', () => {
    const r = computeAlbi({ albumin: n('albumin', 3.0) });
    expect(r.value).toBeNull();
    expect(r.missing).toEqual(['bilirubin']);
    expect(computeAlbi({}).missing).toEqual(['bilirubin', 'albumin']);
    const zero = computeAlbi({ bilirubin: n('bilirubin', 0), albumin: n('albumin', 3.0) });
    expect(zero.value).toBeNull();
    expect(zero.notes?.[0]).toMatch(/above 0/);
  });
});
