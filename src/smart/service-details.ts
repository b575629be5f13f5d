// One detail adapter per service: the service's own score step (services/<id>/index.ts), its input
// labels and missing reasons, trends recomputed by the same code, findings, model cards and, for the
// cardiac services, the CMR report draft. Pure: data in, DetailBody out.
import type { FhirResource, Observation, Procedure } from 'fhir/r4.js';
import type { EvaluationContext, ResolvedPrefetch, CdsService } from '../services/types.ts';
import type { ModelResult } from '../models/types.ts';
import { loadCardWording, labelOf, type CardWording } from '../services/card-wording.ts';
import { scoreCirrhosis } from '../services/cirrhosis-sarcopenia/index.ts';
import { scoreCmrIhdMacce } from '../services/cmr-ihd-macce/index.ts';
import { scoreCardiacMass } from '../services/cmr-cardiac-mass/index.ts';
import { conditionText } from '../services/cmr-ihd-macce/event.ts';
import { MELD3_BANDS, meld3Band } from '../models/meld3.ts';
import type { CmrMarkerAssessment } from '../models/cmr-markers.ts';
import type { ThrombusFeaturesResult } from '../models/thrombus-features.ts';
import { latestQuantity, observationDate, observationsIn, resourcesOf, type ResourceSource } from '../fhir/observations.ts';
import { queryCodes } from '../fhir/terminology.ts';
import { QUANTITIES, type QuantityKind } from '../fhir/quantities.ts';
import { fill } from '../services/card-wording.ts';
import { percent, round } from '../services/card-kit.ts';
import type { DetailAdapter, DetailBody, ViewContext } from './detail.ts';
import type { BandTable, Finding, Trend } from './detail-schema.ts';
import { buildReportDraft } from './report.ts';

/** Days of the MELD 3.0 trend at most (the most recent lab dates). */
const MAX_TREND_POINTS = 24;
const ANY_AGE_DAYS = 36_500;
const MELD_LABS = ['bilirubin-total', 'creatinine', 'sodium', 'albumin', 'inr'] as const;

/** The adapters of the services that have a detail view, built once at start-up (wording read then). */
export function detailAdapters(services: readonly CdsService[]): DetailAdapter[] {
  const ids = new Set(services.map((s) => s.description.id));
  const all = [cirrhosisAdapter(), ihdAdapter(), massAdapter()];
  return all.filter((a) => ids.has(a.serviceId));
}

const topicsOf = (w: CardWording): string[] => [...new Set(Object.values(w.cards).map((c) => c.topic.code))];

/** The CMR results the report draft reads besides the service's own (profiles/ValueSet-cmr-observations.json). */
const cmrReportPrefetch = (): Record<string, string> => ({
  cmrReport: `Observation?patient={{context.patientId}}&code=${queryCodes('cmr-observations')}&_count=200`,
});

function emptyBody(labels: Record<string, string>): DetailBody {
  return { applies: false, results: [], labels, missingReasons: {}, findings: [], trends: [], extraModels: [], notes: [] };
}

// ---------------------------------------------------------------------------------------------------
// cirrhosis-sarcopenia

function cirrhosisAdapter(): DetailAdapter {
  const wording = loadCardWording('cirrhosis-sarcopenia');
  const labels = { ...wording.tables.inputLabels };
  return {
    serviceId: 'cirrhosis-sarcopenia',
    topics: topicsOf(wording),
    extraPrefetch: {},
    build(data, ctx, view) {
      const r = scoreCirrhosis(data, ctx);
      if (!r) return emptyBody(labels);
      return {
        applies: true,
        results: [r.meld3, r.meldNa, r.meld, r.childPugh, r.albi, r.smi, r.meldSarcopenia],
        labels,
        missingReasons: r.missingReasons,
        findings: [],
        trends: [meld3Trend(data, ctx, view)],
        extraModels: [],
        notes: [],
        bands: (m) => (m.model === 'meld-3.0' ? meld3Bands(m, view) : undefined),
      };
    },
  };
}

/** MODELS.md 3a: the band table, labelled as observed waitlist mortality by band (detail view only). */
function meld3Bands(m: ModelResult, view: ViewContext): BandTable {
  const w = view.wording.meld3Bands;
  const current = m.value !== null && !m.range ? meld3Band(m.value).label : undefined;
  return {
    label: w.label,
    caveat: w.caveat,
    source: w.source,
    rows: MELD3_BANDS.map((b) => ({ band: b.label, value: percent(b.observedWaitlistMortality90d) })),
    ...(current ? { current } : {}),
  };
}

/** MELD 3.0 at each lab date: the same score step run on the record as it stood at the end of that day. */
function meld3Trend(data: ResolvedPrefetch, ctx: EvaluationContext, view: ViewContext): Trend {
  const days = new Set<string>();
  for (const vs of MELD_LABS) {
    for (const m of observationsIn(data.observations, vs)) if (m.date && m.date.start <= ctx.now.getTime()) days.add(dayOf(m.date.start));
  }
  const points: Trend['points'] = [];
  for (const day of [...days].sort().slice(-MAX_TREND_POINTS)) {
    const asOf = Math.min(Date.parse(`${day}T23:59:59.999Z`), ctx.now.getTime());
    const r = scoreCirrhosis(asOfData(data, asOf), { ...ctx, now: new Date(asOf) });
    const meld3 = r?.meld3;
    if (!meld3 || meld3.value === null) continue;
    points.push({
      date: day,
      value: meld3.value,
      ...(meld3.range ? { min: meld3.range.min, max: meld3.range.max } : {}),
      sources: [...new Set(meld3.inputs.map((i) => i.source).filter((s) => s.startsWith('Observation/')))],
    });
  }
  const w = view.wording.trends.meld3;
  return { id: 'meld-3.0', label: w.label, unit: 'points', kind: 'score', note: w.note, points };
}

/** The record as it stood at `asOf`: later Observations and Procedures left out. */
function asOfData(data: ResolvedPrefetch, asOf: number): ResolvedPrefetch {
  const keep = (r: FhirResource): boolean => {
    if (r.resourceType === 'Observation') return (observationDate(r as Observation)?.start ?? 0) <= asOf;
    if (r.resourceType === 'Procedure') {
      const p = r as Procedure;
      const when = Date.parse(p.performedDateTime ?? p.performedPeriod?.start ?? '');
      return !Number.isFinite(when) || when <= asOf;
    }
    return true;
  };
  const out: ResolvedPrefetch = {};
  for (const [k, v] of Object.entries(data)) out[k] = Array.isArray(v) ? v.filter(keep) : v;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// cmr-ihd-macce

function ihdAdapter(): DetailAdapter {
  const wording = loadCardWording('cmr-ihd-macce');
  const labels = { ...wording.tables.inputLabels };
  return {
    serviceId: 'cmr-ihd-macce',
    topics: topicsOf(wording),
    extraPrefetch: cmrReportPrefetch(),
    build(data, ctx, view) {
      const r = scoreCmrIhdMacce(data, ctx);
      if (!r) return emptyBody(labels);
      const results = [r.acute?.cmr, r.acute?.grace, r.acute?.timi].filter((x): x is ModelResult => x !== undefined);
      const findings = r.markers ? markerFindings(r.markers, wording) : [];
      const notes = [
        ...(r.acute?.statements ?? []).map((k) => wording.text[k]).filter((x): x is string => x !== undefined),
        ...r.inputs.derivations.filter((d) => d.length > 0),
        ...(r.markers ? [view.wording.text.cmrNotScored] : []),
      ];
      const event = r.inputs.acute;
      const condition = event?.condition ?? r.inputs.ihd;
      const indication = condition ? `${conditionText(condition)} (${condition.source}${condition.onset ? `, onset ${condition.onset.slice(0, 10)}` : ''})` : undefined;
      const impression = [
        ...results.filter((x) => x.value !== null).map((x) => scoreLine(x, view)),
        ...findings.filter((f) => f.state === 'adverse').map((f) => fill(view.report.text.impressionFinding, { statement: f.statement })),
      ];
      return {
        applies: true,
        results,
        labels,
        missingReasons: r.inputs.missingReasons,
        findings,
        trends: [lvefTrend(data, ctx, view)],
        extraModels: r.markers ? [r.markers.metadata] : [],
        notes: [...new Set(notes)],
        report: buildReportDraft(view.report, {
          serviceId: 'cmr-ihd-macce',
          patientId: ctx.patientId,
          observations: [...resourcesOf(data.observations), ...resourcesOf(data.cmrReport)],
          now: ctx.now,
          ...(indication ? { indication } : {}),
          impression,
        }),
      };
    },
  };
}

function markerFindings(m: CmrMarkerAssessment, wording: CardWording): Finding[] {
  return m.findings.map((f, i) => ({
    id: `${f.marker}-${i}`,
    label: labelOf(wording, 'markerLabels', f.marker),
    statement: f.statement,
    threshold: f.threshold,
    // findingState holds Markdown emphasis for the card; the view shows plain words.
    state: labelOf(wording, 'findingState', String(f.flagged)).replace(/\*/g, ''),
    citation: f.citation,
    ...(f.url ? { url: f.url } : {}),
    evidence: f.evidence,
    inputs: f.inputs.map((x) => x.name),
  }));
}

function lvefTrend(data: ResolvedPrefetch, ctx: EvaluationContext, view: ViewContext): Trend {
  const w = view.wording.trends.lvef;
  return { id: 'lvef', label: w.label, unit: '%', kind: 'measurement', note: w.note, points: measurementPoints(data.observations, 'lvef-mr', QUANTITIES.lvef, ctx) };
}

// ---------------------------------------------------------------------------------------------------
// cmr-cardiac-mass

function massAdapter(): DetailAdapter {
  const wording = loadCardWording('cmr-cardiac-mass');
  const labels = { ...wording.tables.inputLabels, ...wording.tables.scoreFeatures };
  return {
    serviceId: 'cmr-cardiac-mass',
    topics: topicsOf(wording),
    extraPrefetch: cmrReportPrefetch(),
    build(data, ctx, view) {
      const r = scoreCardiacMass(data, ctx);
      if (!r) return emptyBody(labels);
      const results = [r.score, r.prognosis];
      const findings = thrombusFindings(r.thrombus);
      const i = r.inputs;
      const indication = [
        ...i.massConditions.map((c) => `${c.value} (${c.source})`),
        ...(i.finding?.value === true ? [`${labelOf(wording, 'inputLabels', 'cardiacMass')} (${i.finding.source})`] : []),
      ].join('; ');
      const impression = [
        ...results.filter((x) => x.value !== null).map((x) => scoreLine(x, view)),
        ...findings.filter((f) => f.state === 'favours thrombus').map((f) => fill(view.report.text.impressionFinding, { statement: f.statement })),
      ];
      const w = view.wording.trends.massDiameter;
      return {
        applies: true,
        results,
        labels,
        missingReasons: i.missingReasons,
        findings,
        trends: [{ id: 'mass-diameter', label: w.label, unit: 'cm', kind: 'measurement', note: w.note, points: measurementPoints(data.observations, 'mass-diameter', QUANTITIES.massDiameter, ctx) }],
        extraModels: [r.thrombus.metadata],
        notes: [...r.thrombus.notes],
        report: buildReportDraft(view.report, {
          serviceId: 'cmr-cardiac-mass',
          patientId: ctx.patientId,
          observations: [...resourcesOf(data.observations), ...resourcesOf(data.cmrReport)],
          now: ctx.now,
          ...(indication ? { indication } : {}),
          impression,
          codeLabel: (code) => labelOf(wording, 'locationLabels', code),
        }),
      };
    },
  };
}

const THROMBUS_STATE = { 'favours-thrombus': 'favours thrombus', 'does-not-favour': 'does not favour thrombus', unknown: 'not assessed' } as const;

function thrombusFindings(t: ThrombusFeaturesResult): Finding[] {
  return t.features.map((f) => ({
    id: String(f.feature),
    label: f.criterion,
    statement: `${f.criterion}: ${THROMBUS_STATE[f.status]} (published accuracy ${f.accuracy}).`,
    state: THROMBUS_STATE[f.status],
    citation: t.metadata.citation,
    url: t.metadata.url,
    evidence: t.metadata.evidence,
    inputs: f.input ? [f.input.name] : [],
  }));
}

// ---------------------------------------------------------------------------------------------------
// Shared

function scoreLine(r: ModelResult, view: ViewContext): string {
  const value = r.range ? `${round(r.range.min, 1)}–${round(r.range.max, 1)} ${r.unit}` : `${r.display ?? round(r.value ?? Number.NaN, 2)} ${r.unit}`;
  return fill(view.report.text.impressionScore, { title: r.metadata.title, value, tier: r.tier ? `, ${r.tier}` : '', citation: r.metadata.citation });
}

/** Each recorded value of a ValueSet, unit-normalised by the same reader the services use. */
function measurementPoints(source: ResourceSource, valueSet: string, quantity: QuantityKind, ctx: EvaluationContext): Trend['points'] {
  const points: Trend['points'] = [];
  for (const m of observationsIn(source, valueSet)) {
    const l = latestQuantity([m.obs], { valueSet, name: valueSet, quantity, now: ctx.now, lookbackDays: ANY_AGE_DAYS });
    if (l.found && l.input.date) points.push({ date: l.input.date, value: l.input.value, sources: [l.input.source] });
  }
  return points.sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
}

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
