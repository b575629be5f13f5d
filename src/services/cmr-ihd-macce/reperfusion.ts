// Time from MI onset to reperfusion (hours, decimal), the CMR risk score item "> 4.15 h"
// (Marcos-Garcés 2022) and TIMI's "time to treatment > 4 h" (Morrow 2000, a fibrinolysis trial).
// Derived from the onset and the first reperfusion therapy recorded as a Procedure: PCI (ValueSet
// pci) or fibrinolysis (ValueSet fibrinolysis); DICOM PS3.16 CID 3764 "Myocardial Infarction Therapy"
// lists both. The first one counts: after a fibrinolysis, a later PCI (rescue or pharmaco-invasive)
// is not the time to reperfusion. Compared as instants (Date.parse honours UTC offsets, so
// 10:00+02:00 and 08:00Z are the same instant). Pure: no I/O.
import type { Input } from '../../models/types.ts';
import type { ProcedureMatch } from '../../fhir/conditions.ts';
import { parseFhirDate, type DateRange, type ResourceSource } from '../../fhir/observations.ts';
import type { FhirReader } from '../../fhir/reader.ts';
import type { AcuteEvent } from './event.ts';
import { ANY_AGE_DAYS, HOUR_MS, REPERFUSION_MAX_MS, hasOffset } from './windows.ts';

export type Reperfusion = { found: true; input: Input<number>; note: string } | { found: false; reason: string };

/** Reperfusion therapies read, by ValueSet, with the word a card uses for each. */
const THERAPIES = [
  { valueSet: 'pci', label: 'PCI' },
  { valueSet: 'fibrinolysis', label: 'fibrinolysis' },
] as const;

interface Therapy {
  p: ProcedureMatch;
  d: DateRange;
  label: string;
}

export function reperfusionFromProcedures(fhir: FhirReader, event: AcuteEvent, procedures: ResourceSource, now: Date): Reperfusion {
  const onset = event.onset;
  if (onset.partial) return { found: false, reason: `the MI onset (${onset.text}) has no time of day` };
  const therapies: Therapy[] = THERAPIES.flatMap(({ valueSet, label }) =>
    fhir.proceduresWithin(procedures, valueSet, { now, days: ANY_AGE_DAYS }).flatMap((p) => {
      const d = parseFhirDate(p.date);
      return d ? [{ p, d, label }] : [];
    }),
  ).sort((a, b) => a.d.start - b.d.start);
  if (therapies.length === 0) return { found: false, reason: 'no PCI or fibrinolysis in the record' };

  // A therapy ending before the onset treated an earlier event: it is not a reperfusion of this MI.
  const first = therapies.find((x) => x.d.end >= onset.start);
  if (!first) {
    const last = therapies[therapies.length - 1]!;
    return { found: false, reason: `the only ${last.label} (${last.p.date}) precedes the MI onset (${onset.text}): not a reperfusion of this MI` };
  }
  if (first.d.partial) return { found: false, reason: `the ${first.label} of ${first.p.date} has no time of day` };
  if (hasOffset(onset.text) !== hasOffset(first.d.text)) {
    return { found: false, reason: `the onset and ${first.label} times are not both given with a UTC offset: the interval is ambiguous` };
  }
  const ms = first.d.start - onset.start;
  if (ms > REPERFUSION_MAX_MS) {
    return { found: false, reason: `the first ${first.label} after the onset (${first.p.date}) is ${Math.round(ms / HOUR_MS)} h later: beyond 48 h it is not primary reperfusion` };
  }
  const hours = ms / HOUR_MS;
  return {
    found: true,
    input: { name: 'timeToReperfusion', value: hours, unit: 'h', date: first.p.date, source: first.p.source },
    note: `Time to reperfusion ${formatHours(hours)}: MI onset ${onset.text} (${event.condition.source}) to ${first.label} ${first.p.date} (${first.p.source}).`,
  };
}

/** 4.15 → '4.15 h (4 h 9 min)': decimal hours are easy to misread as hours and minutes. */
export function formatHours(hours: number): string {
  const totalMin = Math.round(hours * 60);
  return `${Math.round(hours * 100) / 100} h (${Math.floor(totalMin / 60)} h ${totalMin % 60} min)`;
}
