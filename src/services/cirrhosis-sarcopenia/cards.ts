// Cards of the cirrhosis-sarcopenia service, worded from cards/cirrhosis-sarcopenia.yaml (typed by
// wording.ts).
// One liver-prognosis card (MELD 3.0, MELD-Na, MELD, Child-Pugh, ALBI), a sarcopenia card when CT
// shows sarcopenia, or one data-missing card when no liver score can be computed. Nothing else.
import type { Card } from '../../hooks/types.ts';
import type { Input } from '../../models/types.ts';
import type { ShownResult } from '../model-notes.ts';
import type { ServiceEvaluation } from '../define.ts';
import { buildCard, inputsTable, percent, round, unique } from '../card-kit.ts';
import { fill, labelOf } from '../card-wording.ts';
import { md, table } from '../markdown.ts';
import { smiCutoff, smiCutoffSetOf, type SmiCutoffSetName } from '../../models/smi.ts';
import { sexOf } from '../../models/cirrhosis-common.ts';
import { MELD3_CREATININE_CAP } from '../../models/meld3.ts';
import { MELD_CREATININE_CAP } from '../../models/meld.ts';
import type { CirrhosisResults } from './scores.ts';
import type { CirrhosisWording } from './wording.ts';

type Ev = ServiceEvaluation<CirrhosisWording>;

const LIVER_MODELS = ['meld3', 'meldNa', 'meld', 'childPugh', 'albi'] as const;

export function cirrhosisCards(r: CirrhosisResults, ev: Ev): Card[] {
  if (!informative(r.childPugh)) r = { ...r, childPugh: { ...r.childPugh, value: null } };
  const liver = LIVER_MODELS.map((k) => r[k]);
  if (liver.every((m) => m.value === null)) return [dataMissingCard(r, ev)];
  const sarcopenic = r.smi.value !== null && r.smi.tier === 'sarcopenia';
  const cards = [liverCard(r, ev, sarcopenic ? [] : [r.smi, r.meldSarcopenia])];
  if (sarcopenic) cards.push(sarcopeniaCard(r, ev));
  return cards;
}

function liverCard(r: CirrhosisResults, ev: Ev, extra: ShownResult[]): Card {
  const w = ev.wording;
  const template = w.cards['liver-prognosis'];
  const s = template.summary;
  const parts: string[] = [];
  const label = inputLabel(w);
  const missingLabel = (names: string[]): string => names.map(label).join(', ');

  if (r.meld3.value === null) {
    parts.push(fill(s.meld3Declined, { missing: missingLabel(r.meld3.missing) }));
  } else if (r.meld3.range) {
    const unknown = r.meld3.missing.filter((m) => ['sex', 'dialysis', 'age'].includes(m));
    parts.push(fill(s.meld3Bound, { value: r.meld3.display ?? '', missing: missingLabel(unknown) }));
  } else if (r.meld3.probability !== undefined) {
    // One 90-day figure: the survival equation's (MODELS.md 3a).
    parts.push(fill(s.meld3, { value: r.meld3.display ?? '', mortality: percent(r.meld3.probability) }));
  } else {
    // Above 40 the equation is extrapolated: no figure (the model gives none).
    parts.push(fill(s.meld3AboveRange, { value: r.meld3.display ?? '' }));
  }
  if (r.childPugh.value !== null) {
    const range = r.childPugh.range;
    parts.push(range && range.max > range.min
      ? fill(s.childPughRange, { tier: r.childPugh.tier ?? '?', min: range.min, max: range.max, count: r.childPugh.missing.length })
      : fill(s.childPugh, { tier: r.childPugh.tier ?? '?', points: r.childPugh.value }));
  }
  if (r.albi.value !== null && r.albi.tier !== undefined) {
    parts.push(fill(s.albi, { grade: r.albi.tier.replace(/^grade\s*/i, '') }));
  }

  const reported = [...liver(r), ...extra];
  const d = template.detail;
  const detail = [
    d.scoresHeading,
    scoresTable(reported, w),
    notesBlock(d.notesHeading, reported, dialysisStatements(r, w)),
    missingBlock(d.missingHeading, reported, r.missingReasons, w),
    d.inputsHeading,
    inputsTable(allInputs(reported), w.tables.inputLabels, (i) => valueText(i, r, w)),
  ].filter((x) => x.length > 0).join('\n\n');

  return buildCard({
    ev, wording: w, template,
    summary: `${s.prefix}${parts.join('; ')}`,
    detail,
    indicator: liverIndicator(r, w),
    results: reported,
    imaging: { part: ev.imaging?.ct, wording: w.imaging },
  });
}

function sarcopeniaCard(r: CirrhosisResults, ev: Ev): Card {
  const w = ev.wording;
  const template = w.cards.sarcopenia;
  const label = inputLabel(w);
  const { set: setId, cutoff: cutoffValue } = smiCutoffOf(r.smi, ev.runtime.config.smiCutoffSet);
  const cutoff = cutoffValue ?? '?';
  const set = w.tables.cutoffSets[setId];
  const vars = { smi: round(r.smi.value ?? NaN, 1), cutoff, set };
  const summary = r.meldSarcopenia.value !== null
    ? fill(template.summary.text, { ...vars, meldSarcopenia: r.meldSarcopenia.display ?? round(r.meldSarcopenia.value, 2) })
    : fill(template.summary.noMeld, { ...vars, missing: r.meldSarcopenia.missing.map(label).join(', ') });
  const sex = r.smi.inputs.find((i) => i.name === 'sex')?.value;
  const results = [r.smi, r.meldSarcopenia];
  const d = template.detail;
  const detail = [
    md(fill(d.intro, { set, sex: typeof sex === 'string' ? sex : 'these', cutoff })),
    md(fill(d.cutoffCaveat, { set })),
    scoresTable(results, w),
    notesBlock(d.notesHeading, results),
    missingBlock(d.missingHeading, results, r.missingReasons, w),
    d.inputsHeading,
    inputsTable(allInputs(results), w.tables.inputLabels),
  ].filter((x) => x.length > 0).join('\n\n');
  return buildCard({ ev, wording: w, template, summary, detail, indicator: 'warning', results, imaging: { part: ev.imaging?.ct, wording: w.imaging } });
}

function dataMissingCard(r: CirrhosisResults, ev: Ev): Card {
  const w = ev.wording;
  const template = w.cards['data-missing'];
  const label = inputLabel(w);
  const missing = unique(liver(r).flatMap((m) => m.missing)).filter((m) => !['sex', 'age', 'dialysis'].includes(m));
  const detail = [
    md(fill(template.detail.intro, { lookbackDays: ev.runtime.config.labLookbackDays })),
    missingBlock(template.detail.missingHeading, liver(r), r.missingReasons, w),
  ].join('\n\n');
  return buildCard({
    ev, wording: w, template,
    summary: fill(template.summary.text, { missing: missing.map(label).join(', ') }),
    detail,
    indicator: 'info',
    results: [],
    imaging: { part: ev.imaging?.ct, wording: w.imaging },
  });
}

const liver = (r: CirrhosisResults): ShownResult[] => LIVER_MODELS.map((k) => r[k]);

/**
 * A partial Child-Pugh whose range spans every class (A–C) says nothing a clinician can use: it is
 * reported as not calculable, with its missing inputs, rather than as "Child-Pugh A–C".
 */
function informative(cp: ShownResult): boolean {
  if (cp.value === null || !cp.range) return cp.value !== null;
  return !(cp.range.min <= 6 && cp.range.max >= 10);
}

/** Indicator from the MELD 3.0 band and the Child-Pugh class, whichever is more severe. */
function liverIndicator(r: CirrhosisResults, w: CirrhosisWording): Card['indicator'] {
  const levels: Card['indicator'][] = ['info', 'warning', 'critical'];
  const byBand: Readonly<Record<string, Card['indicator']>> = w.tables.meld3Indicator;
  const byClass: Readonly<Record<string, Card['indicator']>> = w.tables.childPughIndicator;
  let level = 0;
  const bandLevel = r.meld3.value !== null && r.meld3.tier ? byBand[r.meld3.tier] : undefined;
  if (bandLevel) level = Math.max(level, levels.indexOf(bandLevel));
  const cpClass = r.childPugh.tier?.charAt(0);
  const classLevel = r.childPugh.value !== null && cpClass ? byClass[cpClass] : undefined;
  if (classLevel) level = Math.max(level, levels.indexOf(classLevel));
  return levels[level] ?? 'info';
}

function scoresTable(results: ShownResult[], w: CirrhosisWording): string {
  const sources: Readonly<Record<string, string>> = w.tables.scoreSources;
  const rows = results.filter((m) => m.value !== null).map((m) => [
    md(m.metadata.title + (m.metadata.evidence === 'secondary' ? ' (secondary)' : '')),
    md(scoreValue(m)),
    md(meaning(m)),
    md(sources[m.model] ?? m.metadata.citation),
  ]);
  return rows.length > 0 ? table(['Score', 'Value', 'Meaning', 'Source'], rows) : '';
}

function scoreValue(m: ShownResult): string {
  const shown = m.display ?? String(round(m.value ?? NaN, 2));
  const unit = m.unit === 'points' || m.unit === '1' || m.unit === '' ? '' : ` ${m.unit}`;
  const range = m.range && m.range.max > m.range.min ? ` (range ${round(m.range.min, 1)}–${round(m.range.max, 1)})` : '';
  return `${shown}${unit}${range}`;
}

function meaning(m: ShownResult): string {
  const parts: string[] = [];
  if (m.tier) parts.push(m.tier);
  // The model's own estimate (e.g. the MELD 3.0 survival equation), distinct from any band table in the notes.
  if (m.probability !== undefined && m.outcome) parts.push(`estimated ${m.outcome} ${percent(m.probability)}`);
  return parts.join('; ');
}

function notesBlock(heading: string, results: ShownResult[], statements: string[] = []): string {
  const notes = unique([...results.flatMap((m) => (m.notes ?? []).map((n) => `${m.metadata.title}: ${n}`)), ...statements]);
  return notes.length > 0 ? `${heading}\n\n${notes.map((n) => `- ${md(n)}`).join('\n')}` : '';
}

function missingBlock(heading: string, results: ShownResult[], reasons: Record<string, string>, w: CirrhosisWording): string {
  const label = inputLabel(w);
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
function dialysisStatements(r: CirrhosisResults, w: CirrhosisWording): string[] {
  if (!r.ifDialysis) return [];
  const cr = r.meld.inputs.find((i) => i.name === 'creatinine')?.value ?? r.meld3.inputs.find((i) => i.name === 'creatinine')?.value;
  if (typeof cr !== 'number' || cr < MELD3_CREATININE_CAP) return [];
  const t = w.text;
  const rows: Array<[ShownResult, ShownResult, number]> = [
    [r.meld3, r.ifDialysis.meld3, MELD3_CREATININE_CAP],
    [r.meldNa, r.ifDialysis.meldNa, MELD_CREATININE_CAP],
    [r.meld, r.ifDialysis.meld, MELD_CREATININE_CAP],
  ];
  return rows.filter(([m]) => m.value !== null).map(([m, alt, cap]) => {
    const vars = { score: m.metadata.title, creatinine: round(cr, 2), cap: cap.toFixed(1) };
    return cr >= cap
      ? fill(t.dialysisAtCap, vars)
      : fill(t.dialysisBelowCap, { ...vars, value: m.display ?? '', ifDialysis: alt.display ?? '' });
  });
}

/** Dialysis in words: "none recorded" is what the record shows, not that none took place. */
function valueText(i: Input, r: CirrhosisResults, w: CirrhosisWording): string | undefined {
  if (i.name !== 'dialysis' || i.value !== false || r.dialysisSessions === undefined) return undefined;
  // Two sessions qualify (inputs.ts), so a value of false has none or one.
  return r.dialysisSessions === 0 ? w.text.dialysisNoneRecorded : w.text.dialysisOneSession;
}

function allInputs(results: ShownResult[]): Input[] {
  return results.flatMap((m) => m.inputs);
}

function smiCutoffOf(smi: ShownResult, fallbackSet: SmiCutoffSetName): { set: SmiCutoffSetName; cutoff: number | undefined } {
  const set = smiCutoffSetOf(smi) ?? fallbackSet;
  const sex = sexOf(smi.inputs.find((i) => i.name === 'sex') as Input<string> | undefined);
  const bmi = smi.inputs.find((i) => i.name === 'bmi')?.value;
  return { set, cutoff: sex ? smiCutoff(set, sex, typeof bmi === 'number' ? bmi : undefined) : undefined };
}

const inputLabel = (w: CirrhosisWording) => (name: string): string => labelOf(w.tables.inputLabels, name);
