// Cards of the cmr-ihd-macce service, worded from cards/cmr-ihd-macce.yaml. At most two short cards:
//   - acute MI: one risk card (STEMI: CMR risk score, GRACE, TIMI; otherwise GRACE), or one
//     data-missing card when no score has enough inputs;
//   - a CMR markers card when CMR measurements exist (after the onset for an acute MI; the last year
//     for chronic disease, where it also says once that GRACE/TIMI do not apply).
import type { Card } from '../../hooks/types.ts';
import type { Input, ModelResult } from '../../models/types.ts';
import type { CmrMarkerAssessment, CmrMarkerFinding } from '../../models/cmr-markers.ts';
import { GRACE_BAND_TABLES, type GraceResult } from '../../models/grace.ts';
import type { EvaluationContext } from '../types.ts';
import { buildCard, inputsTable, MAX_SUMMARY, percent, round, unique } from '../card-kit.ts';
import { fill, labelOf, loadCardWording, lookup, pick, type CardTemplate, type CardWording } from '../card-wording.ts';
import { md, table } from '../markdown.ts';
import { parseFhirDate } from '../../fhir/observations.ts';
import { conditionText, type AcuteEvent } from './event.ts';
import type { MacceInputs } from './inputs.ts';
import { ITEMS, reportable, type AcuteScores } from './scores.ts';
import { CMR_LOOKBACK_DAYS, isoDate } from './windows.ts';

const wording: CardWording = loadCardWording('cmr-ihd-macce');
const LEVELS: Card['indicator'][] = ['info', 'warning', 'critical'];

// ---------------------------------------------------------------------------------------------------
// Acute MI

export function acuteCard(i: MacceInputs, s: AcuteScores, ctx: EvaluationContext): Card {
  const event = i.acute!;
  const shown = [
    reportable(s.cmr, ITEMS.cmr) ? s.cmr : undefined,
    reportable(s.grace, ITEMS.grace) ? s.grace : undefined,
    reportable(s.timi, ITEMS.timi) ? s.timi : undefined,
  ].filter((r): r is ModelResult => r !== undefined);
  const all = [s.cmr, s.grace, s.timi].filter((r): r is ModelResult => r !== undefined);
  if (shown.length === 0) return dataMissingCard(i, all, ctx);

  const template = pick(wording.cards, event.type === 'stemi' ? 'macce-risk' : 'acute-mi-risk', 'cards');
  const d = template.detail;
  const notShown = all.filter((r) => !shown.includes(r)).map((r) => `${r.metadata.title}: not shown, too few inputs (${r.display ?? r.value ?? '—'} ${r.unit}).`);
  const notes = [
    ...s.statements.map((k) => pick(wording.text, k, 'text')),
    ...notShown,
    ...shown.flatMap((r) => (r.notes ?? []).map((n) => `${r.metadata.title}: ${n}`)),
  ];
  const detail = [
    eventLine(template, event),
    pick(d, 'scoresHeading', 'detail'),
    scoresTable(shown),
    block(pick(d, 'notesHeading', 'detail'), unique(notes)),
    missingBlock(pick(d, 'missingHeading', 'detail'), all, i.missingReasons, !s.cmr && event.type === 'stemi'),
    pick(d, 'inputsHeading', 'detail'),
    inputsTable(shown.flatMap((r) => r.inputs), wording.tables.inputLabels),
    block(pick(d, 'derivationHeading', 'detail'), [...i.derivations, ...windowTexts(i, ctx)]),
    shown.some((r) => r.model === 'cmr-risk-score') ? `_${md(pick(wording.text, 'cmrRates', 'text'))}_` : '',
    shown.some((r) => r.metadata.evidence === 'secondary') ? `_${md(pick(wording.text, 'secondaryEvidence', 'text'))}_` : '',
  ].filter((x) => x.length > 0).join('\n\n');

  return buildCard({
    ctx, wording, template,
    summary: acuteSummary(template, event, shown, event.type === 'stemi' && !s.cmr),
    detail,
    indicator: acuteIndicator(shown),
    results: shown,
  });
}

function acuteSummary(template: CardTemplate, event: AcuteEvent, shown: ModelResult[], cmrNeeded: boolean): string {
  const s = template.summary;
  const prefix = fill(pick(s, 'prefix', 'summary'), { event: eventLabel(event), date: isoDate(event.onset.start) });
  const build = (short: boolean): string => {
    const parts = shown.map((r) => scorePhrase(s, r, short));
    if (cmrNeeded) parts.unshift(pick(wording.text, 'cmrNeeded', 'text'));
    return prefix + parts.join('; ');
  };
  const full = build(false);
  return full.length <= MAX_SUMMARY ? full : build(true);
}

function scorePhrase(s: Record<string, string>, r: ModelResult, short: boolean): string {
  const key = r.model === 'cmr-risk-score' ? 'cmr' : r.model === 'grace-in-hospital' ? 'grace' : 'timi';
  const value = r.display ?? String(r.value);
  if (r.range) return fill(pick(s, `${key}Range`, 'summary'), { range: value, count: missingItems(r) });
  if (short && s[`${key}Short`]) return fill(pick(s, `${key}Short`, 'summary'), { value });
  if (key === 'cmr') {
    const rate = (r as ModelResult & { macePer100PersonYears?: number }).macePer100PersonYears;
    return fill(pick(s, 'cmr', 'summary'), { value, tier: r.tier ?? '?', rate: rate ?? '?' });
  }
  if (key === 'grace') {
    const probability = r.probability !== undefined ? percent(r.probability) : '?';
    // An acute MI of unstated type: both band tables' readings (MODELS.md 1b).
    const g = r as GraceResult;
    if (g.bands === 'both' && s.graceBoth) return fill(pick(s, 'graceBoth', 'summary'), { value, probability, readings: readingsText(g) });
    return fill(pick(s, 'grace', 'summary'), { value, probability });
  }
  return fill(pick(s, 'timi', 'summary'), { value, mortality: r.probability !== undefined ? percent(r.probability) : '?' });
}

/**
 * Most severe of the CMR risk tier and the GRACE band (tables in the YAML: display choice). GRACE is read
 * with the bands of the MI type; an acute MI of unstated type by the more severe of its two readings,
 * and a predicted in-hospital death above a band table's high range (> 5 % STEMI, > 3 % NSTE-ACS,
 * MODELS.md 1b) counts as that table's high band, so a high probability is never beside an info card.
 */
function acuteIndicator(shown: ModelResult[]): Card['indicator'] {
  let level = 0;
  const raise = (tableName: string, tier: string | undefined): void => {
    const v = tier !== undefined ? wording.tables[tableName]?.[tier] : undefined;
    if (v) level = Math.max(level, LEVELS.indexOf(v as Card['indicator']));
  };
  for (const r of shown) {
    if (r.model === 'cmr-risk-score') raise('cmrRiskIndicator', r.tier);
    if (r.model === 'grace-in-hospital') {
      const g = r as GraceResult;
      raise('graceIndicator', g.tier);
      for (const [key, reading] of Object.entries(g.readings ?? {}) as Array<[keyof typeof GRACE_BAND_TABLES, string]>) {
        raise('graceIndicator', reading);
        if (g.probability !== undefined && g.probability > GRACE_BAND_TABLES[key].highRisk) raise('graceIndicator', 'high');
      }
    }
  }
  return LEVELS[level] ?? 'info';
}

/** "high by the STEMI and NSTE-ACS bands" or "intermediate by the STEMI bands, high by the NSTE-ACS bands". */
function readingsText(g: GraceResult): string {
  const { stemi, nsteAcs } = g.readings;
  const t = wording.text;
  if (stemi !== undefined && stemi === nsteAcs) return fill(pick(t, 'graceReadingsAgree', 'text'), { tier: stemi });
  const undetermined = pick(t, 'graceReadingUndetermined', 'text');
  return fill(pick(t, 'graceReadings', 'text'), { stemi: stemi ?? undetermined, nsteAcs: nsteAcs ?? undetermined });
}

function dataMissingCard(i: MacceInputs, all: ModelResult[], ctx: EvaluationContext): Card {
  const event = i.acute!;
  const template = pick(wording.cards, 'data-missing', 'cards');
  const missing = missingNames(all, event.type === 'stemi' && !all.some((r) => r.model === 'cmr-risk-score'));
  const d = template.detail;
  const detail = [
    eventLine(template, event),
    md(fill(pick(d, 'intro', 'detail'), { days: ctx.config.acuteMiWindowDays })),
    missingBlock(pick(d, 'missingHeading', 'detail'), all, i.missingReasons, event.type === 'stemi' && !all.some((r) => r.model === 'cmr-risk-score')),
    block(pick(d, 'derivationHeading', 'detail'), [...i.derivations, ...windowTexts(i, ctx)]),
  ].filter((x) => x.length > 0).join('\n\n');
  return buildCard({
    ctx, wording, template,
    summary: fitList(
      (list) => fill(pick(template.summary, 'text', 'summary'), { event: eventLabel(event), date: isoDate(event.onset.start), missing: list }),
      missing.map((n) => wording.tables.missingShort?.[n] ?? label(n)),
    ),
    detail,
    indicator: 'info',
    results: [],
  });
}

// ---------------------------------------------------------------------------------------------------
// CMR markers

export function markersCard(i: MacceInputs, m: CmrMarkerAssessment, ctx: EvaluationContext): Card {
  const template = pick(wording.cards, 'cmr-markers', 'cards');
  const d = template.detail;
  const acute = i.acute !== undefined;
  const date = latestDate(m.inputs);
  const flagged = flaggedMarkers(m.findings);
  const summaryOf = (list: string): string =>
    acute
      ? fill(pick(template.summary, 'acute', 'summary'), { date, markers: list })
      : fill(pick(template.summary, 'chronic', 'summary'), { date, markers: list, days: ctx.config.acuteMiWindowDays });
  const summary = flagged.length > 0 ? fitList(summaryOf, flagged) : summaryOf(pick(template.summary, 'none', 'summary'));

  const notes = [...m.notes];
  const notCmr = i.cmr.lvefNotCmr;
  if (notCmr) notes.push(fill(pick(wording.text, 'lvefNotCmr', 'text'), { label: label(notCmr.name), value: round(notCmr.value, 1), date: (notCmr.date ?? '?').slice(0, 10) }));
  const onsetDay = (c: { onset?: string }): string => (c.onset ? isoDate(parseFhirDate(c.onset)?.start ?? 0) : '?');
  if (!acute && i.olderAcute) notes.push(fill(pick(wording.text, 'olderAcuteMi', 'text'), { date: onsetDay(i.olderAcute), days: ctx.config.acuteMiWindowDays }));
  if (!acute && i.olderStemi) notes.push(fill(pick(wording.text, 'olderStemi', 'text'), { date: onsetDay(i.olderStemi), days: ctx.config.acuteMiWindowDays }));
  if (!acute && i.undatedAcute) notes.push(fill(pick(wording.text, 'undatedAcuteMi', 'text'), { source: i.undatedAcute.source }));
  const intro = acute
    ? fill(pick(d, 'acuteIntro', 'detail'), { onset: i.acute?.onset.text ?? '?' })
    : fill(pick(d, 'chronicIntro', 'detail'), { days: ctx.config.acuteMiWindowDays, cmrDays: CMR_LOOKBACK_DAYS });

  const detail = [
    md(intro),
    pick(d, 'findingsHeading', 'detail'),
    findingsTable(m.findings),
    notMeasured(pick(d, 'missingHeading', 'detail'), m.missing, i.missingReasons),
    block(pick(d, 'notesHeading', 'detail'), unique(notes)),
    pick(d, 'inputsHeading', 'detail'),
    inputsTable([...m.inputs, ...(notCmr ? [notCmr] : [])], wording.tables.inputLabels),
  ].filter((x) => x.length > 0).join('\n\n');

  return buildCard({
    ctx, wording, template, summary, detail,
    indicator: lookup(wording, 'markersIndicator', flagged.length > 0 ? 'flagged' : 'none') as Card['indicator'],
    // Markers are findings, not scores: no extension.scores, no RiskAssessment (DESIGN.md).
    results: [],
  });
}

/** Short names of the markers beyond their published threshold (or outside the site range), once each. */
function flaggedMarkers(findings: CmrMarkerFinding[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of findings) {
    // The Bonanad combination repeats infarct size and LVEF, both already listed when it applies.
    if (f.flagged !== true || f.marker === 'infarctSizeWithLvef' || seen.has(f.marker)) continue;
    seen.add(f.marker);
    const v = f.inputs[0]?.value;
    out.push(fill(lookup(wording, 'markerShort', f.marker), { value: typeof v === 'number' ? round(v, 1) : String(v ?? '') }));
  }
  return out;
}

function findingsTable(findings: CmrMarkerFinding[]): string {
  const state = (f: CmrMarkerFinding): string => lookup(wording, 'findingState', String(f.flagged));
  const rows = findings.map((f) => [
    md(wording.tables.markerLabels?.[f.marker] ?? f.marker),
    md(f.statement),
    md(f.threshold),
    state(f),
    f.url ? `[${md(f.citation)}](${f.url})` : md(f.citation),
  ]);
  return table(['Marker', 'Finding', 'Threshold', 'State', 'Source'], rows);
}

function notMeasured(heading: string, missing: string[], reasons: Record<string, string>): string {
  if (missing.length === 0) return '';
  // "No result" is the usual case: one line; other reasons (ignored results) are worth their own line.
  const plain = missing.filter((n) => !reasons[n] || reasons[n]!.startsWith('no result'));
  const special = missing.filter((n) => !plain.includes(n));
  const lines = [
    ...(plain.length > 0 ? [`- ${md(plain.map(label).join(', '))}`] : []),
    ...special.map((n) => `- ${md(label(n))}: ${md(reasons[n])}`),
  ];
  return `${heading}\n\n${lines.join('\n')}`;
}

// ---------------------------------------------------------------------------------------------------
// Shared pieces

function eventLine(template: CardTemplate, event: AcuteEvent): string {
  // The Condition's text is FHIR text (untrusted): escaped with md(); the rest is ours.
  return fill(pick(template.detail, 'eventLine', 'detail'), {
    text: md(conditionText(event.condition)),
    source: md(event.condition.source),
    onset: md(event.onset.text),
  });
}

function eventLabel(event: AcuteEvent): string {
  return lookup(wording, 'eventLabels', event.type);
}

function scoresTable(results: ModelResult[]): string {
  const rows = results.map((r) => [
    md(r.metadata.title + (r.metadata.evidence === 'secondary' ? ' (secondary)' : '')),
    md(scoreValue(r)),
    md(meaning(r)),
    md(wording.tables.scoreSources?.[r.model] ?? r.metadata.citation),
  ]);
  return table(['Score', 'Value', 'Meaning', 'Source'], rows);
}

function scoreValue(r: ModelResult): string {
  const shown = r.display ?? String(round(r.value ?? NaN, 2));
  return `${shown} ${r.unit}${r.range ? ` (${missingItems(r)} item(s) missing)` : ''}`;
}

/** Items of the score not scored (TIMI's "diabetes, hypertension or angina" is one item). */
function missingItems(r: ModelResult): number {
  const items = r.model === 'cmr-risk-score' ? ITEMS.cmr : r.model === 'timi-stemi' ? ITEMS.timi : ITEMS.grace;
  return items - r.contributions.length;
}

function meaning(r: ModelResult): string {
  const parts: string[] = [];
  const g = r.model === 'grace-in-hospital' ? (r as GraceResult) : undefined;
  if (g && g.bands !== 'stemi') {
    // Name the band table: the NSTE-ACS bands after an NSTEMI, both for an unstated type.
    for (const [key, reading] of Object.entries(g.readings ?? {}) as Array<[keyof typeof GRACE_BAND_TABLES, string]>) {
      parts.push(fill(pick(wording.text, 'graceReadingRow', 'text'), { tier: reading, bands: GRACE_BAND_TABLES[key].name }));
    }
  } else if (r.tier) parts.push(`${r.tier} risk`);
  const rate = (r as ModelResult & { macePer100PersonYears?: number }).macePer100PersonYears;
  if (rate !== undefined) parts.push(`${rate} ${r.outcome ?? ''}`.trim());
  if (r.probability !== undefined && r.outcome) parts.push(`${r.outcome} ${percent(r.probability)}`);
  return parts.join('; ') || '—';
}

function missingNames(results: ModelResult[], cmrNeeded: boolean): string[] {
  return unique([...(cmrNeeded ? ['cmr'] : []), ...results.flatMap((r) => r.missing)]);
}

function missingBlock(heading: string, results: ModelResult[], reasons: Record<string, string>, cmrNeeded: boolean): string {
  const names = missingNames(results, cmrNeeded);
  if (names.length === 0) return '';
  const lines = names.map((name) => {
    const needers = name === 'cmr' ? ['CMR risk score'] : results.filter((r) => r.missing.includes(name)).map((r) => r.metadata.title);
    const reason = reasons[name] ? `: ${reasons[name]}` : '';
    return `- ${md(label(name))}${md(reason)} (needed by ${md(needers.join(', '))})`;
  });
  return `${heading}\n\n${lines.join('\n')}`;
}

function windowTexts(i: MacceInputs, ctx: EvaluationContext): string[] {
  const anchor = i.anchor?.kind === 'encounter' ? `admission (start of ${i.anchor.source}, ${i.anchor.text})` : 'MI onset';
  const t = (k: string, vars: Record<string, string | number> = {}): string => fill(pick(wording.text, k, 'text'), vars);
  return [
    t('windowAdmission', { anchor }),
    t('enzymesRule', { anchor }),
    t('windowPresentation', { anchor, days: ctx.config.acuteMiWindowDays }),
    t('windowWeight', { bodyDays: ctx.config.bodyLookbackDays }),
    t('windowReperfusion'),
    t('windowHistory'),
  ];
}

function block(heading: string, lines: string[]): string {
  const kept = lines.filter((l) => l.length > 0);
  return kept.length > 0 ? `${heading}\n\n${kept.map((l) => `- ${md(l)}`).join('\n')}` : '';
}

/** Fill a summary with as many list items as fit in 139 characters, then "+N more". */
function fitList(make: (list: string) => string, items: string[]): string {
  for (let n = items.length; n > 0; n--) {
    const rest = items.length - n;
    const list = items.slice(0, n).join(', ') + (rest > 0 ? `, ${fill(pick(wording.cards['cmr-markers']!.summary, 'more', 'summary'), { count: rest })}` : '');
    const s = make(list);
    if (s.length <= MAX_SUMMARY) return s;
  }
  return make(items.length > 0 ? fill(pick(wording.cards['cmr-markers']!.summary, 'more', 'summary'), { count: items.length }) : '');
}

function latestDate(inputs: Input[]): string {
  const ms = inputs.map((x) => parseFhirDate(x.date)?.start).filter((x): x is number => x !== undefined);
  return ms.length > 0 ? isoDate(Math.max(...ms)) : '?';
}

const label = (name: string): string => labelOf(wording, 'inputLabels', name);
