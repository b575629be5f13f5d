// The CMR report draft (MODELS.md section 5: SCMR reporting guideline, Hundley 2022): the template's
// sections filled from the most recent CMR study day in the record. A value not measured that day is
// "not assessed", never filled in; an item with no code in profiles/ is always "not assessed".
// Pure: data in, draft out (the DiagnosticReport is created by the app, with the launch's token).
import type { DiagnosticReport, Reference } from 'fhir/r4.js';
import type { Input, InputValue } from '../models/types.ts';
import type { Lookup, ResourceSource } from '../fhir/observations.ts';
import type { FhirReader } from '../fhir/reader.ts';
import { fill } from './card-wording.ts';
import { displayUnit, round } from './card-kit.ts';
import type { ReportDraft, ReportItem, ReportSection } from './detail-schema.ts';
import type { ReportItemTemplate, ReportTemplate } from './detail-wording.ts';
import { INTEGER_UNITS, QUANTITIES } from '../fhir/quantities.ts';

export interface ReportInputs {
  serviceId: string;
  patientId: string;
  observations: ResourceSource;
  now: Date;
  /** The indication in words (the condition the service acts on), when the record states one. */
  indication?: string;
  /** Impression lines drafted from the service's results (scores, flagged findings). */
  impression: string[];
  /** Display of coded answers (e.g. the mass location), by code. */
  codeLabel?: (code: string) => string;
}

/** No look-back inside the study day: every result of that day counts. */
const ANY_AGE_DAYS = 36_500;

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The draft for the inputs, read with the evaluation's FHIR reader (the same rules as the services). */
export function buildReportDraft(t: ReportTemplate, r: ReportInputs, fhir: FhirReader): ReportDraft {
  const sections = t.sections.filter((s) => !s.services || s.services.includes(r.serviceId));
  const valueSets = new Set<string>();
  for (const s of sections) for (const i of s.items) {
    if (i.valueSet) valueSets.add(i.valueSet);
    for (const e of i.evidence ?? []) valueSets.add(e);
  }
  // The study: the most recent day with a CMR result of the template; earlier days are comparisons.
  const days = new Set<string>();
  for (const vs of valueSets) for (const m of fhir.observationsIn(r.observations, vs)) if (m.date) days.add(dayOf(m.date.start));
  const sorted = [...days].sort();
  const studyDay = sorted.at(-1);
  const earlier = sorted.slice(0, -1);
  const onStudyDay = (vs: string) => (studyDay === undefined ? [] : fhir.observationsIn(r.observations, vs).filter((m) => m.date && dayOf(m.date.start) === studyDay).map((m) => m.obs));

  const used = new Set<string>();
  const labelOfValueSet = new Map<string, string>(Object.entries(t.evidenceLabels));
  for (const s of sections) for (const i of s.items) if (i.valueSet) labelOfValueSet.set(i.valueSet, i.label);

  const readItem = (i: ReportItemTemplate): ReportItem => {
    const notAssessed: ReportItem = { key: i.key, label: i.label, status: 'not-assessed', text: fill(t.text.notAssessed, { label: i.label }), sources: [] };
    if (i.evidence) {
      const found = i.evidence.filter((vs) => onStudyDay(vs).length > 0);
      if (found.length === 0 || studyDay === undefined) return notAssessed;
      const sources = found.flatMap((vs) => onStudyDay(vs).map((o) => `Observation/${o.id ?? ''}`));
      const what = found.map((vs) => labelOfValueSet.get(vs) ?? vs).join(', ');
      return { key: i.key, label: i.label, status: 'measured', text: fill(t.text.performed, { label: i.label, what, date: studyDay }), sources };
    }
    if (!i.valueSet) return notAssessed;
    const pool = onStudyDay(i.valueSet);
    const lookup = readValue(fhir, i, pool, r.now);
    if (!lookup.found) return notAssessed;
    used.add(lookup.input.source);
    return {
      key: i.key, label: i.label, status: 'measured',
      text: fill(t.text.measured, { label: i.label, value: formatValue(lookup.input, t, r.codeLabel), date: (lookup.input.date ?? '').slice(0, 10), source: lookup.input.source }),
      sources: [lookup.input.source],
    };
  };

  const out: ReportSection[] = sections.map((s) => {
    const lines: string[] = [];
    const items: ReportItem[] = [];
    for (const c of s.computed) {
      if (c === 'indication') lines.push(r.indication ? fill(t.text.indication, { text: r.indication }) : t.text.noIndication);
      if (c === 'comparison') lines.push(earlier.length > 0 ? fill(t.text.comparison, { dates: earlier.join(', ') }) : t.text.noComparison);
      if (c === 'impression') lines.push(...(r.impression.length > 0 ? r.impression : [t.text.impressionNone]));
    }
    for (const i of s.items) {
      const item = readItem(i);
      items.push(item);
      lines.push(item.text);
    }
    return { key: s.key, title: s.title, items, text: lines.join('\n') };
  });

  const result: Reference[] = [...used].filter((s) => s.startsWith('Observation/')).map((reference) => ({ reference }));
  const resource: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    status: 'preliminary',
    category: t.categories.map((c) => ({ coding: [c] })),
    code: { coding: [t.code], text: t.title },
    subject: { reference: `Patient/${r.patientId}` },
    ...(studyDay ? { effectiveDateTime: studyDay } : {}),
    ...(result.length > 0 ? { result } : {}),
  };
  return { title: t.title, guideline: t.guideline, notAssessed: t.notAssessed, sections: out, resource };
}

function readValue(fhir: FhirReader, i: ReportItemTemplate, pool: ResourceSource, now: Date): Lookup<InputValue> {
  const opts = { valueSet: i.valueSet ?? '', name: i.key, now, lookbackDays: ANY_AGE_DAYS };
  switch (i.kind) {
    case 'boolean': return fhir.latestBoolean(pool, opts);
    case 'integer': return fhir.latestInteger(pool, { ...opts, units: INTEGER_UNITS[i.units ?? 'grade'] });
    case 'code': return fhir.latestCode(pool, opts);
    case 'quantity': return i.quantity ? fhir.latestQuantity(pool, { ...opts, quantity: QUANTITIES[i.quantity] }) : { found: false, name: i.key, reason: 'no quantity kind' };
  }
}

function formatValue(input: Input, t: ReportTemplate, codeLabel: ((code: string) => string) | undefined): string {
  if (typeof input.value === 'boolean') return input.value ? t.text.present : t.text.absent;
  if (typeof input.value === 'string') return codeLabel ? codeLabel(input.value) : input.value;
  const unit = displayUnit(input.unit);
  return `${round(input.value, 2)}${unit ? ` ${unit}` : ''}`;
}
