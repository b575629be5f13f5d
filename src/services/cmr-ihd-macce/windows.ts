// Time windows of the cmr-ihd-macce service, and the "nearest to an instant" selection of
// Observations it needs (observations.ts picks the *latest* within a look-back; admission values
// need the value *nearest* the admission instead). Pure: no I/O.
//
// Windows (why each, documented on the card too):
//   - Admission values (heart rate, systolic BP, creatinine, troponin): nearest the admission anchor
//     within onset − 24 h .. onset + 24 h. GRACE scores the values at presentation (Granger 2003);
//     the recorded onset may be the symptom onset, first medical contact or diagnosis time
//     depending on the site, so presentation values may precede or follow it by hours; 24 h each
//     side covers late presenters, and the nearest value wins, so a later (treated) value never
//     beats an earlier presentation value that is closer.
//   - Presentation findings coded with project codes (Killip class, cardiac arrest at admission, ST
//     deviation, anterior STE/LBBB, a recorded time to reperfusion): by definition facts at
//     presentation (CodeSystem imaging-cds), often documented later: onset − 24 h .. onset + the
//     acute-MI window, nearest the anchor.
//   - Weight (TIMI): body weight changes slowly: onset − bodyLookbackDays .. onset + 7 days.
//   - CMR after an acute MI: onset .. now, nearest onset + 7 days (the CMR risk score's cohort had
//     CMR about one week after the infarction, Marcos-Garcés 2022). Chronic disease: the most recent
//     within CMR_LOOKBACK_DAYS.
//   - Reperfusion: the first reperfusion therapy (PCI or fibrinolysis) at or after the onset within
//     48 h (ESC STEMI guidelines: primary PCI is indicated up to 48 h after symptom onset in late
//     presenters; a later procedure is not the reperfusion of the acute event).
import type { Observation } from 'fhir/r4.js';
import type { InputValue } from '../../models/types.ts';
import type { DateRange, Lookup, ResourceSource } from '../../fhir/observations.ts';
import type { FhirReader } from '../../fhir/reader.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const ADMISSION_BEFORE_MS = 24 * HOUR_MS;
export const ADMISSION_AFTER_MS = 24 * HOUR_MS;
export const PRESENTATION_BEFORE_MS = 24 * HOUR_MS;
export const WEIGHT_AFTER_MS = 7 * DAY_MS;
/** CMR risk score cohort: CMR about one week after the infarction (Marcos-Garcés 2022). */
export const CMR_TARGET_AFTER_ONSET_MS = 7 * DAY_MS;
/** Chronic IHD: CMR measurements of the last year. */
export const CMR_LOOKBACK_DAYS = 365;
/** Primary PCI up to 48 h from symptom onset (ESC STEMI guidelines); a later procedure is not reperfusion. */
export const REPERFUSION_MAX_MS = 48 * HOUR_MS;

/** Look-back that never excludes a result: used to read one pre-selected Observation with the
 * observations.ts pickers (their rules for status, units and values), the window being ours. */
export const ANY_AGE_DAYS = 36_500;

/** The picker's reason for one Observation, without its look-back phrase. */
export function cleanReason(reason: string): string {
  return reason.replace(/^no usable result within \d+ days;?\s*/, '') || 'unusable result';
}

/** A search window [from, to] (ms) and the instant (or range) the nearest value is measured from. */
export interface Window {
  from: number;
  to: number;
  target: { start: number; end: number };
  /** How the window reads on a card, e.g. 'within 24 h of the MI onset'. */
  describe: string;
}

/** Gap between two ranges (0 when they overlap): partial dates ('2025-03-01') are day ranges. */
export function gap(a: { start: number; end: number }, b: { start: number; end: number }): number {
  if (a.end < b.start) return b.start - a.end;
  if (b.end < a.start) return a.start - b.end;
  return 0;
}

/** A FHIR dateTime carries a time of day (not just a date). */
export function hasTime(d: DateRange): boolean {
  return !d.partial;
}

/** FHIR requires an offset on any dateTime with a time; without it the instant is ambiguous. */
export function hasOffset(text: string): boolean {
  return /T.*(Z|[+-]\d{2}:\d{2})$/.test(text);
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * The Observation nearest `window.target` within the window whose code (or a component's code) is
 * in the ValueSet and from which `read` extracts a value. `read` gets one Observation and applies
 * the usual rules (status, units, comparator, data-absent reason: observations.ts), so a nearer but
 * unusable result gives way to the next nearest. Ties go to the earlier result (before treatment).
 */
export function nearest<V extends InputValue>(
  fhir: FhirReader,
  source: ResourceSource,
  valueSet: string,
  name: string,
  window: Window,
  read: (obs: Observation) => Lookup<V>,
): Lookup<V> {
  const candidates: Array<{ obs: Observation; d: DateRange; dist: number }> = [];
  for (const { obs, date: d } of fhir.observationsIn(source, valueSet)) {
    if (!d || d.end < window.from || d.start > window.to) continue;
    candidates.push({ obs, d, dist: gap(d, window.target) });
  }
  candidates.sort((a, b) => a.dist - b.dist || a.d.start - b.d.start || ((a.obs.id ?? '') < (b.obs.id ?? '') ? -1 : 1));
  const reasons: string[] = [];
  for (const c of candidates) {
    const found = read(c.obs);
    if (found.found) return found;
    reasons.push(cleanReason(found.reason));
  }
  return {
    found: false,
    name,
    reason: candidates.length === 0 ? `no result ${window.describe}` : `no usable result ${window.describe} (${[...new Set(reasons)].join('; ')})`,
  };
}
