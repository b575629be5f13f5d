// GRACE "elevated cardiac enzymes" from a troponin result (MODELS.md 1b). Above the result's own
// reference range (Observation.referenceRange.high; equal is not above), else the laboratory's
// interpretation flag (HL7 v3 ObservationInterpretation); with neither the item is unknown, never
// "not elevated". Pure: no I/O.
import type { Observation, Quantity } from 'fhir/r4.js';
import type { Lookup } from '../../fhir/observations.ts';
import { arrayOf, observationDate, unusableStatus } from '../../fhir/observations.ts';
import type { UnitConverter } from '../../fhir/units.ts';
import { UCUM } from '../../fhir/canonical.ts';

const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
// v3 ObservationInterpretation: H high, HH critical high, HU significantly high, A abnormal,
// AA critical abnormal → elevated; N normal, L low, LL critical low, LU significantly low → not.
const ELEVATED = new Set(['H', 'HH', 'HU', 'A', 'AA']);
const NOT_ELEVATED = new Set(['N', 'L', 'LL', 'LU']);
/** The flags in words (HL7 v3 ObservationInterpretation displays), for the card. */
const FLAG_WORDS: Record<string, string> = {
  H: 'high', HH: 'critically high', HU: 'significantly high', A: 'abnormal', AA: 'critically abnormal',
  N: 'normal', L: 'low', LL: 'critically low', LU: 'significantly low',
};
const USABLE_STATUS = new Set(['final', 'amended', 'corrected']);

export interface EnzymeReading {
  lookup: Lookup<boolean>;
  /** How the answer was reached (shown under "How inputs were found"). */
  note?: string;
}

const unitOf = (q: Quantity): string | undefined => (q.code && (q.system === undefined || q.system === UCUM) ? q.code : (q.unit ?? q.code));

export function readEnzymes(obs: Observation, units: UnitConverter): EnzymeReading {
  const name = 'elevatedEnzymes';
  const source = `Observation/${obs.id ?? ''}`;
  if (!USABLE_STATUS.has(obs.status)) return { lookup: { found: false, name, reason: unusableStatus(obs.status) } };
  const date = observationDate(obs);
  const found = (value: boolean, note: string): EnzymeReading => ({
    lookup: { found: true, resource: obs, input: { name, value, source, ...(date ? { date: date.text } : {}) } },
    note,
  });

  const q = obs.dataAbsentReason ? undefined : obs.valueQuantity;
  const high = arrayOf(obs.referenceRange).find((r) => typeof r?.high?.value === 'number')?.high;
  if (q && typeof q.value === 'number' && high && typeof high.value === 'number') {
    const unit = unitOf(q);
    const highUnit = unitOf(high);
    // A reference range is in the result's unit unless it says otherwise; convert when it does.
    const limit = highUnit === undefined || highUnit === unit ? high.value : units.toUnit(high.value, highUnit, unit ?? '');
    if (limit !== null) {
      const verdict = compare(q.value, q.comparator, limit);
      if (verdict !== undefined) {
        const shown = `${q.comparator ?? ''}${q.value} ${unit ?? ''}`.trim();
        return found(verdict, `Troponin ${shown} (${source}) is ${verdict ? 'above' : 'not above'} its reference high ${limit} ${unit ?? ''}`.trim() + '.');
      }
    }
  }
  // FHIR JSON from outside may hold anything (null entries, non-arrays: fuzzing tests).
  const flags = arrayOf(obs.interpretation).flatMap((cc) => arrayOf(cc?.coding)).filter((c) => c?.system === INTERPRETATION && c.code);
  const elevated = flags.find((c) => ELEVATED.has(c.code ?? ''));
  if (elevated) return found(true, `Troponin (${source}) flagged ${FLAG_WORDS[elevated.code ?? ''] ?? 'high'} by the laboratory: elevated.`);
  const normal = flags.find((c) => NOT_ELEVATED.has(c.code ?? ''));
  if (normal) return found(false, `Troponin (${source}) flagged ${FLAG_WORDS[normal.code ?? ''] ?? 'normal'} by the laboratory: not elevated.`);
  return { lookup: { found: false, name, reason: 'troponin without a reference range or an interpretation flag' } };
}

/** value (with its comparator) vs the upper reference limit: above → true, not above → false. */
function compare(value: number, comparator: Quantity['comparator'], limit: number): boolean | undefined {
  switch (comparator) {
    case undefined:
      return value > limit;
    case '<':
      return value <= limit ? false : undefined;
    case '<=':
      return value <= limit ? false : undefined;
    case '>':
      return value >= limit ? true : undefined;
    case '>=':
      return value > limit ? true : undefined;
    default:
      return undefined;
  }
}
