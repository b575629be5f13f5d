// UCUM unit conversion for lab and body-measurement inputs (MODELS.md "General rules": accept SI and
// conventional units, convert with UCUM-aware code, never guess from the magnitude).
//
// Conversions go through @lhncbc/ucum-lhc (the NLM reference implementation of UCUM,
// https://ucum.org/ucum). Calling it is ~0.1 ms per conversion, and a hook call converts ~100
// observations, so each (from, to, analyte) pair is resolved once into an affine function
// y = offset + scale·x and cached in the converter the runtime holds (createUnitConverter); the hot
// path is then one multiply-add and a Map lookup.
import ucum from '@lhncbc/ucum-lhc';
import type { QuantityKind } from './quantities.ts';

const utils = ucum.UcumLhcUtils.getInstance();

/**
 * Substance facts UCUM needs to cross the mass ↔ amount-of-substance (or equivalents) boundary.
 *
 * MODELS.md fixes the clinical factors: creatinine µmol/L ÷ 88.42 = mg/dL and bilirubin µmol/L ÷ 17.1
 * = mg/dL. For X µmol/L → mg/dL, UCUM computes X · 1e-6 mol/L · MW g/mol = X · MW · 1e-6 g/L
 * = X · MW · 1e-4 g/dL ·1000 mg/g = X · MW / 10 000 mg/dL, hence MW = 10 000 / factor:
 * creatinine 10 000 / 88.42 = 113.097 g/mol (the chemical value is 113.12; the clinical factor
 * rounds it), bilirubin 10 000 / 17.1 = 584.80 g/mol (chemical 584.66). Deriving the molecular
 * weights from the published factors makes the conversion reproduce MODELS.md exactly rather than
 * drift by the rounding of a chemistry-table value.
 *
 * Sodium is monovalent, so 1 mEq = 1 mmol (charge 1). Albumin g/L → g/dL is a plain mass
 * conversion and needs nothing here.
 */
export const ANALYTES = {
  creatinine: { molecularWeight: 10000 / 88.42 },
  bilirubin: { molecularWeight: 10000 / 17.1 },
  sodium: { charge: 1 },
  potassium: { charge: 1 },
} as const satisfies Record<string, { molecularWeight?: number; charge?: number }>;

export type Analyte = keyof typeof ANALYTES;

/**
 * Unit strings labs actually send that are not valid (or not the intended) UCUM codes. Matched
 * exactly first, then case-insensitively (UCUM itself is case sensitive: 'mg/dL' ≠ 'Mg/dL', so we only
 * fold case for the strings listed here).
 */
const ALIASES = new Map<string, string>([
  ['µmol/L', 'umol/L'], // U+00B5 MICRO SIGN
  ['μmol/L', 'umol/L'], // U+03BC GREEK SMALL LETTER MU
  ['umol/l', 'umol/L'],
  ['mmol/l', 'mmol/L'],
  ['mEq/L', 'meq/L'],
  ['g/l', 'g/L'],
  ['g/dl', 'g/dL'],
  ['mg/dl', 'mg/dL'],
  ['cm^2', 'cm2'],
  ['cm²', 'cm2'],
  ['m^2', 'm2'],
  ['m²', 'm2'],
  ['kg/m^2', 'kg/m2'],
  ['kg/m²', 'kg/m2'],
  ['in', '[in_i]'],
  ['inch', '[in_i]'],
  ['inches', '[in_i]'],
  ['ft', '[ft_i]'],
  ['lb', '[lb_av]'],
  ['lbs', '[lb_av]'],
  ['mmHg', 'mm[Hg]'],
  ['mm Hg', 'mm[Hg]'],
  ['bpm', '/min'],
  ['beats/min', '/min'],
  ['msec', 'ms'],
  ['sec', 's'],
  // Dimensionless ratios (INR): UCUM writes them as '1' or an annotation.
  ['ratio', '{ratio}'],
  ['INR', '{INR}'],
]);
const ALIASES_CI = new Map([...ALIASES].map(([k, v]) => [k.toLowerCase(), v]));

/** Normalise a recorded unit string to the UCUM code we convert from (undefined when absent/blank). */
export function normalizeUnit(unit: string | undefined | null): string | undefined {
  // FHIR JSON from outside: a unit that is not a string is no unit (found by the fuzzing tests).
  if (typeof unit !== 'string') return undefined;
  const u = unit.trim();
  if (u === '') return undefined;
  return ALIASES.get(u) ?? ALIASES_CI.get(u.toLowerCase()) ?? u;
}

/** A UCUM unit that is the pure number 1: '1' or only an annotation ('{INR}', '{ratio}', '{score}'). */
export function isDimensionless(unit: string): boolean {
  return unit === '1' || /^\{[^{}]*\}$/.test(unit);
}

type Converter = ((x: number) => number) | null;
/** Unit strings come from outside: bound the cache so odd data cannot grow it without limit. */
const CACHE_LIMIT = 10_000;
const identity = (x: number): number => x;

/**
 * UCUM conversions with their cache: built once per runtime (src/runtime.ts) and shared by every
 * evaluation of that thread, never a module-level cache (DESIGN.md "Dependencies are passed in").
 */
export interface UnitConverter {
  /**
   * Convert `value` recorded in `fromUnit` to `targetUnit` (a UCUM code). Returns null when the unit is
   * unknown, absent (except for dimensionless targets such as INR's '1'/'{INR}') or not commensurable
   * (mass ↔ moles without a known analyte): the caller reports the input as unusable, never guesses.
   *
   * Results are rounded to 12 significant digits: 34.2 µmol/L bilirubin must be 2 mg/dL, not
   * 1.9999999999999996 (which would fall into the wrong Child-Pugh band), and no lab value carries
   * 12 significant digits, so this only removes floating-point noise.
   */
  toUnit(value: number, fromUnit: string | undefined | null, targetUnit: string, analyte?: Analyte): number | null;
  /** True when `fromUnit` can be converted to `targetUnit` (for the analyte). */
  isConvertible(fromUnit: string | undefined | null, targetUnit: string, analyte?: Analyte): boolean;
  /**
   * Whether a recorded unit means the input's quantity (quantities.ts): a listed unit ('' = none
   * recorded), or for 'convertible' any unit UCUM converts to the target. Recognising the unit comes
   * before converting it: UCUM would turn 30 % into an INR of 0.3.
   */
  meansQuantity(kind: Pick<QuantityKind, 'unit' | 'analyte' | 'accepts'>, recorded: string | undefined | null): boolean;
  /** A UCUM unit that is a pure number (dimension 1): %, '1', annotations, area per area, ... */
  isPureNumber(unit: string): boolean;
  /** Cached pairs, and how many times ucum-lhc was called (tests, benchmarks). */
  stats(): { size: number; ucumCalls: number };
}

/**
 * Each (from, to, analyte) pair is resolved once into an affine function y = offset + scale·x and
 * kept, keyed by the raw strings so the hot path does not even normalise.
 */
export function createUnitConverter(): UnitConverter {
  const cache = new Map<string, Converter>();
  const calls = { ucum: 0 };
  const toUnit = (value: number, fromUnit: string | undefined | null, targetUnit: string, analyte?: Analyte): number | null => {
    if (!Number.isFinite(value)) return null;
    const key = `${fromUnit ?? ''}\u0000${targetUnit}\u0000${analyte ?? ''}`;
    let convert = cache.get(key);
    if (convert === undefined) {
      convert = resolveConverter(fromUnit, targetUnit, analyte, calls);
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(key, convert);
    }
    if (convert === null) return null;
    if (convert === identity) return value;
    const y = convert(value);
    return Number.isFinite(y) ? roundSignificant(y) : null;
  };
  const isConvertible = (fromUnit: string | undefined | null, targetUnit: string, analyte?: Analyte): boolean =>
    toUnit(1, fromUnit, targetUnit, analyte) !== null;
  return {
    toUnit,
    isConvertible,
    meansQuantity(kind, recorded) {
      const u = normalizeUnit(recorded);
      if (kind.accepts === 'convertible') return u !== undefined && isConvertible(u, kind.unit, kind.analyte);
      return kind.accepts.some((a) => (normalizeUnit(a) ?? '') === (u ?? ''));
    },
    isPureNumber: (unit) => normalizeUnit(unit) !== undefined && toUnit(1, unit, '1') !== null,
    stats: () => ({ size: cache.size, ucumCalls: calls.ucum }),
  };
}

function resolveConverter(fromUnit: string | undefined | null, targetUnit: string, analyte: Analyte | undefined, calls: { ucum: number }): Converter {
  const to = normalizeUnit(targetUnit);
  if (to === undefined) return null;
  const from = normalizeUnit(fromUnit);
  // No unit recorded: only meaningful when the target itself is a pure number (INR).
  if (from === undefined) return isDimensionless(to) ? identity : null;
  if (from === to) return identity;
  // UCUM §1: expressions use only ASCII 33–126 (no spaces). Anything else is no UCUM unit, and
  // ucum-lhc would print it with console.log (stdout, outside our logger) while failing to parse it.
  if (!UCUM_CHARACTERS.test(from) || !UCUM_CHARACTERS.test(to)) return null;
  return makeConverter(from, to, analyte, calls);
}

const UCUM_CHARACTERS = /^[!-~]+$/;

/**
 * Probe ucum-lhc at three points. UCUM conversions between commensurable units are affine
 * (scale, plus an offset only for temperatures such as Cel ↔ [degF]); if the third point does not fit
 * (a logarithmic special unit), fall back to calling ucum-lhc each time.
 */
function makeConverter(from: string, to: string, analyte: Analyte | undefined, calls: { ucum: number }): Converter {
  // ucum-lhc accepts { molecularWeight, charge }; our local .d.ts declares only molecularWeight, and a
  // non-literal object with an extra property is still assignable.
  const options: { molecularWeight?: number; charge?: number } = analyte ? { ...ANALYTES[analyte] } : {};
  const at = (x: number): number | null => {
    calls.ucum++;
    try {
      const r = utils.convertUnitTo(from, x, to, options);
      return r.status === 'succeeded' && typeof r.toVal === 'number' && Number.isFinite(r.toVal) ? r.toVal : null;
    } catch {
      // ucum-lhc throws on some strings (e.g. 'constructor' hits its own prototype lookups); unit
      // strings come from outside, so any failure is just "not convertible".
      return null;
    }
  };
  const y0 = at(0);
  const y1 = at(1);
  const y10 = at(10);
  if (y0 === null || y1 === null || y10 === null) return null;
  const offset = y0;
  const scale = y1 - y0;
  const predicted = offset + scale * 10;
  if (Math.abs(predicted - y10) <= 1e-9 * Math.max(1, Math.abs(y10))) {
    return offset === 0 ? (x) => x * scale : (x) => offset + scale * x;
  }
  return (x) => at(x) ?? Number.NaN;
}

/** Round to 12 significant digits (see toUnit). */
function roundSignificant(x: number): number {
  if (x === 0) return x;
  const scale = 10 ** (11 - Math.floor(Math.log10(Math.abs(x))));
  return Number.isFinite(scale) && scale > 0 ? Math.round(x * scale) / scale : x;
}
