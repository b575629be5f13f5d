// The SMART detail view of the cmr-cardiac-mass service: the same score and prognosis as the card,
// each thrombus feature as a finding, the mass diameter over time, and the CMR report draft.
// Pure: data in, DetailBody out.
import type { WordedThrombus } from './thrombus.ts';
import { QUANTITIES } from '../../fhir/quantities.ts';
import type { Finding } from '../detail-schema.ts';
import { fill, labelOf } from '../card-wording.ts';
import type { DetailStep } from '../define.ts';
import { measurementPoints, scoreLine } from '../detail-kit.ts';
import type { MassPrefetchKey } from './inputs.ts';
import type { CardiacMassResults } from './scores.ts';
import type { MassWording } from './wording.ts';

export const massDetail: DetailStep<MassPrefetchKey, MassWording, CardiacMassResults> = {
  // The CMR results the report draft reads besides the service's own (profiles/ValueSet-cmr-observations.json).
  extraPrefetch: {
    cmrReport: (codes) => `Observation?patient={{context.patientId}}&code=${codes('cmr-observations')}&_count=200`,
  },
  labels: (w) => ({ ...w.tables.inputLabels, ...w.tables.scoreFeatures }),
  build(r, data, ev, view) {
    const w = ev.wording;
    const labels = { ...w.tables.inputLabels, ...w.tables.scoreFeatures };
    const results = [r.score, r.prognosis];
    const findings = thrombusFindings(r.thrombus);
    const i = r.inputs;
    const indication = [
      ...i.massConditions.map((c) => `${c.value} (${c.source})`),
      ...(i.finding?.value === true ? [`${labelOf(w.tables.inputLabels, 'cardiacMass')} (${i.finding.source})`] : []),
    ].join('; ');
    const impression = [
      ...results.filter((x) => x.value !== null).map((x) => scoreLine(x, view)),
      ...findings.filter((f) => f.state === 'favours thrombus').map((f) => fill(view.report.text.impressionFinding, { statement: f.statement })),
    ];
    const trend = w.detailView.trends.massDiameter;
    return {
      applies: true,
      results,
      labels,
      missingReasons: i.missingReasons,
      findings,
      trends: [{ id: 'mass-diameter', label: trend.label, unit: 'cm', kind: 'measurement', note: trend.note, points: measurementPoints(ev.fhir, data.observations, 'mass-diameter', QUANTITIES.massDiameter, ev.call.now) }],
      extraModels: [r.thrombus.metadata],
      notes: [...r.thrombus.notes],
      report: view.reportDraft({
        serviceId: 'cmr-cardiac-mass',
        patientId: ev.call.patientId,
        observations: [...ev.fhir.resourcesOf(data.observations), ...ev.fhir.resourcesOf(data.cmrReport)],
        now: ev.call.now,
        ...(indication ? { indication } : {}),
        impression,
        codeLabel: (code) => labelOf(w.tables.locationLabels, code),
      }),
    };
  },
};

const THROMBUS_STATE = { 'favours-thrombus': 'favours thrombus', 'does-not-favour': 'does not favour thrombus', unknown: 'not assessed' } as const;

function thrombusFindings(t: WordedThrombus): Finding[] {
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
