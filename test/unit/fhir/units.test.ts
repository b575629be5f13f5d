// UCUM conversion (MODELS.md "General rules": units; factors creatinine ÷ 88.42, bilirubin ÷ 17.1,
// albumin ÷ 10).
import { createUnitConverter, normalizeUnit } from '../../../src/fhir/units.ts';

// The converter a runtime holds (src/runtime.ts); each test file has its own.
let converter = createUnitConverter();
const toUnit: typeof converter.toUnit = (...a) => converter.toUnit(...a);
const isConvertible: typeof converter.isConvertible = (...a) => converter.isConvertible(...a);
/** A new converter: an empty cache. */
const clearUnitCache = (): void => { converter = createUnitConverter(); };
const unitCacheStats = () => converter.stats();

/** Equal to 11 significant digits (results are rounded to 12 to remove floating noise). */
function expectRel(actual: number | null, expected: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected) / Math.abs(expected)).toBeLessThan(1e-11);
}

describe('toUnit', () => {
  it('converts creatinine µmol/L to mg/dL with the MODELS.md factor 88.42', () => {
    expect(toUnit(88.42, 'umol/L', 'mg/dL', 'creatinine')).toBe(1);
    expect(toUnit(176.84, 'µmol/L', 'mg/dL', 'creatinine')).toBe(2);
    for (const x of [17.7, 53, 97, 106.1, 265.26, 1000]) {
      expectRel(toUnit(x, 'umol/L', 'mg/dL', 'creatinine'), x / 88.42);
    }
    // and back
    expect(toUnit(1, 'mg/dL', 'umol/L', 'creatinine')).toBe(88.42);
  });

  it('converts bilirubin µmol/L to mg/dL with the MODELS.md factor 17.1, landing exactly on band edges', () => {
    expect(toUnit(17.1, 'umol/L', 'mg/dL', 'bilirubin')).toBe(1);
    // Child-Pugh edges 2 and 3 mg/dL: floating noise must not push them into the band below.
    expect(toUnit(34.2, 'umol/L', 'mg/dL', 'bilirubin')).toBe(2);
    expect(toUnit(51.3, 'μmol/L', 'mg/dL', 'bilirubin')).toBe(3);
    for (const x of [5, 20.5, 68.4, 400]) expectRel(toUnit(x, 'umol/L', 'mg/dL', 'bilirubin'), x / 17.1);
  });

  it('refuses mole ↔ mass without a known analyte (never guesses)', () => {
    expect(toUnit(88.42, 'umol/L', 'mg/dL')).toBeNull();
    expect(toUnit(88.42, 'umol/L', 'mg/dL', 'sodium')).toBeNull();
  });

  it('converts albumin g/L to g/dL as plain UCUM', () => {
    expect(toUnit(35, 'g/L', 'g/dL')).toBe(3.5);
    expect(toUnit(28, 'g/l', 'g/dL')).toBe(2.8);
    expect(toUnit(3.5, 'g/dL', 'g/L')).toBe(35);
  });

  it('treats sodium mEq/L as mmol/L (monovalent)', () => {
    expect(toUnit(140, 'mEq/L', 'mmol/L', 'sodium')).toBe(140);
    expect(toUnit(125, 'meq/l', 'mmol/L', 'sodium')).toBe(125);
    expect(toUnit(137, 'mmol/l', 'mmol/L', 'sodium')).toBe(137);
    // Without the analyte's charge UCUM cannot cross equivalents ↔ moles.
    expect(toUnit(140, 'mEq/L', 'mmol/L')).toBeNull();
  });

  it('converts body measurements from customary units', () => {
    expect(toUnit(70, '[in_i]', 'm')).toBe(1.778);
    expect(toUnit(70, 'in', 'm')).toBe(1.778);
    expect(toUnit(175, 'cm', 'm')).toBe(1.75);
    expect(toUnit(150, 'lb', 'kg')).toBeCloseTo(68.0388555, 7);
    expect(toUnit(150, '[lb_av]', 'kg')).toBeCloseTo(68.0388555, 7);
    expect(toUnit(150, 'cm^2', 'cm2')).toBe(150);
    expect(toUnit(1, 'm2', 'cm2')).toBe(10000);
    expect(toUnit(55, '%', '%')).toBe(55);
    expect(toUnit(0.55, '1', '%')).toBe(55);
  });

  it('handles INR as unitless: {INR}, {ratio}, 1 or no unit', () => {
    expect(toUnit(1.3, '{INR}', '1')).toBe(1.3);
    expect(toUnit(1.3, '{ratio}', '{INR}')).toBe(1.3);
    expect(toUnit(1.3, '1', '1')).toBe(1.3);
    expect(toUnit(1.3, undefined, '1')).toBe(1.3);
    expect(toUnit(1.3, '', '{INR}')).toBe(1.3);
    expect(toUnit(1.3, 'INR', '1')).toBe(1.3);
  });

  it('returns null for a missing unit when the target has a dimension', () => {
    expect(toUnit(1.2, undefined, 'mg/dL', 'creatinine')).toBeNull();
    expect(toUnit(1.2, '  ', 'mg/dL', 'creatinine')).toBeNull();
  });

  it('returns null for unknown or incommensurable units', () => {
    expect(toUnit(1, 'furlongs', 'm')).toBeNull();
    expect(toUnit(1, 'mg/dL', 'm')).toBeNull();
    expect(toUnit(1, 'kg', '1')).toBeNull();
    expect(toUnit(Number.NaN, 'kg', 'g')).toBeNull();
    // Hostile unit strings are just unknown units (no prototype lookups).
    expect(toUnit(1, 'constructor', 'm')).toBeNull();
    expect(toUnit(1, '__proto__', 'm')).toBeNull();
  });

  it('supports affine conversions (temperature)', () => {
    expect(toUnit(37, 'Cel', '[degF]')).toBeCloseTo(98.6, 9);
    expect(toUnit(0, 'Cel', '[degF]')).toBeCloseTo(32, 9);
  });

  it('caches conversions: ucum-lhc is called once per (from, to, analyte), not per value', () => {
    clearUnitCache();
    expectRel(toUnit(100, 'umol/L', 'mg/dL', 'creatinine'), 100 / 88.42);
    const afterFirst = unitCacheStats().ucumCalls;
    expect(afterFirst).toBeGreaterThan(0);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) sum += toUnit(50 + (i % 100), 'umol/L', 'mg/dL', 'creatinine') ?? 0;
    expect(sum).toBeGreaterThan(0);
    expect(unitCacheStats().ucumCalls).toBe(afterFirst);
    // A different analyte is a different conversion (and a failed one is cached too).
    expect(toUnit(100, 'umol/L', 'mg/dL')).toBeNull();
    const afterFail = unitCacheStats().ucumCalls;
    expect(toUnit(100, 'umol/L', 'mg/dL')).toBeNull();
    expect(unitCacheStats().ucumCalls).toBe(afterFail);
    expect(unitCacheStats().size).toBe(2);
  });
});

describe('normalizeUnit / isConvertible', () => {
  it('maps lab spellings to UCUM', () => {
    expect(normalizeUnit('µmol/L')).toBe('umol/L');
    expect(normalizeUnit('μmol/L')).toBe('umol/L');
    expect(normalizeUnit('mEq/L')).toBe('meq/L');
    expect(normalizeUnit('MEQ/L')).toBe('meq/L');
    expect(normalizeUnit('cm^2')).toBe('cm2');
    expect(normalizeUnit('lbs')).toBe('[lb_av]');
    expect(normalizeUnit(' mg/dL ')).toBe('mg/dL');
    expect(normalizeUnit(undefined)).toBeUndefined();
    expect(normalizeUnit('')).toBeUndefined();
  });
  it('reports convertibility', () => {
    expect(isConvertible('umol/L', 'mg/dL', 'bilirubin')).toBe(true);
    expect(isConvertible('umol/L', 'mg/dL')).toBe(false);
  });
});

describe('unit strings from outside', () => {
  test('a unit with characters UCUM does not use is not converted, and nothing is printed (ucum-lhc console.logs what it cannot parse)', () => {
    const printed: unknown[][] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => { printed.push(args); };
    try {
      for (const unit of ['mg /dL', 'mg/dL <a href="https://evil.example">x</a>', 'µmol/L\u0000', 'mg\u00a0/dL', 'g/dL\u200b']) {
        expect(toUnit(1, unit, 'mg/dL')).toBeNull();
      }
    } finally {
      console.log = original;
    }
    expect(printed).toEqual([]);
  });

  test('a unit that is not a string is no unit', () => {
    expect(normalizeUnit(42 as unknown as string)).toBeUndefined();
    expect(toUnit(1, { code: 'mg/dL' } as unknown as string, 'mg/dL')).toBeNull();
  });
});
