import { computeMeld } from '../../../src/models/meld.ts';
import { computeMeld3 } from '../../../src/models/meld3.ts';
import { computeMeldSarcopenia as computeMeldSarcopeniaModel, metadata, SARCOPENIA_COEFFICIENT } from '../../../src/models/meld-sarcopenia.ts';
import { computeSmi } from '../../../src/models/smi.ts';
import type { Input } from '../../../src/models/types.ts';
import { inCirrhosisWords } from '../../support/wording.ts';

// Results as the service shows them: the model's notes in the words of its card file.
const computeMeldSarcopenia = (...a: Parameters<typeof computeMeldSarcopeniaModel>) => inCirrhosisWords(computeMeldSarcopeniaModel(...a));

const n = (name: string, value: number, unit?: string): Input<number> => ({ name, value, unit, date: '2024-03-01', source: `Observation/${name}` });
const sex = (value: string): Input<string> => ({ name: 'sex', value, source: 'Patient/p1' });
const noDialysis: Input<boolean> = { name: 'dialysis', value: false, source: 'derived' };

// MODELS.md 3b check labs: MELD(i) 24.
const meld24 = computeMeld({ creatinine: n('creatinine', 1.9), bilirubin: n('bilirubin', 4.0), inr: n('inr', 1.8), dialysis: noDialysis });
const smiInput = (value: number): Input<number> => ({ name: 'smi', value, unit: 'cm2/m2', source: 'dicom:1.2.3' });

describe('MELD-Sarcopenia', () => {
  test('metadata: Montano-Loza 2015 DOI', () => {
    expect(metadata.id).toBe('meld-sarcopenia');
    expect(metadata.url).toBe('https://doi.org/10.1038/ctg.2015.31');
    expect(SARCOPENIA_COEFFICIENT).toBe(10.35);
  });

  test('sarcopenia present: MELD 24 + 10.35 = 34.35, names the set and the original Martin cut-offs', () => {
    const smi = computeSmi({ smi: smiInput(45), sex: sex('male') }); // carey-2017: < 50
    const r = computeMeldSarcopenia({ meld: meld24, smi });
    expect(r.value).toBeCloseTo(34.35, 10);
    expect(r.display).toBe('34.35');
    expect(r.contributions).toEqual([
      { input: 'meld', term: 24, band: 'original MELD (OPTN 9.1.D)' },
      { input: 'sarcopenia', term: 10.35, band: 'sarcopenia (carey-2017)' },
    ]);
    expect(r.notes?.[0]).toBe('Sarcopenia present by the carey-2017 SMI cut-offs; the original study used the Martin 2013 cut-offs');
    expect(r.inputs.map((i) => i.name)).toEqual(['bilirubin', 'inr', 'creatinine', 'dialysis', 'smi', 'sex']);
    expect(r.missing).toEqual([]);
  });

  test('no sarcopenia: MELD unchanged; martin-2013 noted as the original set', () => {
    const smi = computeSmi({ smi: smiInput(45), sex: sex('male'), bmi: n('bmi', 24) }, 'martin-2013'); // < 43 → no
    const r = computeMeldSarcopenia({ meld: meld24, smi });
    expect(r.value).toBe(24);
    expect(r.notes?.[0]).toBe('Sarcopenia absent by the martin-2013 SMI cut-offs (as in the original study)');
  });

  test('the set changes the answer for the same SMI', () => {
    const s = { smi: smiInput(45), sex: sex('male'), bmi: n('bmi', 24) };
    expect(computeMeldSarcopenia({ meld: 24, smi: computeSmi(s, 'carey-2017') }).value).toBeCloseTo(34.35, 10);
    expect(computeMeldSarcopenia({ meld: 24, smi: computeSmi(s, 'zeng-2021-china') }).value).toBe(24);
  });

  test('MELD range (dialysis unknown) carries through', () => {
    const meld = computeMeld({ creatinine: n('creatinine', 1.2), bilirubin: n('bilirubin', 4.0), inr: n('inr', 1.8) });
    const r = computeMeldSarcopenia({ meld, smi: computeSmi({ smi: smiInput(30), sex: sex('female') }) });
    expect(r.value).toBeCloseTo(30.35, 10);
    expect(r.range?.min).toBeCloseTo(30.35, 10);
    expect(r.range?.max).toBeCloseTo(42.35, 10);
    expect(r.missing).toEqual(['dialysis']);
  });

  test('missing MELD or sarcopenia: declined, lists what the parts lack', () => {
    const noSex = computeSmi({ smi: smiInput(30) });
    const r = computeMeldSarcopenia({ meld: meld24, smi: noSex });
    expect(r.value).toBeNull();
    expect(r.missing).toEqual(['sarcopenia', 'sex']);
    const noMeld = computeMeld({ inr: n('inr', 1.2) });
    const r2 = computeMeldSarcopenia({ meld: noMeld, smi: undefined });
    expect(r2.value).toBeNull();
    expect(r2.missing).toEqual(['meld', 'sarcopenia', 'bilirubin', 'creatinine']);
    expect(computeMeldSarcopenia({ meld: null, smi: noSex }).missing).toEqual(['meld', 'sarcopenia', 'sex']);
  });

  test('refuses MELD 3.0 or MELD-Na results: the paper adds to the original MELD', () => {
    const m3 = computeMeld3({});
    expect(() => computeMeldSarcopenia({ meld: m3, smi: null })).toThrow(TypeError);
  });
});
