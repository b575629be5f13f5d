// Conditions and Procedures as model inputs (diagnoses such as MI, cirrhosis, diabetes; dialysis in
// the last week for MELD). Pure: no I/O.
import type { Coding, Condition, Procedure } from 'fhir/r4.js';
import { arrayOf, parseFhirDate, resourcesOf, type DateRange, type FhirContext, type ResourceSource } from './observations.ts';

const DAY_MS = 86_400_000;

export interface ConditionMatch {
  /** 'Condition/<id>' */
  source: string;
  resource: Condition;
  /** Condition.clinicalStatus code (active | recurrence | relapse | inactive | remission | resolved), if any. */
  clinicalStatus?: string;
  /** Condition.verificationStatus code (confirmed | provisional | differential | unconfirmed), if any. */
  verificationStatus?: string;
  /**
   * active | recurrence | relapse → true; inactive | remission | resolved → false. Without a
   * clinicalStatus (R4 allows it outside problem lists) → true unless an abatement is recorded.
   */
  active: boolean;
  /** onsetDateTime, else onsetPeriod.start (FHIR string as recorded). */
  onset?: string;
  /** Whole days from onset to `now` (negative when the onset is in the future). */
  onsetDaysAgo?: number;
  recordedDate?: string;
  abatement?: string;
  /** First coding of Condition.severity (e.g. SNOMED 24484000 severe). */
  severity?: Coding;
}

export interface ConditionOptions {
  now: Date;
}

const ACTIVE = new Set(['active', 'recurrence', 'relapse']);
const INACTIVE = new Set(['inactive', 'remission', 'resolved']);
/** R4 condition-ver-status: a refuted or erroneous entry is not a diagnosis. */
const EXCLUDED_VERIFICATION = new Set(['refuted', 'entered-in-error']);

const statusCode = (cc: Condition['clinicalStatus']): string | undefined => arrayOf(cc?.coding).find((c) => c && typeof c.code === 'string')?.code;

/**
 * Conditions whose code is in the ValueSet, excluding verificationStatus refuted / entered-in-error.
 * Inactive and resolved ones are returned with `active: false` (a past MI is still history). Sorted
 * most recent onset first (unknown onset last), then by id.
 */
export function findConditions(fx: FhirContext, source: ResourceSource, valueSet: string, options: ConditionOptions): ConditionMatch[] {
  const term = fx.terminology;
  const now = options.now.getTime();
  const out: Array<ConditionMatch & { sortKey: number }> = [];
  for (const r of resourcesOf(source, fx.views)) {
    if (r.resourceType !== 'Condition') continue;
    const verificationStatus = statusCode(r.verificationStatus);
    if (verificationStatus !== undefined && EXCLUDED_VERIFICATION.has(verificationStatus)) continue;
    if (!term.valueSetContains(valueSet, r.code)) continue;
    const clinicalStatus = statusCode(r.clinicalStatus);
    const onsetText = r.onsetDateTime ?? r.onsetPeriod?.start;
    const onset = parseFhirDate(onsetText);
    const abatement = r.abatementDateTime ?? r.abatementPeriod?.end ?? r.abatementPeriod?.start ?? r.abatementString;
    const active =
      clinicalStatus !== undefined && ACTIVE.has(clinicalStatus)
        ? true
        : clinicalStatus !== undefined && INACTIVE.has(clinicalStatus)
          ? false
          : abatement === undefined && r.abatementAge === undefined && r.abatementRange === undefined;
    const m: ConditionMatch & { sortKey: number } = {
      source: `Condition/${r.id ?? ''}`,
      resource: r,
      active,
      sortKey: onset?.start ?? -Infinity,
    };
    if (clinicalStatus !== undefined) m.clinicalStatus = clinicalStatus;
    if (verificationStatus !== undefined) m.verificationStatus = verificationStatus;
    if (onset) {
      m.onset = onset.text;
      m.onsetDaysAgo = Math.floor((now - onset.start) / DAY_MS);
    }
    if (r.recordedDate) m.recordedDate = r.recordedDate;
    if (abatement !== undefined) m.abatement = abatement;
    const severity = arrayOf(r.severity?.coding)[0];
    if (severity) m.severity = severity;
    out.push(m);
  }
  out.sort((a, b) => (b.sortKey !== a.sortKey ? b.sortKey - a.sortKey : a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  return out.map(({ sortKey: _sortKey, ...m }) => m);
}

export interface ProcedureMatch {
  /** 'Procedure/<id>' */
  source: string;
  resource: Procedure;
  status: Procedure['status'];
  /** performedDateTime, else performedPeriod.start (FHIR string as recorded). */
  date: string;
  /** performedPeriod.end, when recorded. */
  end?: string;
}

export interface ProcedureOptions {
  now: Date;
  /** Window length: the procedure counts when it was performed within [now − days, now]. */
  days: number;
}

/**
 * Procedures performed (status completed, or in-progress — a CVVHD run still going counts) within
 * the last `days`, whose code is in the ValueSet. A performedPeriod counts when it overlaps the
 * window. Newest first. `not-done`, `entered-in-error`, `preparation`, `on-hold` and `unknown` are
 * not performed procedures (R4 EventStatus) and are ignored; `stopped` is ignored too because the
 * record does not say how much was done.
 */
export function proceduresWithin(fx: FhirContext, source: ResourceSource, valueSet: string, options: ProcedureOptions): ProcedureMatch[] {
  const term = fx.terminology;
  const now = options.now.getTime();
  const from = now - options.days * DAY_MS;
  const out: Array<ProcedureMatch & { sortKey: number }> = [];
  for (const r of resourcesOf(source, fx.views)) {
    if (r.resourceType !== 'Procedure') continue;
    if (r.status !== 'completed' && r.status !== 'in-progress') continue;
    if (!term.valueSetContains(valueSet, r.code)) continue;
    const start: DateRange | undefined = parseFhirDate(r.performedDateTime ?? r.performedPeriod?.start);
    if (!start) continue;
    const endText = r.performedDateTime ? undefined : r.performedPeriod?.end;
    const end = parseFhirDate(endText);
    // Overlap of [start, end] (open-ended when in progress) with [from, now].
    const last = end ? end.end : r.performedPeriod && r.status === 'in-progress' ? now : start.end;
    if (start.start > now || last < from) continue;
    const m: ProcedureMatch & { sortKey: number } = { source: `Procedure/${r.id ?? ''}`, resource: r, status: r.status, date: start.text, sortKey: start.start };
    if (endText) m.end = endText;
    out.push(m);
  }
  out.sort((a, b) => b.sortKey - a.sortKey || (a.source < b.source ? -1 : 1));
  return out.map(({ sortKey: _sortKey, ...m }) => m);
}
