// FHIR and DICOM give the same inputs under the same names (imaging/types.ts): a post-processing tool
// may send its results as FHIR Observations, as a DICOM SR in the archive, or both (DESIGN.md
// "Imaging"). The services take, per input, the newer of the two; the card says where each number
// came from (its source: `Observation/<id>` or `dicom:<SOP Instance UID>`). Pure.
import type { Input, InputValue } from '../models/types.ts';

/**
 * The newer of the two, by calendar day: a study reported both ways carries the same day but rarely
 * the same time (StudyTime or the SR's ContentTime versus the Observation's effective time, often in
 * another time zone or the time of filing). On the same day the DICOM value, read from the study's
 * own report, is taken. An input without a date loses to one with a date.
 */
export function newerInput<V extends InputValue>(fhir: Input<V> | undefined, dicom: Input<V> | undefined): Input<V> | undefined {
  if (!fhir) return dicom;
  if (!dicom) return fhir;
  return compareDates(dicom.date, fhir.date) >= 0 ? dicom : fhir;
}

/** > 0 when a's calendar day is after b's, 0 on the same day (an absent date is the oldest). */
export function compareDates(a: string | undefined, b: string | undefined): number {
  const day = (d: string | undefined): string => (d && /^\d{4}-\d{2}-\d{2}/.test(d) ? d.slice(0, 10) : '');
  const da = day(a);
  const db = day(b);
  return da < db ? -1 : da > db ? 1 : 0;
}

/** Whether a dated input falls between `from` and `to` (ms); undated inputs do not. */
export function datedWithin(input: Input, from: number, to: number): boolean {
  const t = input.date ? Date.parse(input.date) : Number.NaN;
  // A date-only value stands for its whole day.
  const end = input.date && !input.date.includes('T') ? t + 86_399_999 : t;
  return Number.isFinite(t) && end >= from && t <= to;
}

/** Whether a dated input falls within the `days` before `now` (a look-back); undated inputs do not. */
export function withinLookback(input: Input, now: Date, days: number): boolean {
  return datedWithin(input, now.getTime() - days * DAY_MS, now.getTime());
}

const DAY_MS = 86_400_000;
