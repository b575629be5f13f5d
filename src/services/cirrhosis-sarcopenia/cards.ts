// Cards of the cirrhosis-sarcopenia service, worded from cards/cirrhosis-sarcopenia.yaml.
// One liver-prognosis card (MELD 3.0, MELD-Na, MELD, Child-Pugh, ALBI), a sarcopenia card when CT
// shows sarcopenia, or one data-missing card when no liver score can be computed. Nothing else.
import type { Card } from '../../hooks/types.ts';
import type { Input, ModelResult } from '../../models/types.ts';
import type { EvaluationContext } from '../types.ts';
import { buildCard, inputsTable, percent, round, unique } from '../card-kit.ts';
import { fill, labelOf, loadCardWording, lookup, pick, type CardWording } from '../card-wording.ts';
import { md, table } from '../markdown.ts';
import { smiCutoff, smiCutoffSetOf, type SmiCutoffSetName } from '../../models/smi.ts';
import { sexOf } from '../../models/cirrhosis-common.ts';
import { MELD3_CREATININE_CAP } from '../../models/meld3.ts';
import { MELD_CREATININE_CAP } from '../../models/meld.ts';

export interface CirrhosisResults {
  meld3: ModelResult;
  meldNa: ModelResult;
  meld: ModelResult;
  childPugh: ModelResult;
  albi: ModelResult;
  smi: ModelResult;
  meldSarcopenia: ModelResult;
  /** Why an input is missing, e.g. 'albumin' -> 'no result in the last 30 days'. */
  missingReasons: Record<string, string>;
  /** Dialysis procedures in the 7-day look-back; undefined when procedures could not be read. */
  dialysisSessions?: number;
  /** The MELD family had ≥ 2 treatments or 24 h of CVVHD taken place unrecorded (only when none qualifying is recorded). */
  ifDialysis?: { meld3: ModelResult; meldNa: ModelResult; meld: ModelResult };
}

const wording: CardWording = loadCardWording('cirrhosis-sarcopenia');

const LIVER_MODELS = ['meld3', 'meldNa', 'meld', 'childPugh', 'albi'] as const;

export function cirrhosisCards(r: CirrhosisResults, ctx: EvaluationContext): Card[] {
  if (!informative(r.childPugh)) r = { ...r, childPugh: { ...r.childPugh, value: null } };
  const liver = LIVER_MODELS.map((k) => r[k]);
  if (liver.every((m) => m.value === null)) return [dataMissingCard(r, ctx)];
  const sarcopenic = r.smi.value !== null && r.smi.tier === 'sarcopenia';
  const cards = [liverCard(r, ctx, sarcopenic ? [] : [r.smi, r.meldSarcopenia])];
  if (sarcopenic) cards.push(sarcopeniaCard(r, ctx));
  return cards;
}

function liverCard(r: CirrhosisResults, ctx: EvaluationContext, extra: ModelResult[]): Card {
  const template = pick(wording.cards, 'liver-prognosis', 'cards');
  const s = template.summary;
  const parts: string[] = [];
  const missingLabel = (names: string[]): string => names.map(label).join(', ');

  if (r.meld3.value === null) {
    parts.push(fill(pick(s, 'meld3Declined', 'summary'), { missing: missingLabel(r.meld3.missing) }));
  } else if (r.meld3.range) {
    const unknown = r.meld3.missing.filter((m) => ['sex', 'dialysis', 'age'].includes(m));
    parts.push(fill(pick(s, 'meld3Bound', 'summary'), { value: r.meld3.display ?? '', missing: missingLabel(unknown) }));
  } else if (r.meld3.probability !== undefined) {
    // One 90-day figure: the survival equation's (MODELS.md 3a).
    parts.push(fill(pick(s, 'meld3', 'summary'), { value: r.meld3.display ?? '', mortality: percent(r.meld3.probability) }));
  } else {
    // Above 40 the equation is extrapolated: no figure (the model gives none).
    parts.push(fill(pick(s, 'meld3AboveRange', 'summary'), { value: r.meld3.display ?? '' }));
  }
  if (r.childPugh.value !== null) {
    const range = r.childPugh.range;
    parts.push(range && range.max > range.min
      ? fill(pick(s, 'childPughRange', 'summary'), { tier: r.childPugh.tier ?? '?', min: range.min, max: range.max, count: r.childPugh.missing.length })
      : fill(pick(s, 'childPugh', 'summary'), { tier: r.childPugh.tier ?? '?', points: r.childPugh.value }));
  }
  if (r.albi.value !== null && r.albi.tier !== undefined) {
    parts.push(fill(pick(s, 'albi', 'summary'), { grade: r.albi.tier.replace(/^grade\s*/i, '') }));
  }

  const reported = [...liver(r), ...extra];
  const d = template.detail;
  const detail = [
    pick(d, 'scoresHeading', 'detail'),
    scoresTable(reported),
    notesBlock(pick(d, 'notesHeading', 'detail'), reported, dialysisStatements(r)),
    missingBlock(pick(d, 'missingHeading', 'detail'), reported, r.missingReasons),
    pick(d, 'inputsHeading', 'detail'),
    inputsTable(allInputs(reported), wording.tables.inputLabels, (i) => valueText(i, r)),
  ].filter((x) => x.length > 0).join('\n\n');

  return buildCard({
    ctx, wording, template,
    summary: `${pick(s, 'prefix', 'summary')}${parts.join('; ')}`,
    detail,
    indicator: liverIndicator(r),
    results: reported,
  });
}

function sarcopeniaCard(r: CirrhosisResults, ctx: EvaluationContext): Card {
  const template = pick(wording.cards, 'sarcopenia', 'cards');
  const { set: setId, cutoff: cutoffValue } = smiCutoffOf(r.smi, ctx.config.smiCutoffSet);
  const cutoff = cutoffValue ?? '?';
  const set = lookup(wording, 'cutoffSets', setId);
  const vars = { smi: round(r.smi.value ?? NaN, 1), cutoff, set };
  const summary = r.meldSarcopenia.value !== null
    ? fill(pick(template.summary, 'text', 'summary'), { ...vars, meldSarcopenia: r.meldSarcopenia.display ?? round(r.meldSarcopenia.value, 2) })
    : fill(pick(template.summary, 'noMeld', 'summary'), { ...vars, missing: r.meldSarcopenia.missing.map(label).join(', ') });
  const sex = r.smi.inputs.find((i) => i.name === 'sex')?.value;
  const results = [r.smi, r.meldSarcopenia];
  const detail = [
    md(fill(pick(template.detail, 'intro', 'detail'), { set, sex: typeof sex === 'string' ? sex : 'these', cutoff })),
    md(fill(pick(template.detail, 'cutoffCaveat', 'detail'), { set })),
    scoresTable(results),
    notesBlock('### Notes', results),
    missingBlock('### Not available', results, r.missingReasons),
    '### Inputs used',
    inputsTable(allInputs(results), wording.tables.inputLabels),
  ].filter((x) => x.length > 0).join('\n\n');
  return buildCard({ ctx, wording, template, summary, detail, indicator: 'warning', results });
}

function dataMissingCard(r: CirrhosisResults, ctx: EvaluationContext): Card {
  const template = pick(wording.cards, 'data-missing', 'cards');
  const missing = unique(liver(r).flatMap((m) => m.missing)).filter((m) => !['sex', 'age', 'dialysis'].includes(m));
  const detail = [
    md(fill(pick(template.detail, 'intro', 'detail'), { lookbackDays: ctx.config.labLookbackDays })),
    missingBlock('### Not available', liver(r), r.missingReasons),
  ].join('\n\n');
  return buildCard({
    ctx, wording, template,
    summary: fill(pick(template.summary, 'text', 'summary'), { missing: missing.map(label).join(', ') }),
    detail,
    indicator: 'info',
    results: [],
  });
}

const liver = (r: CirrhosisResults): ModelResult[] => LIVER_MODELS.map((k) => r[k]);

/**
 * A partial Child-Pugh whose range spans every class (A–C) says nothing a clinician can use: it is
 * reported as not calculable, with its missing inputs, rather than as "Child-Pugh A–C".
 */
function informative(cp: ModelResult): boolean {
  if (cp.value === null || !cp.range) return cp.value !== null;
  return !(cp.range.min <= 6 && cp.range.max >= 10);
}

/** Indicator from the MELD 3.0 band and the Child-Pugh class, whichever is more severe. */
function liverIndicator(r: CirrhosisResults): Card['indicator'] {
  const levels: Card['indicator'][] = ['info', 'warning', 'critical'];
  let level = 0;
  if (r.meld3.value !== null && r.meld3.tier && wording.tables.meld3Indicator?.[r.meld3.tier]) {
    level = Math.max(level, levels.indexOf(lookup(wording, 'meld3Indicator', r.meld3.tier) as Card['indicator']));
  }
  const cpClass = r.childPugh.tier?.charAt(0);
  if (r.childPugh.value !== null && cpClass && wording.tables.childPughIndicator?.[cpClass]) {
    level = Math.max(level, levels.indexOf(lookup(wording, 'childPughIndicator', cpClass) as Card['indicator']));
  }
  return levels[level] ?? 'info';
}

function scoresTable(results: ModelResult[]): string {
  const rows = results.filter((m) => m.value !== null).map((m) => [
    md(m.metadata.title + (m.metadata.evidence === 'secondary' ? ' (secondary)' : '')),
    md(scoreValue(m)),
    md(meaning(m)),
    md(wording.tables.scoreSources?.[m.model] ?? m.metadata.citation),
  ]);
  return rows.length > 0 ? table(['Score', 'Value', 'Meaning', 'Source'], rows) : '';
}

function scoreValue(m: ModelResult): string {
  const shown = m.display ?? String(round(m.value ?? NaN, 2));
  const unit = m.unit === 'points' || m.unit === '1' || m.unit === '' ? '' : ` ${m.unit}`;
  const range = m.range && m.range.max > m.range.min ? ` (range ${round(m.range.min, 1)}–${round(m.range.max, 1)})` : '';
  return `${shown}${unit}${range}`;
}

function meaning(m: ModelResult): string {
  const parts: string[] = [];
  if (m.tier) parts.push(m.tier);
  // The model's own estimate (e.g. the MELD 3.0 survival equation), distinct from any band table in the notes.
  if (m.probability !== undefined && m.outcome) parts.push(`estimated ${m.outcome} ${percent(m.probability)}`);
  return parts.join('; ');
}

function notesBlock(heading: string, results: ModelResult[], statements: string[] = []): string {
  const notes = unique([...results.flatMap((m) => (m.notes ?? []).map((n) => `${m.metadata.title}: ${n}`)), ...statements]);
  return notes.length > 0 ? `${heading}\n\n${notes.map((n) => `- ${md(n)}`).join('\n')}` : '';
}

function missingBlock(heading: string, results: ModelResult[], reasons: Record<string, string>): string {
  const missing = unique(results.flatMap((m) => m.missing));
  if (missing.length === 0) return '';
  const lines = missing.map((name) => {
    const needers = results.filter((m) => m.missing.includes(name)).map((m) => m.metadata.title);
    const reason = reasons[name] ? `: ${reasons[name]}` : '';
    return `- ${md(label(name))}${md(reason)} (needed by ${md(needers.join(', '))})`;
  });
  return `${heading}\n\n${lines.join('\n')}`;
}

/**
 * What recorded dialysis would change, once creatinine reaches the lowest cap (MELD 3.0's 3.0 mg/dL):
 * dialysis sets creatinine to the cap (MODELS.md 3a, 3b), so at or above a score's cap it changes
 * nothing, and below it unrecorded dialysis would raise the score. Below 3.0 the card stays silent:
 * dialysis there is recorded or the patient has none, and saying so on every card is noise.
 */
function dialysisStatements(r: CirrhosisResults): string[] {
  if (!r.ifDialysis) return [];
  const cr = r.meld.inputs.find((i) => i.name === 'creatinine')?.value ?? r.meld3.inputs.find((i) => i.name === 'creatinine')?.value;
  if (typeof cr !== 'number' || cr < MELD3_CREATININE_CAP) return [];
  const t = wording.text;
  const rows: Array<[ModelResult, ModelResult, number]> = [
    [r.meld3, r.ifDialysis.meld3, MELD3_CREATININE_CAP],
    [r.meldNa, r.ifDialysis.meldNa, MELD_CREATININE_CAP],
    [r.meld, r.ifDialysis.meld, MELD_CREATININE_CAP],
  ];
  return rows.filter(([m]) => m.value !== null).map(([m, alt, cap]) => {
    const vars = { score: m.metadata.title, creatinine: round(cr, 2), cap: cap.toFixed(1) };
    return cr >= cap
      ? fill(pick(t, 'dialysisAtCap', 'text'), vars)
      : fill(pick(t, 'dialysisBelowCap', 'text'), { ...vars, value: m.display ?? '', ifDialysis: alt.display ?? '' });
  });
}

/** Dialysis in words: "none recorded" is what the record shows, not that none took place. */
function valueText(i: Input, r: CirrhosisResults): string | undefined {
  if (i.name !== 'dialysis' || i.value !== false || r.dialysisSessions === undefined) return undefined;
  // Two sessions qualify (inputs.ts), so a value of false has none or one.
  return pick(wording.text, r.dialysisSessions === 0 ? 'dialysisNoneRecorded' : 'dialysisOneSession', 'text');
}

function allInputs(results: ModelResult[]): Input[] {
  return results.flatMap((m) => m.inputs);
}

function smiCutoffOf(smi: ModelResult, fallbackSet: SmiCutoffSetName): { set: SmiCutoffSetName; cutoff: number | undefined } {
  const set = smiCutoffSetOf(smi) ?? fallbackSet;
  const sex = sexOf(smi.inputs.find((i) => i.name === 'sex') as Input<string> | undefined);
  const bmi = smi.inputs.find((i) => i.name === 'bmi')?.value;
  return { set, cutoff: sex ? smiCutoff(set, sex, typeof bmi === 'number' ? bmi : undefined) : undefined };
}

const label = (name: string): string => labelOf(wording, 'inputLabels', name);
