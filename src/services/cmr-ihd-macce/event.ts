// Does the service apply, and to which event? Ischaemic heart disease or MI (ValueSet ihd) makes
// it apply; an acute MI (ValueSet acute-mi, typed by stemi / nstemi) with onset within
// config.acuteMiWindowDays makes it an acute event (GRACE, TIMI, CMR risk score); anything else is
// chronic disease (CMR markers only). Pure: no I/O.
import type { Encounter } from 'fhir/r4.js';
import type { ConditionMatch } from '../../fhir/conditions.ts';
import { arrayOf, inWindow, parseFhirDate, stringOf, type DateRange, type ResourceSource } from '../../fhir/observations.ts';
import type { FhirReader } from '../../fhir/reader.ts';
import { ADMISSION_AFTER_MS, ADMISSION_BEFORE_MS, gap } from './windows.ts';

export type MiType = 'stemi' | 'nstemi' | 'unspecified';

export interface AcuteEvent {
  condition: ConditionMatch;
  type: MiType;
  onset: DateRange;
}

/** The instant admission values are measured from: the index admission's start, else the onset. */
export interface Anchor {
  range: { start: number; end: number };
  kind: 'onset' | 'encounter';
  text: string;
  source: string;
}

export interface Classification {
  /** Most recent IHD / MI Condition (not refuted): the service applies. */
  ihd?: ConditionMatch;
  /** Most recent acute MI with onset within the window. */
  acute?: AcuteEvent;
  /** Most recent STEMI older than the window (CMR risk score population note). */
  olderStemi?: ConditionMatch;
  /** Most recent acute MI of any type older than the window: its GRACE/TIMI are not the current risk. */
  olderAcute?: ConditionMatch;
  /** An acute MI recorded without any onset: cannot be placed in the window. */
  undatedAcute?: ConditionMatch;
}

export function classify(fhir: FhirReader, conditions: ResourceSource, now: Date, windowDays: number): Classification {
  const out: Classification = {};
  out.ihd = fhir.findConditions(conditions, 'ihd', { now })[0];
  if (!out.ihd) return out;
  const term = fhir.terminology;
  // findConditions sorts by onset, most recent first (undated last).
  for (const c of fhir.findConditions(conditions, 'acute-mi', { now })) {
    const onset = parseFhirDate(c.onset);
    if (!onset) {
      out.undatedAcute ??= c;
      continue;
    }
    const w = inWindow(onset, now, windowDays);
    if (w === 'future') continue;
    const type: MiType = term.valueSetContains('stemi', c.resource.code) ? 'stemi' : term.valueSetContains('nstemi', c.resource.code) ? 'nstemi' : 'unspecified';
    if (w === 'in') {
      out.acute ??= { condition: c, type, onset };
    } else {
      out.olderAcute ??= c;
      if (type === 'stemi') out.olderStemi ??= c;
    }
  }
  if (out.acute) delete out.undatedAcute;
  return out;
}

/**
 * The admission anchor: the start of the context encounter when it began within 24 h of the onset
 * (then it is the index admission: CDS Hooks patient-view gives the current encounter, which may be
 * any later visit), else the MI onset itself.
 */
export function admissionAnchor(fhir: FhirReader, event: AcuteEvent, encounter: ResourceSource): Anchor {
  const onsetAnchor: Anchor = { range: { start: event.onset.start, end: event.onset.end }, kind: 'onset', text: event.onset.text, source: event.condition.source };
  const enc = fhir.resourcesOf(encounter).find((r): r is Encounter => r.resourceType === 'Encounter');
  const start = parseFhirDate(enc?.period?.start);
  if (!enc || !start || start.partial) return onsetAnchor;
  const window = { start: event.onset.start - ADMISSION_BEFORE_MS, end: event.onset.end + ADMISSION_AFTER_MS };
  if (gap(start, window) > 0) return onsetAnchor;
  return { range: { start: start.start, end: start.end }, kind: 'encounter', text: start.text, source: `Encounter/${enc.id ?? ''}` };
}

/** Display text of a Condition (untrusted FHIR text: escape it before putting it in Markdown). */
export function conditionText(c: ConditionMatch): string {
  const code = c.resource.code;
  const codings = arrayOf(code?.coding);
  // FHIR JSON from outside may hold anything: only strings are words (fuzzing tests).
  return stringOf(code?.text) ?? stringOf(codings.find((x) => x?.display)?.display) ?? stringOf(codings[0]?.code) ?? 'Condition';
}
