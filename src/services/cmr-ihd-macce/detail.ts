// The SMART detail view of the cmr-ihd-macce service: the same scores and CMR markers as the cards,
// the LVEF trend, and the CMR report draft (MODELS.md section 5). Pure: data in, DetailBody out.
import type { ShownResult } from '../model-notes.ts';
import { QUANTITIES } from '../../fhir/quantities.ts';
import type { Finding, Trend } from '../detail-schema.ts';
import type { Input } from '../../models/types.ts';
import { fill, labelOf } from '../card-wording.ts';
import type { DetailStep } from '../define.ts';
import { measurementPoints, scoreLine } from '../detail-kit.ts';
import { conditionText } from './event.ts';
import type { MaccePrefetchKey } from './inputs.ts';
import type { MacceResults } from './scores.ts';
import type { WordedMarkers } from './markers.ts';
import type { MacceWording } from './wording.ts';

export const macceDetail: DetailStep<MaccePrefetchKey, MacceWording, MacceResults> = {
  // The CMR results the report draft reads besides the service's own (profiles/ValueSet-cmr-observations.json).
  extraPrefetch: {
    cmrReport: (codes) => `Observation?patient={{context.patientId}}&code=${codes('cmr-observations')}&_count=200`,
  },
  labels: (w) => ({ ...w.tables.inputLabels }),
  build(r, data, ev, view) {
    const w = ev.wording;
    const labels = { ...w.tables.inputLabels };
    const results = [r.acute?.cmr, r.acute?.grace, r.acute?.timi].filter((x): x is ShownResult => x !== undefined);
    const findings = r.markers ? markerFindings(r.markers, w) : [];
    const notes = [
      ...(r.acute?.statements ?? []).map((k) => w.text[k]),
      ...r.inputs.derivations.filter((d) => d.length > 0),
      ...(r.markers ? [w.detailView.cmrNotScored] : []),
    ];
    const event = r.inputs.acute;
    const condition = event?.condition ?? r.inputs.ihd;
    const indication = condition ? `${conditionText(condition)} (${condition.source}${condition.onset ? `, onset ${condition.onset.slice(0, 10)}` : ''})` : undefined;
    const impression = [
      ...results.filter((x) => x.value !== null).map((x) => scoreLine(x, view)),
      ...findings.filter((f) => f.state === 'adverse').map((f) => fill(view.report.text.impressionFinding, { statement: f.statement })),
    ];
    const trend = w.detailView.trends.lvef;
    return {
      applies: true,
      results,
      labels,
      missingReasons: r.missingReasons,
      findings,
      trends: [{ id: 'lvef', label: trend.label, unit: '%', kind: 'measurement', note: trend.note, points: withDicomLvef(measurementPoints(ev.fhir, data.observations, 'lvef-mr', QUANTITIES.lvef, ev.call.now), ev.imaging?.cmr.inputs.lvef) }],
      extraModels: r.markers ? [r.markers.metadata] : [],
      notes: [...new Set(notes)],
      report: view.reportDraft({
        serviceId: 'cmr-ihd-macce',
        patientId: ev.call.patientId,
        observations: [...ev.fhir.resourcesOf(data.observations), ...ev.fhir.resourcesOf(data.cmrReport)],
        now: ev.call.now,
        ...(indication ? { indication } : {}),
        impression,
      }),
    };
  },
};

function markerFindings(m: WordedMarkers, w: MacceWording): Finding[] {
  return m.findings.map((f, i) => ({
    id: `${f.marker}-${i}`,
    label: labelOf(w.tables.markerLabels, f.marker),
    statement: f.statement,
    threshold: f.threshold,
    // findingState holds Markdown emphasis for the card; the view shows plain words.
    state: w.tables.findingState[f.flagged === null ? 'null' : f.flagged ? 'true' : 'false'].replace(/\*/g, ''),
    citation: f.citation,
    ...(f.url ? { url: f.url } : {}),
    evidence: f.evidence,
    inputs: f.inputs.map((x) => x.name),
  }));
}

/**
 * The LVEF of the archive's newest CMR report (the one readImaging reads) among the record's, unless
 * the record already holds that value on that day (the same study reported both ways).
 */
function withDicomLvef(points: Trend['points'], lvef: Input<number> | undefined): Trend['points'] {
  if (!lvef?.date) return points;
  const day = lvef.date.slice(0, 10);
  if (points.some((p) => p.date.slice(0, 10) === day && p.value === lvef.value)) return points;
  return [...points, { date: lvef.date, value: lvef.value, sources: [lvef.source] }].sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
}
