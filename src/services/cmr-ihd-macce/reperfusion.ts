// Time from MI onset to reperfusion (hours, decimal), the CMR risk score item "> 4.15 h"
// (Marcos-Garcés 2022) and TIMI's "time to treatment > 4 h" (Morrow 2000). Derived from the onset
// and the PCI procedure time, compared as instants (Date.parse honours UTC offsets, so
// 10:00+02:00 and 08:00Z are the same instant). Pure: no I/O.
import type { Input } from '../../models/types.ts';
import { proceduresWithin } from '../../fhir/conditions.ts';
import { parseFhirDate, type ResourceSource } from '../../fhir/observations.ts';
import type { AcuteEvent } from './event.ts';
import { ANY_AGE_DAYS, HOUR_MS, REPERFUSION_MAX_MS, hasOffset } from './windows.ts';

export type Reperfusion = { found: true; input: Input<number>; note: string } | { found: false; reason: string };

export function reperfusionFromPci(event: AcuteEvent, procedures: ResourceSource, now: Date): Reperfusion {
  const onset = event.onset;
  if (onset.partial) return { found: false, reason: `the MI onset (${onset.text}) has no time of day` };
  const pcis = proceduresWithin(procedures, 'pci', { now, days: ANY_AGE_DAYS })
    .map((p) => ({ p, d: parseFhirDate(p.date) }))
    .filter((x): x is { p: typeof x.p; d: NonNullable<typeof x.d> } => x.d !== undefined)
    .sort((a, b) => a.d.start - b.d.start);
  if (pcis.length === 0) return { found: false, reason: 'no PCI in the record' };

  // A PCI ending before the onset treated an earlier event: it is not a reperfusion of this MI.
  const after = pcis.filter((x) => x.d.end >= onset.start);
  const first = after[0];
  if (!first) {
    const last = pcis[pcis.length - 1]!;
    return { found: false, reason: `the only PCI (${last.p.date}) precedes the MI onset (${onset.text}): not a reperfusion of this MI` };
  }
  if (first.d.partial) return { found: false, reason: `the PCI of ${first.p.date} has no time of day` };
  if (hasOffset(onset.text) !== hasOffset(first.d.text)) {
    return { found: false, reason: 'the onset and PCI times are not both given with a UTC offset: the interval is ambiguous' };
  }
  const ms = first.d.start - onset.start;
  if (ms > REPERFUSION_MAX_MS) {
    return { found: false, reason: `the first PCI after the onset (${first.p.date}) is ${Math.round(ms / HOUR_MS)} h later: beyond 48 h it is not primary reperfusion` };
  }
  const hours = ms / HOUR_MS;
  return {
    found: true,
    input: { name: 'timeToReperfusion', value: hours, unit: 'h', date: first.p.date, source: first.p.source },
    note: `Time to reperfusion ${formatHours(hours)}: MI onset ${onset.text} (${event.condition.source}) to PCI ${first.p.date} (${first.p.source}).`,
  };
}

/** 4.15 → '4.15 h (4 h 9 min)': decimal hours are easy to misread as hours and minutes. */
export function formatHours(hours: number): string {
  const totalMin = Math.round(hours * 60);
  return `${Math.round(hours * 100) / 100} h (${Math.floor(totalMin / 60)} h ${totalMin % 60} min)`;
}
