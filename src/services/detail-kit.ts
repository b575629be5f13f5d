// Pieces the services' detail steps share (services/<id>/detail.ts): the impression line of a score
// for the CMR report draft, and a measurement's values over time. Pure.
import type { ShownResult } from './model-notes.ts';
import type { ResourceSource } from '../fhir/observations.ts';
import type { FhirReader } from '../fhir/reader.ts';
import type { QuantityKind } from '../fhir/quantities.ts';
import type { Trend } from './detail-schema.ts';
import { fill } from './card-wording.ts';
import { round } from './card-kit.ts';
import type { ViewContext } from './types.ts';

const ANY_AGE_DAYS = 36_500;

export function scoreLine(r: ShownResult, view: ViewContext): string {
  const value = r.range ? `${round(r.range.min, 1)}–${round(r.range.max, 1)} ${r.unit}` : `${r.display ?? round(r.value ?? Number.NaN, 2)} ${r.unit}`;
  return fill(view.report.text.impressionScore, { title: r.metadata.title, value, tier: r.tier ? `, ${r.tier}` : '', citation: r.metadata.citation });
}

/** Each recorded value of a ValueSet, unit-normalised by the same reader the services use. */
export function measurementPoints(fhir: FhirReader, source: ResourceSource, valueSet: string, quantity: QuantityKind, now: Date): Trend['points'] {
  const points: Trend['points'] = [];
  for (const m of fhir.observationsIn(source, valueSet)) {
    const l = fhir.latestQuantity([m.obs], { valueSet, name: valueSet, quantity, now, lookbackDays: ANY_AGE_DAYS });
    if (l.found && l.input.date) points.push({ date: l.input.date, value: l.input.value, sources: [l.input.source] });
  }
  return points.sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
}
