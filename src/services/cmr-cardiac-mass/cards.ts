// Cards of the cmr-cardiac-mass service, worded from cards/cmr-cardiac-mass.yaml. One "Cardiac mass"
// card (CMR Mass Score with each feature's points, thrombus features with their accuracy, guidance,
// prognosis by recorded CMR diagnosis), or one data-missing card when no CMR feature of the mass is
// available. Every FHIR-derived string goes through md() (DESIGN.md, Security rules).
import type { Card } from '../../hooks/types.ts';
import type { Input } from '../../models/types.ts';
import type { ShownResult } from '../model-notes.ts';
import type { ServiceEvaluation } from '../define.ts';
import { FEATURES as SCORE_FEATURES, MALIGNANT_CUTOFF } from '../../models/cmr-mass-score.ts';
import type { WordedFeature, WordedThrombus } from './thrombus.ts';
import { CMR_DIAGNOSIS_ACCURACY_PERCENT, DIAGNOSES, MASS_PROGNOSIS } from '../../models/mass-prognosis.ts';
import { buildCard, inputsTable, round } from '../card-kit.ts';
import { fill, labelOf } from '../card-wording.ts';
import { md, table } from '../markdown.ts';
import type { CardiacMassResults } from './scores.ts';
import type { MassWording } from './wording.ts';

type Ev = ServiceEvaluation<MassWording>;

/** What the guidance and the indicator follow (keys of tables.indicator). */
type Category = 'malignant' | 'thrombus' | 'benign' | 'undetermined';

const MAX_POINTS = SCORE_FEATURES.reduce((s, f) => s + f.points, 0);

export function cardiacMassCards(r: CardiacMassResults, ev: Ev): Card[] {
  const anyFeature = r.score.value !== null || r.thrombus.features.some((f) => f.status !== 'unknown');
  return [anyFeature ? massCard(r, ev) : dataMissingCard(r, ev)];
}

function massCard(r: CardiacMassResults, ev: Ev): Card {
  const w = ev.wording;
  const template = w.cards['cardiac-mass'];
  const d = template.detail;
  const guidance = guidanceOf(r, w);
  const detail = blocks([
    contextBlock(r, w),
    d.scoreHeading,
    scoreBlock(r.score, tierText(r, w), w),
    d.thrombusHeading,
    thrombusBlock(r.thrombus, w),
    d.guidanceHeading,
    guidance.lines.map((l) => `- ${md(l)}`).join('\n'),
    d.prognosisHeading,
    prognosisBlock(r, w),
    missingBlock(d.missingHeading, r, w),
    d.inputsHeading,
    inputsTable(allInputs(r), w.tables.inputLabels),
  ]);
  const computed = r.score.value !== null ? [r.score] : [];
  return buildCard({
    ev, wording: w, template, detail,
    summary: summaryOf(r, template.summary, w),
    indicator: indicatorOf(guidance.categories, w),
    results: computed,
    // A score whose range spans the cut-off is not worth a chart entry; a settled one is.
    offerSave: r.score.tier !== undefined,
    imaging: { part: ev.imaging?.mass, wording: w.imaging, inputs: allInputs(r) },
  });
}

function dataMissingCard(r: CardiacMassResults, ev: Ev): Card {
  const w = ev.wording;
  const template = w.cards['data-missing'];
  const d = template.detail;
  const vars = { lookbackDays: r.inputs.lookbackDays };
  const detail = blocks([
    md(fill(d.intro, vars)),
    contextBlock(r, w),
    missingBlock(d.missingHeading, r, w),
    d.prognosisHeading,
    prognosisBlock(r, w),
    d.inputsHeading,
    inputsTable(allInputs(r), w.tables.inputLabels),
  ]);
  return buildCard({
    ev, wording: w, template, detail,
    summary: fill(template.summary.text, vars),
    indicator: 'info',
    results: [],
    imaging: { part: ev.imaging?.mass, wording: w.imaging, inputs: allInputs(r) },
  });
}

// ---------------------------------------------------------------------------------------------------
// Summary, guidance, indicator

const thrombusPattern = (t: WordedThrombus): boolean => t.favouring.includes('tiScoutTypical');

/** Tier wording: 'likely benign' becomes 'below the cut-off' next to a thrombus pattern (not a tumour). */
function tierText(r: CardiacMassResults, w: MassWording): string {
  const tier = r.score.tier;
  const key = tier === undefined ? 'undetermined' : tier === 'likely benign' && thrombusPattern(r.thrombus) ? 'below-cutoff' : tier;
  const texts: Readonly<Record<string, string>> = w.tables.tierSummary;
  const text = texts[key];
  if (text === undefined) throw new Error(`cards/cmr-cardiac-mass.yaml: tables.tierSummary has no '${key}'`);
  return text;
}

function summaryOf(r: CardiacMassResults, s: MassWording['cards']['cardiac-mass']['summary'], w: MassWording): string {
  const { score } = r;
  const pattern = thrombusPattern(r.thrombus);
  const tier = tierText(r, w);
  const parts: string[] = [];
  if (score.value === null) parts.push(s.scoreNone);
  else if (score.range) {
    parts.push(fill(s.scorePartial, { min: score.range.min, max: score.range.max, tierText: tier, count: score.missing.length }));
  } else parts.push(fill(s.score, { score: score.value, tierText: tier }));
  if (pattern) parts.push(s.thrombus);
  return `${s.prefix}${parts.join('; ')}`;
}

/** Categories the CMR features point to (score tier, TI-scout thrombus pattern). */
function featureCategories(r: CardiacMassResults): Category[] {
  const cats: Category[] = [];
  const pattern = thrombusPattern(r.thrombus);
  if (r.score.tier === 'likely malignant') cats.push('malignant');
  if (pattern) cats.push('thrombus');
  if (r.score.tier === 'likely benign' && !pattern) cats.push('benign');
  return cats.length > 0 ? cats : ['undetermined'];
}

const GUIDANCE_TEXT = {
  malignant: 'guidanceMalignant',
  thrombus: 'guidanceThrombus',
  benign: 'guidanceBenign',
  undetermined: 'guidanceUndetermined',
} as const satisfies Record<Category, keyof MassWording['text']>;

/**
 * A recorded CMR diagnosis (the reader's conclusion, 98.4 % accurate in Shenoy 2022) leads the
 * guidance; otherwise the features do. Disagreement is said, not resolved.
 */
function guidanceOf(r: CardiacMassResults, w: MassWording): { categories: Category[]; lines: string[] } {
  const t = w.text;
  const diagnosisLabel = (code: string): string => labelOf(w.tables.diagnosisLabels, code);
  const features = featureCategories(r);
  const dx = r.inputs.diagnosis?.value;
  if (dx === undefined || r.prognosis.value === null) {
    const lines: string[] = features.map((c) => t[GUIDANCE_TEXT[c]]);
    if (features.includes('malignant') && features.includes('thrombus')) {
      lines.push(fill(t.guidanceConflict, { tier: r.score.tier ?? '' }));
    }
    return { categories: features, lines };
  }
  const label = diagnosisLabel(dx);
  if (dx !== 'malignant' && dx !== 'thrombus' && dx !== 'benign') {
    return { categories: ['undetermined'], lines: [fill(t.guidanceNoMass, { diagnosis: label })] };
  }
  const lines: string[] = [
    fill(t.guidanceFromDiagnosis, { diagnosis: label, source: r.inputs.diagnosis?.source ?? '' }),
    t[GUIDANCE_TEXT[dx]],
  ];
  const suggested = features.filter((c) => c !== 'undetermined');
  if (suggested.length > 0 && !suggested.includes(dx)) {
    lines.push(fill(t.diagnosisDiffers, { diagnosis: label, features: suggested.join(', ') }));
  }
  return { categories: [dx], lines };
}

function indicatorOf(categories: Category[], w: MassWording): Card['indicator'] {
  const levels: Card['indicator'][] = ['info', 'warning', 'critical'];
  const level = Math.max(0, ...categories.map((c) => levels.indexOf(w.tables.indicator[c])));
  return levels[level] ?? 'info';
}

// ---------------------------------------------------------------------------------------------------
// Detail blocks

function contextBlock(r: CardiacMassResults, w: MassWording): string {
  const t = w.text;
  const i = r.inputs;
  const cardiacMassLabel = w.tables.inputLabels.cardiacMass;
  if (cardiacMassLabel === undefined) throw new Error("cards/cmr-cardiac-mass.yaml: tables.inputLabels has no 'cardiacMass'");
  const basis = [
    ...i.massConditions.map((c) => `${c.value} (${c.source})`),
    ...(i.finding?.value === true ? [`${cardiacMassLabel} ${dateOf(i.finding)} (${i.finding.source})`] : []),
  ].join('; ');
  const lines = [fill(t.massBasis, { basis })];
  if (i.location) lines.push(fill(t.location, { location: labelOf(w.tables.locationLabels, i.location.value) }));
  if (i.noMassOnLatestCmr && i.finding) {
    lines.push(fill(t.noMassOnLatestCmr, { date: dateOf(i.finding), source: i.finding.source }));
  } else if (i.study?.linked) {
    lines.push(fill(t.study, { date: i.study.day, source: i.study.report ?? '', lookbackDays: i.lookbackDays }));
  } else if (i.study) {
    lines.push(fill(t.studyUnlinked, { date: i.study.day, lookbackDays: i.lookbackDays }));
  } else {
    lines.push(fill(t.noStudy, { lookbackDays: i.lookbackDays }));
  }
  return lines.map(md).join(' ');
}

function scoreBlock(score: ShownResult, tier: string, w: MassWording): string {
  const t = w.text;
  const rows = SCORE_FEATURES.map((f) => {
    const c = score.contributions.find((x) => x.input === f.key);
    const input = score.inputs.find((x) => x.name === f.key);
    return [
      md(w.tables.scoreFeatures[f.key]),
      md(f.points),
      md(input ? yesNo(input.value) : 'not assessed'),
      md(c?.points ?? '?'),
    ];
  });
  const total = score.value === null ? '—' : score.range ? `${score.range.min}–${score.range.max}` : String(score.value);
  rows.push(['**Total**', md(MAX_POINTS), md(tier), `**${md(total)}**`]);
  const lines = [table(['Feature', 'Points if present', 'Recorded', 'Points'], rows), `_${md(t.scoreCutoff)}_`];
  if (score.range && score.value !== null) {
    const missing = SCORE_FEATURES.filter((f) => score.missing.includes(f.key))
      .map((f) => `${w.tables.scoreFeatures[f.key]} (${f.points})`).join(', ');
    lines.push(md(score.tier === undefined
      ? fill(t.scoreDecide, { min: score.range.min, max: score.range.max, need: MALIGNANT_CUTOFF - score.range.min, features: missing })
      : fill(t.scoreSettled, { features: missing })));
  }
  return lines.join('\n\n');
}

function thrombusBlock(t: WordedThrombus, w: MassWording): string {
  const status = (f: WordedFeature): string => (f.status === 'favours-thrombus' ? 'yes' : f.status === 'does-not-favour' ? 'no' : 'unknown');
  const rows = t.features.map((f) => [md(f.criterion), md(f.input ? valueText(f.input) : 'not assessed'), md(status(f)), md(f.accuracy)]);
  return [
    table(['Criterion favouring thrombus', 'Recorded', 'Met', 'Published accuracy'], rows),
    `_${md(w.text.thrombusNote)}_`,
  ].join('\n\n');
}

function prognosisBlock(r: CardiacMassResults, w: MassWording): string {
  const t = w.text;
  const diagnosisLabel = (code: string): string => labelOf(w.tables.diagnosisLabels, code);
  const i = r.inputs;
  const p = r.prognosis;
  if (p.value === null || !i.diagnosis) {
    return md(i.diagnosisConflict
      ? fill(t.prognosisConflict, { categories: i.diagnosisConflict.map(diagnosisLabel).join(', ') })
      : t.prognosisNone);
  }
  const dx = i.diagnosis.value as (typeof DIAGNOSES)[number];
  const row = MASS_PROGNOSIS[dx];
  const basis = i.diagnosisFrom === 'observation'
    ? fill(t.basisObservation, { source: i.diagnosis.source, date: dateOf(i.diagnosis) })
    : fill(t.basisCondition, { source: i.diagnosis.source });
  const hr = row.hrVsNoMass !== undefined ? fill(t.prognosisHr, { hr: row.hrVsNoMass }) : '';
  const rows = DIAGNOSES.map((k) => `${diagnosisLabel(k)} ${MASS_PROGNOSIS[k].fiveYearMortalityPercent} %`).join(', ');
  return [
    md(fill(t.prognosis, {
      diagnosis: diagnosisLabel(dx), basis, mortality: row.fiveYearMortalityPercent, hr, accuracy: CMR_DIAGNOSIS_ACCURACY_PERCENT,
    })),
    `_${md(fill(t.prognosisAll, { rows }))}_`,
  ].join('\n\n');
}

function missingBlock(heading: string, r: CardiacMassResults, w: MassWording): string {
  const label = (name: string): string => labelOf(w.tables.inputLabels, name);
  const names = [...new Set([...r.score.missing, ...r.thrombus.missing.map(thrombusInputName), ...(r.inputs.diagnosis ? [] : ['diagnosis'])])];
  const lines = names.map((n) => {
    const reason = r.inputs.missingReasons[n];
    return `- ${md(label(n))}${reason ? `: ${md(reason)}` : ''}`;
  });
  return lines.length > 0 ? `${heading}\n\n${lines.join('\n')}` : '';
}

// ---------------------------------------------------------------------------------------------------
// Helpers

/** The thrombus model names the perfusion input firstPassPerfusionPresent; the record input is shared. */
const thrombusInputName = (feature: string): string => (feature === 'firstPassPerfusionPresent' ? 'firstPassPerfusion' : feature);

function allInputs(r: CardiacMassResults): Input[] {
  const i = r.inputs;
  return [
    ...i.massConditions,
    ...(i.finding ? [i.finding] : []),
    ...r.score.inputs,
    ...r.thrombus.inputs,
    ...(i.location ? [i.location] : []),
    ...(i.diagnosis ? [i.diagnosis] : []),
  ];
}

function blocks(parts: string[]): string {
  return parts.filter((x) => x.trim().length > 0).join('\n\n');
}

const dateOf = (i: Input): string => (i.date ? i.date.slice(0, 10) : 'date unknown');
const yesNo = (v: Input['value']): string => (typeof v === 'boolean' ? (v ? 'present' : 'absent') : String(v));

function valueText(i: Input): string {
  if (typeof i.value === 'boolean') return yesNo(i.value);
  const unit = i.unit === 'cm2' ? 'cm²' : i.unit ?? '';
  return typeof i.value === 'number' ? `${round(i.value, 2)} ${unit}`.trim() : i.value;
}
