// Cards of the cmr-cardiac-mass service, worded from cards/cmr-cardiac-mass.yaml. One "Cardiac mass"
// card (CMR Mass Score with each feature's points, thrombus features with their accuracy, guidance,
// prognosis by recorded CMR diagnosis), or one data-missing card when no CMR feature of the mass is
// available. Every FHIR-derived string goes through md() (DESIGN.md, Security rules).
import type { Card } from '../../hooks/types.ts';
import type { Input, ModelResult } from '../../models/types.ts';
import type { EvaluationContext } from '../types.ts';
import { FEATURES as SCORE_FEATURES, MALIGNANT_CUTOFF } from '../../models/cmr-mass-score.ts';
import type { ThrombusFeature, ThrombusFeaturesResult } from '../../models/thrombus-features.ts';
import { CMR_DIAGNOSIS_ACCURACY_PERCENT, DIAGNOSES, MASS_PROGNOSIS } from '../../models/mass-prognosis.ts';
import { buildCard, inputsTable, round } from '../card-kit.ts';
import { fill, labelOf, loadCardWording, lookup, pick, type CardWording } from '../card-wording.ts';
import { md, table } from '../markdown.ts';
import type { CardiacMassInputs } from './inputs.ts';

export interface CardiacMassResults {
  inputs: CardiacMassInputs;
  score: ModelResult;
  thrombus: ThrombusFeaturesResult;
  prognosis: ModelResult;
}

/** What the guidance and the indicator follow (keys of tables.indicator). */
type Category = 'malignant' | 'thrombus' | 'benign' | 'undetermined';

const wording: CardWording = loadCardWording('cmr-cardiac-mass');
const MAX_POINTS = SCORE_FEATURES.reduce((s, f) => s + f.points, 0);

export function cardiacMassCards(r: CardiacMassResults, ctx: EvaluationContext): Card[] {
  const anyFeature = r.score.value !== null || r.thrombus.features.some((f) => f.status !== 'unknown');
  return [anyFeature ? massCard(r, ctx) : dataMissingCard(r, ctx)];
}

function massCard(r: CardiacMassResults, ctx: EvaluationContext): Card {
  const template = pick(wording.cards, 'cardiac-mass', 'cards');
  const d = template.detail;
  const guidance = guidanceOf(r);
  const detail = blocks([
    contextBlock(r),
    pick(d, 'scoreHeading', 'detail'),
    scoreBlock(r.score, tierText(r)),
    pick(d, 'thrombusHeading', 'detail'),
    thrombusBlock(r.thrombus),
    pick(d, 'guidanceHeading', 'detail'),
    guidance.lines.map((l) => `- ${md(l)}`).join('\n'),
    pick(d, 'prognosisHeading', 'detail'),
    prognosisBlock(r),
    missingBlock(pick(d, 'missingHeading', 'detail'), r),
    pick(d, 'inputsHeading', 'detail'),
    inputsTable(allInputs(r), wording.tables.inputLabels),
  ]);
  const computed = r.score.value !== null ? [r.score] : [];
  return buildCard({
    ctx, wording, template, detail,
    summary: summaryOf(r, template.summary),
    indicator: indicatorOf(guidance.categories),
    results: computed,
    // A score whose range spans the cut-off is not worth a chart entry; a settled one is.
    offerSave: r.score.tier !== undefined,
  });
}

function dataMissingCard(r: CardiacMassResults, ctx: EvaluationContext): Card {
  const template = pick(wording.cards, 'data-missing', 'cards');
  const d = template.detail;
  const vars = { lookbackDays: r.inputs.lookbackDays };
  const detail = blocks([
    md(fill(pick(d, 'intro', 'detail'), vars)),
    contextBlock(r),
    missingBlock(pick(d, 'missingHeading', 'detail'), r),
    pick(d, 'prognosisHeading', 'detail'),
    prognosisBlock(r),
    pick(d, 'inputsHeading', 'detail'),
    inputsTable(allInputs(r), wording.tables.inputLabels),
  ]);
  return buildCard({
    ctx, wording, template, detail,
    summary: fill(pick(template.summary, 'text', 'summary'), vars),
    indicator: 'info',
    results: [],
  });
}

// ---------------------------------------------------------------------------------------------------
// Summary, guidance, indicator

const thrombusPattern = (t: ThrombusFeaturesResult): boolean => t.favouring.includes('tiScoutTypical');

/** Tier wording: 'likely benign' becomes 'below the cut-off' next to a thrombus pattern (not a tumour). */
function tierText(r: CardiacMassResults): string {
  const tier = r.score.tier;
  const key = tier === undefined ? 'undetermined' : tier === 'likely benign' && thrombusPattern(r.thrombus) ? 'below-cutoff' : tier;
  return lookup(wording, 'tierSummary', key);
}

function summaryOf(r: CardiacMassResults, s: Record<string, string>): string {
  const { score } = r;
  const pattern = thrombusPattern(r.thrombus);
  const tier = tierText(r);
  const parts: string[] = [];
  if (score.value === null) parts.push(pick(s, 'scoreNone', 'summary'));
  else if (score.range) {
    parts.push(fill(pick(s, 'scorePartial', 'summary'), { min: score.range.min, max: score.range.max, tierText: tier, count: score.missing.length }));
  } else parts.push(fill(pick(s, 'score', 'summary'), { score: score.value, tierText: tier }));
  if (pattern) parts.push(pick(s, 'thrombus', 'summary'));
  return `${pick(s, 'prefix', 'summary')}${parts.join('; ')}`;
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

const GUIDANCE_TEXT: Record<Category, string> = {
  malignant: 'guidanceMalignant',
  thrombus: 'guidanceThrombus',
  benign: 'guidanceBenign',
  undetermined: 'guidanceUndetermined',
};

/**
 * A recorded CMR diagnosis (the reader's conclusion, 98.4 % accurate in Shenoy 2022) leads the
 * guidance; otherwise the features do. Disagreement is said, not resolved.
 */
function guidanceOf(r: CardiacMassResults): { categories: Category[]; lines: string[] } {
  const t = wording.text;
  const features = featureCategories(r);
  const dx = r.inputs.diagnosis?.value;
  if (dx === undefined || r.prognosis.value === null) {
    const lines = features.map((c) => pick(t, GUIDANCE_TEXT[c], 'text'));
    if (features.includes('malignant') && features.includes('thrombus')) {
      lines.push(fill(pick(t, 'guidanceConflict', 'text'), { tier: r.score.tier ?? '' }));
    }
    return { categories: features, lines };
  }
  const label = diagnosisLabel(dx);
  if (dx !== 'malignant' && dx !== 'thrombus' && dx !== 'benign') {
    return { categories: ['undetermined'], lines: [fill(pick(t, 'guidanceNoMass', 'text'), { diagnosis: label })] };
  }
  const lines = [
    fill(pick(t, 'guidanceFromDiagnosis', 'text'), { diagnosis: label, source: r.inputs.diagnosis?.source ?? '' }),
    pick(t, GUIDANCE_TEXT[dx], 'text'),
  ];
  const suggested = features.filter((c) => c !== 'undetermined');
  if (suggested.length > 0 && !suggested.includes(dx)) {
    lines.push(fill(pick(t, 'diagnosisDiffers', 'text'), { diagnosis: label, features: suggested.join(', ') }));
  }
  return { categories: [dx], lines };
}

function indicatorOf(categories: Category[]): Card['indicator'] {
  const levels: Card['indicator'][] = ['info', 'warning', 'critical'];
  const level = Math.max(0, ...categories.map((c) => levels.indexOf(lookup(wording, 'indicator', c) as Card['indicator'])));
  return levels[level] ?? 'info';
}

// ---------------------------------------------------------------------------------------------------
// Detail blocks

function contextBlock(r: CardiacMassResults): string {
  const t = wording.text;
  const i = r.inputs;
  const basis = [
    ...i.massConditions.map((c) => `${c.value} (${c.source})`),
    ...(i.finding?.value === true ? [`${lookup(wording, 'inputLabels', 'cardiacMass')} ${dateOf(i.finding)} (${i.finding.source})`] : []),
  ].join('; ');
  const lines = [fill(pick(t, 'massBasis', 'text'), { basis })];
  if (i.location) lines.push(fill(pick(t, 'location', 'text'), { location: locationLabel(i.location.value) }));
  if (i.noMassOnLatestCmr && i.finding) {
    lines.push(fill(pick(t, 'noMassOnLatestCmr', 'text'), { date: dateOf(i.finding), source: i.finding.source }));
  } else if (i.study?.linked) {
    lines.push(fill(pick(t, 'study', 'text'), { date: i.study.day, source: i.study.report ?? '', lookbackDays: i.lookbackDays }));
  } else if (i.study) {
    lines.push(fill(pick(t, 'studyUnlinked', 'text'), { date: i.study.day, lookbackDays: i.lookbackDays }));
  } else {
    lines.push(fill(pick(t, 'noStudy', 'text'), { lookbackDays: i.lookbackDays }));
  }
  return lines.map(md).join(' ');
}

function scoreBlock(score: ModelResult, tier: string): string {
  const t = wording.text;
  const rows = SCORE_FEATURES.map((f) => {
    const c = score.contributions.find((x) => x.input === f.key);
    const input = score.inputs.find((x) => x.name === f.key);
    return [
      md(lookup(wording, 'scoreFeatures', f.key)),
      md(f.points),
      md(input ? yesNo(input.value) : 'not assessed'),
      md(c?.points ?? '?'),
    ];
  });
  const total = score.value === null ? '—' : score.range ? `${score.range.min}–${score.range.max}` : String(score.value);
  rows.push(['**Total**', md(MAX_POINTS), md(tier), `**${md(total)}**`]);
  const lines = [table(['Feature', 'Points if present', 'Recorded', 'Points'], rows), `_${md(pick(t, 'scoreCutoff', 'text'))}_`];
  if (score.range && score.value !== null) {
    const missing = SCORE_FEATURES.filter((f) => score.missing.includes(f.key))
      .map((f) => `${lookup(wording, 'scoreFeatures', f.key)} (${f.points})`).join(', ');
    lines.push(md(score.tier === undefined
      ? fill(pick(t, 'scoreDecide', 'text'), { min: score.range.min, max: score.range.max, need: MALIGNANT_CUTOFF - score.range.min, features: missing })
      : fill(pick(t, 'scoreSettled', 'text'), { features: missing })));
  }
  return lines.join('\n\n');
}

function thrombusBlock(t: ThrombusFeaturesResult): string {
  const status = (f: ThrombusFeature): string => (f.status === 'favours-thrombus' ? 'yes' : f.status === 'does-not-favour' ? 'no' : 'unknown');
  const rows = t.features.map((f) => [md(f.criterion), md(f.input ? valueText(f.input) : 'not assessed'), md(status(f)), md(f.accuracy)]);
  return [
    table(['Criterion favouring thrombus', 'Recorded', 'Met', 'Published accuracy'], rows),
    `_${md(pick(wording.text, 'thrombusNote', 'text'))}_`,
  ].join('\n\n');
}

function prognosisBlock(r: CardiacMassResults): string {
  const t = wording.text;
  const i = r.inputs;
  const p = r.prognosis;
  if (p.value === null || !i.diagnosis) {
    return md(i.diagnosisConflict
      ? fill(pick(t, 'prognosisConflict', 'text'), { categories: i.diagnosisConflict.map(diagnosisLabel).join(', ') })
      : pick(t, 'prognosisNone', 'text'));
  }
  const dx = i.diagnosis.value as (typeof DIAGNOSES)[number];
  const row = MASS_PROGNOSIS[dx];
  const basis = i.diagnosisFrom === 'observation'
    ? fill(pick(t, 'basisObservation', 'text'), { source: i.diagnosis.source, date: dateOf(i.diagnosis) })
    : fill(pick(t, 'basisCondition', 'text'), { source: i.diagnosis.source });
  const hr = row.hrVsNoMass !== undefined ? fill(pick(t, 'prognosisHr', 'text'), { hr: row.hrVsNoMass }) : '';
  const rows = DIAGNOSES.map((k) => `${diagnosisLabel(k)} ${MASS_PROGNOSIS[k].fiveYearMortalityPercent} %`).join(', ');
  return [
    md(fill(pick(t, 'prognosis', 'text'), {
      diagnosis: diagnosisLabel(dx), basis, mortality: row.fiveYearMortalityPercent, hr, accuracy: CMR_DIAGNOSIS_ACCURACY_PERCENT,
    })),
    `_${md(fill(pick(t, 'prognosisAll', 'text'), { rows }))}_`,
  ].join('\n\n');
}

function missingBlock(heading: string, r: CardiacMassResults): string {
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

const label = (name: string): string => labelOf(wording, 'inputLabels', name);
const diagnosisLabel = (code: string): string => labelOf(wording, 'diagnosisLabels', code);
const locationLabel = (code: string): string => labelOf(wording, 'locationLabels', code);
const dateOf = (i: Input): string => (i.date ? i.date.slice(0, 10) : 'date unknown');
const yesNo = (v: Input['value']): string => (typeof v === 'boolean' ? (v ? 'present' : 'absent') : String(v));

function valueText(i: Input): string {
  if (typeof i.value === 'boolean') return yesNo(i.value);
  const unit = i.unit === 'cm2' ? 'cm²' : i.unit ?? '';
  return typeof i.value === 'number' ? `${round(i.value, 2)} ${unit}`.trim() : i.value;
}
