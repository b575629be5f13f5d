import {
  computeMeld as computeMeldModel, computeMeldNa as computeMeldNaModel, meldI, meldMetadata, meldNaFromMeldI, meldNaMetadata, type MeldNaInputs,
} from '../../../src/models/meld.ts';
import type { Input } from '../../../src/models/types.ts';
import { inCirrhosisWords } from '../../support/wording.ts';

// Results as the service shows them: the model's notes in the words of its card file.
const computeMeld = (...a: Parameters<typeof computeMeldModel>) => inCirrhosisWords(computeMeldModel(...a));
const computeMeldNa = (...a: Parameters<typeof computeMeldNaModel>) => inCirrhosisWords(computeMeldNaModel(...a));

const n = (name: string, value: number, unit?: string): Input<number> => ({ name, value, unit, date: '2024-03-01', source: `Observation/${name}` });
const dialysis = (value: boolean): Input<boolean> => ({ name: 'dialysis', value, source: 'derived' });

function labs(cr: number, bili: number, inr: number, na?: number): MeldNaInputs {
  return {
    creatinine: n('creatinine', cr, 'mg/dL'),
    bilirubin: n('bilirubin', bili, 'mg/dL'),
    inr: n('inr', inr),
    ...(na !== undefined ? { sodium: n('sodium', na, 'mmol/L') } : {}),
    dialysis: dialysis(false),
  };
}

const sum = (r: { contributions: Array<{ term?: number }> }): number => r.contributions.reduce((s, c) => s + (c.term ?? 0), 0);

describe('MELD and MELD-Na (OPTN 9.1.D)', () => {
  test('metadata: primary, OPTN policy', () => {
    expect(meldMetadata.id).toBe('meld');
    expect(meldNaMetadata.id).toBe('meld-na');
    expect(meldMetadata.evidence).toBe('primary');
    expect(meldNaMetadata.evidence).toBe('primary');
  });

  test('MODELS.md check: Cr 1.9, bili 4.0, INR 1.8, Na 128 → MELD(i) 24, MELD-Na 28.75', () => {
    expect(meldI(1.9, 4.0, 1.8)).toBe(24);
    const m = computeMeld(labs(1.9, 4.0, 1.8));
    expect(m.value).toBe(24);
    expect(m.display).toBe('24');
    const r = computeMeldNa(labs(1.9, 4.0, 1.8, 128));
    expect(r.value).toBeCloseTo(28.75, 2);
    expect(r.value).toBeCloseTo(28.752, 3); // unrounded
    expect(r.display).toBe('29');
    expect(sum(r)).toBeCloseTo(28.752, 9);
    expect(r.contributions.find((c) => c.input === 'sodium')?.term).toBeCloseTo(4.752, 9);
    expect(r.missing).toEqual([]);
    expect(r.inputs).toHaveLength(5);
  });

  describe('sodium adjustment only when MELD(i) > 11', () => {
    // 10 × MELD(i) raw: INR 1.57 → 11.48 (rounds to 11), INR 1.58 → 11.55 (rounds to 12).
    test('MELD(i) 11 (raw 11.48): no adjustment, sodium not needed', () => {
      expect(meldI(1, 1, 1.57)).toBe(11);
      expect(computeMeldNa(labs(1, 1, 1.57, 125)).value).toBe(11);
      const noNa = computeMeldNa(labs(1, 1, 1.57));
      expect(noNa.value).toBe(11);
      expect(noNa.missing).toEqual([]);
      expect(noNa.notes).toContain('Sodium not recorded; not needed as MELD(i) 11 ≤ 11');
    });
    test('MELD(i) 12 (raw 11.55): adjustment applies', () => {
      expect(meldI(1, 1, 1.58)).toBe(12);
      // 12 + 1.32 × 12 − 0.033 × 12 × 12 = 23.088
      expect(computeMeldNa(labs(1, 1, 1.58, 125)).value).toBeCloseTo(23.088, 9);
      const noNa = computeMeldNa(labs(1, 1, 1.58));
      expect(noNa.value).toBeNull();
      expect(noNa.missing).toEqual(['sodium']);
    });
    test('meldNaFromMeldI at the threshold', () => {
      expect(meldNaFromMeldI(11, 125)).toBe(11);
      expect(meldNaFromMeldI(12, 137)).toBe(12);
      expect(meldNaFromMeldI(12, 125)).toBeCloseTo(23.088, 9);
    });
  });

  test('sodium clamped 125–137', () => {
    expect(computeMeldNa(labs(1.9, 4.0, 1.8, 120)).value).toBeCloseTo(computeMeldNa(labs(1.9, 4.0, 1.8, 125)).value ?? NaN, 10);
    expect(computeMeldNa(labs(1.9, 4.0, 1.8, 140)).value).toBe(24);
    expect(computeMeldNa(labs(1.9, 4.0, 1.8, 125)).value).toBeCloseTo(24 + 1.32 * 12 - 0.033 * 24 * 12, 10);
  });

  test('lab values below 1.0 set to 1.0: floor MELD 6', () => {
    const r = computeMeld(labs(0.5, 0.3, 0.9));
    expect(r.value).toBe(6);
    expect(r.notes).toEqual(expect.arrayContaining([
      'Bilirubin raised to the floor of 1.0 mg/dL (measured 0.3)',
      'INR raised to the floor of 1.0 (measured 0.9)',
      'Creatinine raised to the floor of 1.0 mg/dL (measured 0.5)',
    ]));
  });

  test('creatinine capped at 4.0; dialysis sets it to 4.0', () => {
    // 10 × raw MELD(i): Cr 4 → 31.52 (32), Cr 3.9 → 31.28 (31), Cr 5.5 uncapped would be 34.57 (35)
    expect(meldI(4, 4.0, 1.8)).toBe(32);
    expect(meldI(3.9, 4.0, 1.8)).toBe(31);
    const capped = computeMeld(labs(5.5, 4.0, 1.8));
    expect(capped.value).toBe(32);
    expect(capped.notes).toContain('Creatinine capped at 4.0 mg/dL (measured 5.5)');
    const onDialysis = computeMeld({ ...labs(1.2, 4.0, 1.8), dialysis: dialysis(true) });
    expect(onDialysis.value).toBe(32);
    expect(onDialysis.notes).toContain('Dialysis ≥ 2 times (or 24 h of CVVHD) in the prior week: creatinine set to 4.0 mg/dL');
    expect(computeMeld(labs(1.2, 4.0, 1.8)).value).toBe(20);
  });

  test('maximum 40, for MELD and MELD-Na', () => {
    const m = computeMeld(labs(4, 40, 5));
    expect(meldI(4, 40, 5)).toBe(52);
    expect(m.value).toBe(40);
    expect(m.notes).toContain('Score 52 capped at the OPTN maximum of 40');
    expect(sum(m)).toBeCloseTo(40, 9);
    const na = computeMeldNa(labs(4, 40, 5, 125));
    expect(na.value).toBe(40);
    // just under the cap: MELD(i) 30, Na 130 → 30 + 9.24 − 6.93 = 32.31, not capped
    expect(meldNaFromMeldI(30, 130)).toBeCloseTo(32.31, 9);
  });

  test('dialysis not recorded: listed missing when creatinine < 4, range up to creatinine 4.0', () => {
    const i = labs(1.2, 4.0, 1.8, 128);
    delete i.dialysis;
    const m = computeMeld(i);
    expect(m.missing).toEqual(['dialysis']);
    expect(m.value).toBe(20);
    expect(m.range).toEqual({ min: 20, max: 32 });
    const na = computeMeldNa(i);
    expect(na.missing).toEqual(['dialysis']);
    expect(na.value).toBeCloseTo(20 + 1.32 * 9 - 0.033 * 20 * 9, 9);
    expect(na.range?.max).toBeCloseTo(32 + 1.32 * 9 - 0.033 * 32 * 9, 9);
    const high = computeMeld({ ...i, creatinine: n('creatinine', 4.5) });
    expect(high.missing).toEqual([]);
    expect(high.range).toBeUndefined();
  });

  test('missing labs: declined, listed', () => {
    const r = computeMeldNa({ inr: n('inr', 1.2) });
    expect(r.value).toBeNull();
    expect(r.missing).toEqual(['bilirubin', 'creatinine', 'sodium']);
    expect(computeMeld({ bilirubin: n('bilirubin', 2) }).missing).toEqual(['inr', 'creatinine']);
  });
});
