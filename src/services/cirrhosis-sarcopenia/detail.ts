// The SMART detail view of the cirrhosis-sarcopenia service: the same results as the cards, the MELD
// 3.0 band table (detail view only, MODELS.md 3a) and the MELD 3.0 trend, recomputed by the same
// gather and score steps on the record as it stood at each lab date. Pure: data in, DetailBody out.
import type { FhirResource, Observation, Procedure } from 'fhir/r4.js';
import type { ShownResult } from '../model-notes.ts';
import { MELD3_BANDS, meld3Band } from '../../models/meld3.ts';
import { observationDate } from '../../fhir/observations.ts';
import type { BandTable, Trend } from '../detail-schema.ts';
import type { DetailStep } from '../define.ts';
import type { ResolvedPrefetch } from '../types.ts';
import { percent } from '../card-kit.ts';
import type { CirrhosisPrefetchKey } from './inputs.ts';
import type { CirrhosisResults } from './scores.ts';
import type { CirrhosisWording } from './wording.ts';

/** Days of the MELD 3.0 trend at most (the most recent lab dates). */
const MAX_TREND_POINTS = 24;
const MELD_LABS = ['bilirubin-total', 'creatinine', 'sodium', 'albumin', 'inr'] as const;

export const cirrhosisDetail: DetailStep<CirrhosisPrefetchKey, CirrhosisWording, CirrhosisResults> = {
  labels: (w) => ({ ...w.tables.inputLabels }),
  build(r, data, ev, view) {
    const w = ev.wording.detailView;
    const labels = { ...ev.wording.tables.inputLabels };
    // MELD 3.0 at each lab date: the same score step run on the record as it stood at the end of that day.
    const now = ev.call.now.getTime();
    const days = new Set<string>();
    for (const vs of MELD_LABS) {
      for (const m of ev.fhir.observationsIn(data.observations, vs)) if (m.date && m.date.start <= now) days.add(dayOf(m.date.start));
    }
    const points: Trend['points'] = [];
    for (const day of [...days].sort().slice(-MAX_TREND_POINTS)) {
      const asOf = Math.min(Date.parse(`${day}T23:59:59.999Z`), now);
      const meld3 = view.rescore(asOfData(data, asOf), new Date(asOf))?.meld3;
      if (!meld3 || meld3.value === null) continue;
      points.push({
        date: day,
        value: meld3.value,
        ...(meld3.range ? { min: meld3.range.min, max: meld3.range.max } : {}),
        sources: [...new Set(meld3.inputs.map((i) => i.source).filter((s) => s.startsWith('Observation/')))],
      });
    }
    return {
      applies: true,
      results: [r.meld3, r.meldNa, r.meld, r.childPugh, r.albi, r.smi, r.meldSarcopenia],
      labels,
      missingReasons: r.missingReasons,
      findings: [],
      trends: [{ id: 'meld-3.0', label: w.trends.meld3.label, unit: 'points', kind: 'score', note: w.trends.meld3.note, points }],
      extraModels: [],
      notes: [],
      bands: (m) => (m.model === 'meld-3.0' ? meld3Bands(m, w.meld3Bands) : undefined),
    };
  },
};

/** MODELS.md 3a: the band table, labelled as observed waitlist mortality by band (detail view only). */
function meld3Bands(m: ShownResult, w: CirrhosisWording['detailView']['meld3Bands']): BandTable {
  const current = m.value !== null && !m.range ? meld3Band(m.value).label : undefined;
  return {
    label: w.label,
    caveat: w.caveat,
    source: w.source,
    rows: MELD3_BANDS.map((b) => ({ band: b.label, value: percent(b.observedWaitlistMortality90d) })),
    ...(current ? { current } : {}),
  };
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

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
