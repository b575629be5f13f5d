import {
  albuminPoints, bilirubinPoints, cholestaticBilirubinPoints, childPughClass, computeChildPugh as computeChildPughModel, inrPoints, metadata, type ChildPughInputs,
} from '../../../src/models/child-pugh.ts';
import type { Input } from '../../../src/models/types.ts';
import { inCirrhosisWords } from '../../support/wording.ts';

// Results as the service shows them: the model's notes in the words of its card file.
const computeChildPugh = (...a: Parameters<typeof computeChildPughModel>) => inCirrhosisWords(computeChildPughModel(...a));

const n = (name: string, value: number, unit?: string): Input<number> => ({ name, value, unit, date: '2024-03-01', source: `Observation/${name}` });
const code = (name: string, value: string): Input<string> => ({ name, value, source: `Condition/${name}` });

function cp(bili: number, alb: number, inr: number, ascites?: string, enceph?: string): ChildPughInputs {
  return {
    bilirubin: n('bilirubin', bili, 'mg/dL'),
    albumin: n('albumin', alb, 'g/dL'),
    inr: n('inr', inr),
    ...(ascites !== undefined ? { ascites: code('ascites', ascites) } : {}),
    ...(enceph !== undefined ? { encephalopathy: code('encephalopathy', enceph) } : {}),
  };
}

describe('Child-Pugh', () => {
  test('metadata names the conventions', () => {
    expect(metadata.id).toBe('child-pugh');
    expect(metadata.evidence).toBe('secondary');
    expect(metadata.notes?.join(' ')).toMatch(/INR bands .* replace Pugh's prothrombin-time bands/);
    expect(metadata.notes?.join(' ')).toMatch(/2\.8 g\/dL/);
  });

  test.each([[1.99, 1], [2.0, 2], [3.0, 2], [3.01, 3]])('bilirubin %p mg/dL → %p', (x, p) => expect(bilirubinPoints(x)).toBe(p));
  test.each([[3.51, 1], [3.5, 2], [2.8, 2], [2.79, 3]])('albumin %p g/dL → %p', (x, p) => expect(albuminPoints(x)).toBe(p));
  test.each([[1.69, 1], [1.7, 2], [2.3, 2], [2.31, 3]])('INR %p → %p', (x, p) => expect(inrPoints(x)).toBe(p));

  test('converted values are compared without float noise (51.3 µmol/L ÷ 17.1 = 3.0 mg/dL)', () => {
    expect(51.3 / 17.1).not.toBe(3);
    expect(bilirubinPoints(51.3 / 17.1)).toBe(2);
    expect(bilirubinPoints(3.0000000000000004)).toBe(2);
  });

  test.each([[5, 'A'], [6, 'A'], [7, 'B'], [9, 'B'], [10, 'C'], [15, 'C']])('%p points → class %s', (p, c) => expect(childPughClass(p)).toBe(c));

  test('complete: 5 points class A, points and bands per input', () => {
    const r = computeChildPugh(cp(1.0, 4.0, 1.0, 'none', 'none'));
    expect(r.value).toBe(5);
    expect(r.tier).toBe('A');
    expect(r.range).toBeUndefined();
    expect(r.missing).toEqual([]);
    expect(r.contributions).toEqual([
      { input: 'bilirubin', points: 1, band: '< 2 mg/dL' },
      { input: 'albumin', points: 1, band: '> 3.5 g/dL' },
      { input: 'inr', points: 1, band: '< 1.7' },
      { input: 'ascites', points: 1, band: 'none' },
      { input: 'encephalopathy', points: 1, band: 'none' },
    ]);
    expect(r.inputs).toHaveLength(5);
  });

  test('class edges 6/7 and 9/10 through the full score', () => {
    expect(computeChildPugh(cp(2.0, 4.0, 1.0, 'none', 'none')).tier).toBe('A'); // 6
    const seven = computeChildPugh(cp(2.0, 3.5, 1.0, 'none', 'none'));
    expect([seven.value, seven.tier]).toEqual([7, 'B']);
    const nine = computeChildPugh(cp(2.5, 3.0, 2.0, 'slight', 'none'));
    expect([nine.value, nine.tier]).toEqual([9, 'B']);
    const ten = computeChildPugh(cp(3.5, 3.0, 2.0, 'slight', 'none'));
    expect([ten.value, ten.tier]).toEqual([10, 'C']);
    const fifteen = computeChildPugh(cp(5, 2.0, 3.0, 'moderate-severe', 'grade-3-4'));
    expect([fifteen.value, fifteen.display, fifteen.tier]).toEqual([15, '15', 'C']);
    expect(computeChildPugh(cp(1, 4, 1, 'slight', 'grade-1-2')).value).toBe(7);
  });

  test('missing ascites and encephalopathy: 1–3 points each, range, listed missing', () => {
    const r = computeChildPugh(cp(1.0, 4.0, 1.0));
    expect(r.value).toBe(5);
    expect(r.range).toEqual({ min: 5, max: 9 });
    expect(r.tier).toBe('A–B');
    expect(r.missing).toEqual(['ascites', 'encephalopathy']);
    expect(r.contributions[3]).toEqual({ input: 'ascites', band: 'not recorded: 1–3 points' });
  });

  test('present without grade: 2–3 points', () => {
    const r = computeChildPugh(cp(2.5, 3.0, 2.0, 'present-severity-unknown', 'present-grade-unknown'));
    expect(r.value).toBe(10);
    expect(r.range).toEqual({ min: 10, max: 12 });
    expect(r.tier).toBe('C');
    expect(r.missing).toEqual([]);
    expect(r.contributions[4]).toEqual({ input: 'encephalopathy', points: 2, band: 'present, grade not recorded: 2–3 points' });
    const b = computeChildPugh(cp(1.0, 4.0, 1.0, 'none', 'present-grade-unknown'));
    expect([b.value, b.range, b.tier]).toEqual([6, { min: 6, max: 7 }, 'A–B']);
  });

  test('range inside one class keeps the class', () => {
    const r = computeChildPugh(cp(2.5, 4.0, 1.0, 'slight', 'present-grade-unknown'));
    expect([r.value, r.range, r.tier]).toEqual([8, { min: 8, max: 9 }, 'B']);
  });

  test('missing lab and unrecognised code', () => {
    const i = cp(1.0, 4.0, 1.0, 'lots', 'none');
    delete i.inr;
    const r = computeChildPugh(i);
    expect(r.missing).toEqual(['inr', 'ascites']);
    expect(r.range).toEqual({ min: 5, max: 9 });
    expect(r.notes).toContain('ascites: unrecognised value "lots", treated as missing');
  });

  test('nothing recorded: declined', () => {
    const r = computeChildPugh({});
    expect(r.value).toBeNull();
    expect(r.missing).toEqual(['bilirubin', 'albumin', 'inr', 'ascites', 'encephalopathy']);
  });

  describe('primary biliary cholangitis or primary sclerosing cholangitis: bilirubin 1–4 / 4–10 / > 10 mg/dL (MODELS.md 3c)', () => {
    test.each([[0.8, 1], [3.99, 1], [4.0, 2], [10.0, 2], [10.01, 3], [68.4 / 17.1, 2]])('bilirubin %p mg/dL → %p', (x, p) => expect(cholestaticBilirubinPoints(x)).toBe(p));

    test('a PBC/PSC condition switches the bilirubin bands and says so; the condition is an input', () => {
      const pbc = code('cholestaticDisease', 'Primary biliary cholangitis');
      // Bilirubin 3.5 mg/dL: 3 points in the standard bands, 1 in the cholestatic ones.
      const standard = computeChildPugh(cp(3.5, 4.0, 1.0, 'none', 'none'));
      const cholestatic = computeChildPugh({ ...cp(3.5, 4.0, 1.0, 'none', 'none'), cholestaticDisease: pbc });
      expect(standard.value).toBe(7);
      expect(cholestatic.value).toBe(5);
      expect(cholestatic.contributions[0]).toEqual({ input: 'bilirubin', points: 1, band: '< 4 mg/dL (PBC/PSC bands)' });
      expect(cholestatic.inputs).toContain(pbc);
      expect(cholestatic.notes).toContain('Bilirubin bands for primary biliary cholangitis or primary sclerosing cholangitis: 1–4 / 4–10 / > 10 mg/dL (Pugh\'s modification as quoted by MSD and EASL)');
      expect(standard.notes ?? []).not.toContain(expect.stringMatching(/cholangitis/));
    });
  });
});
