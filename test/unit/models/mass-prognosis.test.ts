import {
  CMR_DIAGNOSIS_ACCURACY_PERCENT,
  computeMassPrognosis as computeMassPrognosisModel,
  metadata,
} from '../../../src/models/mass-prognosis.ts';
import type { Input } from '../../../src/models/types.ts';
import { inMassWords } from '../../support/wording.ts';

// Results as the service shows them: the model's notes in the words of its card file.
const computeMassPrognosis = (...a: Parameters<typeof computeMassPrognosisModel>) => inMassWords(computeMassPrognosisModel(...a));

const dx = (value: string): Input<string> => ({ name: 'diagnosis', value, source: 'derived' });

describe('Mass prognosis (Shenoy 2022)', () => {
  test('metadata', () => {
    expect(metadata.url).toBe('https://doi.org/10.1093/eurheartj/ehab635');
    expect(metadata.citation).toContain('doi:10.1093/eurheartj/ehab635');
    expect(metadata.evidence).toBe('primary');
    expect(CMR_DIAGNOSIS_ACCURACY_PERCENT).toBe(98.4);
  });

  test.each([
    ['no-mass', 22, 0.22],
    ['pseudomass', 26, 0.26],
    ['benign', 17, 0.17],
    ['thrombus', 36, 0.36],
    ['malignant', 73, 0.73],
  ])('%s → %p % 5-year mortality', (category, percent, probability) => {
    const r = computeMassPrognosis({ diagnosis: dx(category) });
    expect(r.value).toBe(percent);
    expect(r.display).toBe(`${percent} %`);
    expect(r.probability).toBe(probability);
    expect(r.outcome).toBe('5-year all-cause mortality');
    expect(r.missing).toEqual([]);
    expect(r.inputs).toHaveLength(1);
  });

  test('hazard ratios vs no mass where published', () => {
    expect(computeMassPrognosis({ diagnosis: dx('malignant') }).notes).toContain('Mortality vs no mass: HR 3.31.');
    expect(computeMassPrognosis({ diagnosis: dx('thrombus') }).notes).toContain('Mortality vs no mass: HR 1.46.');
    expect(computeMassPrognosis({ diagnosis: dx('benign') }).notes?.some((t) => t.includes('HR'))).toBe(false);
  });

  test('missing or unknown diagnosis → declines', () => {
    const a = computeMassPrognosis({});
    expect(a.value).toBeNull();
    expect(a.missing).toEqual(['diagnosis']);
    const b = computeMassPrognosis({ diagnosis: dx('lipoma') });
    expect(b.value).toBeNull();
    expect(b.probability).toBeUndefined();
    expect(b.missing).toEqual(['diagnosis']);
  });
});
