// FHIR and DICOM give the same inputs under the same names (imaging/types.ts): a post-processing tool
// may send its results as FHIR Observations, as a DICOM SR in the archive, or both (DESIGN.md
// "Imaging"). The services take, per input, the newer of the two; the card says where each number
// came from (its source: `Observation/<id>` or `dicom:<SOP Instance UID>`). Pure.
import type { Input, InputValue } from '../models/types.ts';

/**
 * The newer of the two. Dates are compared by calendar day when either has no time (a DICOM
 * StudyDate, a FHIR effectiveDate): on the same day the DICOM value, read from the study's own
 * report, is taken. An input without a date loses to one with a date.
 */
export function newerInput<V extends InputValue>(fhir: Input<V> | undefined, dicom: Input<V> | undefined): Input<V> | undefined {
  if (!fhir) return dicom;
  if (!dicom) return fhir;
  return compareDates(dicom.date, fhir.date) >= 0 ? dicom : fhir;
}

/** > 0 when a is newer than b; dates without a time are compared by day. */
export function compareDates(a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return a === undefined ? (b === undefined ? 0 : -1) : 1;
  const timed = (d: string): boolean => d.includes('T');
  if (!timed(a) || !timed(b)) return a.slice(0, 10) < b.slice(0, 10) ? -1 : a.slice(0, 10) > b.slice(0, 10) ? 1 : 0;
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (!Number.isFinite(ta) || !Number.isFinite(tb)) return Number.isFinite(ta) ? 1 : Number.isFinite(tb) ? -1 : 0;
  return ta - tb;
}

/** Whether a dated input falls between `from` and `to` (ms); undated inputs do not. */
export function datedWithin(input: Input, from: number, to: number): boolean {
  const t = input.date ? Date.parse(input.date) : Number.NaN;
  // A date-only value stands for its whole day.
  const end = input.date && !input.date.includes('T') ? t + 86_399_999 : t;
  return Number.isFinite(t) && end >= from && t <= to;
}
