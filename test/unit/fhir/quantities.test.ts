// The catalogue of what each numeric input is (src/fhir/quantities.ts): the rules that keep a unit
// meaning another quantity out of a score (issue 10, item 1).
import { INTEGER_UNITS, QUANTITIES, type QuantityKind } from '../../../src/fhir/quantities.ts';
import { createUnitConverter, normalizeUnit } from '../../../src/fhir/units.ts';

const { isPureNumber, meansQuantity, toUnit } = createUnitConverter();

const kinds: Array<[string, QuantityKind]> = Object.entries(QUANTITIES);

describe('quantity kinds', () => {
  it.each(kinds)('%s: "convertible" only for a target with a physical dimension', (_name, kind) => {
    // Every pure number converts to every other: 30 % → INR 0.3, 45 % → SMI 4500 cm²/m².
    if (kind.accepts === 'convertible') expect(isPureNumber(kind.unit)).toBe(false);
  });

  it.each(kinds)('%s: every listed unit converts to the target, and the target itself is accepted', (_name, kind) => {
    if (kind.accepts !== 'convertible') {
      for (const u of kind.accepts) expect(toUnit(1, u === '' ? undefined : u, kind.unit, kind.analyte)).not.toBeNull();
    }
    expect(meansQuantity(kind, kind.unit)).toBe(true);
  });

  it.each(kinds)('%s: a unit named as another quantity is never accepted', (_name, kind) => {
    for (const u of Object.keys(kind.otherQuantities ?? {})) expect(meansQuantity(kind, u)).toBe(false);
  });

  it('pure numbers: %, 1, annotations and area per area; not mg/dL, ms or cm2', () => {
    for (const u of ['%', '1', '{INR}', '{ratio}', 'cm2/m2', '10*3/uL']) expect(isPureNumber(u)).toBe(u !== '10*3/uL');
    for (const u of ['mg/dL', 'ms', 'cm2', 'mm[Hg]', '/min', 'kg/m2']) expect(isPureNumber(u)).toBe(false);
  });

  it('INR: 1, {INR}, {ratio}, INR (alias) and no unit; never %, s or another annotation', () => {
    for (const u of ['1', '{INR}', '{ratio}', 'INR', 'ratio', undefined, '']) expect(meansQuantity(QUANTITIES.inr, u)).toBe(true);
    for (const u of ['%', 's', '{score}', '{index}', 'mg/dL']) expect(meansQuantity(QUANTITIES.inr, u)).toBe(false);
  });

  it('creatinine: any mass or molar concentration (with the analyte), nothing else', () => {
    for (const u of ['mg/dL', 'mg/L', 'umol/L', 'µmol/L', 'mmol/L']) expect(meansQuantity(QUANTITIES.creatinine, u)).toBe(true);
    for (const u of ['%', '1', 'mL/min', undefined]) expect(meansQuantity(QUANTITIES.creatinine, u)).toBe(false);
  });

  it('integer units: grades only without a unit or in 1; segments also in {segments}', () => {
    expect(INTEGER_UNITS.grade.map((u) => normalizeUnit(u) ?? '')).toEqual(['', '1']);
    expect(INTEGER_UNITS.segments).toContain('{segments}');
  });
});
