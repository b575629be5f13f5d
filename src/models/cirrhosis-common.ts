// Small helpers shared by the cirrhosis-sarcopenia models (MODELS.md section 3). Pure, no I/O.
import { noteMaker, type Input, type ModelMetadata, type ModelNote, type ModelResult, type NoteSpec } from './types.ts';

export type Sex = 'female' | 'male';

/** A numeric input's value when it is usable; a non-finite number counts as absent (never guessed). */
export function numeric(input: Input<number> | undefined): number | undefined {
  return input !== undefined && Number.isFinite(input.value) ? input.value : undefined;
}

/**
 * Sex from a boolean "female" flag or the FHIR administrative gender code. 'other' and 'unknown'
 * (FHIR codes) and anything else give undefined: the sex-specific terms and cut-offs are biological,
 * so the caller lists 'sex' as missing rather than assuming one.
 */
export function sexOf(input: Input<boolean | string> | undefined): Sex | undefined {
  if (input === undefined) return undefined;
  if (typeof input.value === 'boolean') return input.value ? 'female' : 'male';
  const code = input.value.trim().toLowerCase();
  return code === 'female' || code === 'male' ? code : undefined;
}

/**
 * Removes binary floating-point noise before a value is compared with a published cut-off
 * (e.g. 51.3 µmol/L ÷ 17.1 = 2.9999999999999996, not 3.0). 1e-9 is far below any reported precision.
 */
export function denoise(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

/** Number for notes: at most two decimals, no trailing zeros (1.7018 → '1.7', 4 → '4'). */
export function fmt(x: number): string {
  return String(Number(x.toFixed(2)));
}

/** A published limit as written: '1.0', '3.5', '125'. */
const limit = (b: number): string => (b >= 10 ? fmt(b) : b.toFixed(1));

/** Notes of bound(): a lab value raised to a published floor or capped (`unit` has its leading space). */
export const BOUND_NOTE_SPEC = {
  floorRaised: ['label', 'limit', 'unit', 'measured'],
  capped: ['label', 'limit', 'unit', 'measured'],
} as const satisfies NoteSpec;
const boundNote = noteMaker(BOUND_NOTE_SPEC);

export interface Bounded {
  value: number;
  /** Set when the bound changed the value (worded e.g. 'Creatinine capped at 3.0 mg/dL (measured 4)'). */
  note?: ModelNote;
}

/** Applies a published floor and/or cap to a lab value and says so when it changed the value. */
export function bound(label: string, x: number, unit: string, limits: { floor?: number; cap?: number }): Bounded {
  const { floor, cap } = limits;
  const u = unit === '' ? '' : ` ${unit}`;
  if (floor !== undefined && x < floor) {
    return { value: floor, note: boundNote('floorRaised', { label, limit: limit(floor), unit: u, measured: fmt(x) }) };
  }
  if (cap !== undefined && x > cap) {
    return { value: cap, note: boundNote('capped', { label, limit: limit(cap), unit: u, measured: fmt(x) }) };
  }
  return { value: x };
}

/** The Input objects actually present, for echoing in ModelResult.inputs. */
export function present(...inputs: Array<Input | undefined>): Input[] {
  return inputs.filter((i): i is Input => i !== undefined);
}

/** A result for a model that declined (value null): what is missing and why, nothing assumed. */
export function declined(
  metadata: ModelMetadata, unit: string, missing: string[], inputs: Input[], notes: ModelNote[] = [],
): ModelResult {
  return {
    model: metadata.id, value: null, unit, contributions: [], missing, inputs, metadata,
    ...(notes.length > 0 ? { notes } : {}),
  };
}
