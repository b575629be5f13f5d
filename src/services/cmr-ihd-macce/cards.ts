// Cards of the cmr-ihd-macce service, worded from cards/cmr-ihd-macce.yaml (typed by wording.ts). At
// most two short cards:
//   - acute MI: one risk card (STEMI: CMR risk score, GRACE, TIMI; otherwise GRACE), or one
//     data-missing card when no score has enough inputs;
//   - a CMR markers card when CMR measurements exist (after the onset for an acute MI; the last year
//     for chronic disease, where it also says once that GRACE/TIMI do not apply).
import type { Card } from '../../hooks/types.ts';
import type { Input } from '../../models/types.ts';
import type { Shown, ShownResult } from '../model-notes.ts';
import { GRACE_BAND_TABLES, type GraceResult } from '../../models/grace.ts';
import type { ServiceEvaluation } from '../define.ts';
import { buildCard, inputsTable, MAX_SUMMARY, percent, round, unique } from '../card-kit.ts';
import { fill, labelOf, type Template } from '../card-wording.ts';
import { md, table } from '../markdown.ts';
import { parseFhirDate } from '../../fhir/observations.ts';
import { conditionText, type AcuteEvent } from './event.ts';
import type { MacceInputs } from './inputs.ts';
import { ITEMS, reportable, type MacceResults, type ShownAcuteScores } from './scores.ts';
import type { WordedFinding, WordedMarkers } from './markers.ts';
import { CMR_LOOKBACK_DAYS, isoDate } from './windows.ts';
import type { MacceWording } from './wording.ts';

type Ev = ServiceEvaluation<MacceWording>;
type AcuteTemplate = MacceWording['cards']['macce-risk'] | MacceWording['cards']['acute-mi-risk'];
type EventLineTemplate = { detail: { eventLine: Template<'text' | 'source' | 'onset'> } };

const LEVELS: Card['indicator'][] = ['info', 'warning', 'critical'];

/** The cards of the results: the acute card for an acute MI, the markers card when there is a CMR. */
export function macceCards(r: MacceResults, ev: Ev): Card[] {
  const cards: Card[] = [];
  if (r.acute) cards.push(acuteCard(r.inputs, r.acute, r.missingReasons, ev));
  // Chronic disease without a CMR in the look-back: no score applies and there is nothing to show.
  if (r.markers) cards.push(markersCard(r.inputs, r.markers, r.missingReasons, ev));
  return cards;
}

// ---------------------------------------------------------------------------------------------------
// Acute MI

function acuteCard(i: MacceInputs, s: ShownAcuteScores, reasons: Record<string, string>, ev: Ev): Card {
  const w = ev.wording;
  const event = i.acute!;
  const shown = [
    reportable(s.cmr, ITEMS.cmr) ? s.cmr : undefined,
    reportable(s.grace, ITEMS.grace) ? s.grace : undefined,
    reportable(s.timi, ITEMS.timi) ? s.timi : undefined,
  ].filter((r): r is ShownResult => r !== undefined);
  const all = [s.cmr, s.grace, s.timi].filter((r): r is ShownResult => r !== undefined);
  if (shown.length === 0) return dataMissingCard(i, all, reasons, ev);

  const template: AcuteTemplate = event.type === 'stemi' ? w.cards['macce-risk'] : w.cards['acute-mi-risk'];
  const d = template.detail;
  const notShown = all.filter((r) => !shown.includes(r)).map((r) => `${r.metadata.title}: not shown, too few inputs (${r.display ?? r.value ?? '—'} ${r.unit}).`);
  const notes = [
    ...s.statements.map((k) => w.text[k]),
    ...notShown,
    ...shown.flatMap((r) => (r.notes ?? []).map((n) => `${r.metadata.title}: ${n}`)),
  ];
  const detail = [
    eventLine(template, event),
    d.scoresHeading,
    scoresTable(shown, w),
    block(d.notesHeading, unique(notes)),
    missingBlock(d.missingHeading, all, reasons, !s.cmr && event.type === 'stemi', w),
    d.inputsHeading,
    inputsTable(shown.flatMap((r) => r.inputs), w.tables.inputLabels),
    block(d.derivationHeading, [...i.derivations, ...windowTexts(i, ev)]),
    shown.some((r) => r.model === 'cmr-risk-score') ? `_${md(w.text.cmrRates)}_` : '',
    shown.some((r) => r.metadata.evidence === 'secondary') ? `_${md(w.text.secondaryEvidence)}_` : '',
  ].filter((x) => x.length > 0).join('\n\n');

  return buildCard({
    ev, wording: w, template,
    summary: acuteSummary(template, event, shown, event.type === 'stemi' && !s.cmr, w),
    detail,
    indicator: acuteIndicator(shown, w),
    results: shown,
    imaging: { part: ev.imaging?.cmr, wording: w.imaging },
  });
}

function acuteSummary(template: AcuteTemplate, event: AcuteEvent, shown: ShownResult[], cmrNeeded: boolean, w: MacceWording): string {
  const s = template.summary;
  const prefix = fill(s.prefix, { event: w.tables.eventLabels[event.type], date: isoDate(event.onset.start) });
  const build = (short: boolean): string => {
    const parts = shown.map((r) => scorePhrase(s, r, short, w));
    if (cmrNeeded) parts.unshift(w.text.cmrNeeded);
    return prefix + parts.join('; ');
  };
  const full = build(false);
  return full.length <= MAX_SUMMARY ? full : build(true);
}

function scorePhrase(s: AcuteTemplate['summary'], r: ShownResult, short: boolean, w: MacceWording): string {
  const value = r.display ?? String(r.value);
  if (r.model === 'cmr-risk-score' || r.model === 'timi-stemi') {
    // Only the STEMI card (macce-risk) reports the CMR risk score and TIMI STEMI (scores.ts).
    if (!('cmr' in s)) throw new Error(`cards/cmr-ihd-macce.yaml: ${r.model} on a card that does not report it`);
    if (r.model === 'cmr-risk-score') {
      if (r.range) return fill(s.cmrRange, { range: value, count: missingItems(r) });
      const rate = (r as ShownResult & { macePer100PersonYears?: number }).macePer100PersonYears;
      return fill(s.cmr, { value, tier: r.tier ?? '?', rate: rate ?? '?' });
    }
    if (r.range) return fill(s.timiRange, { range: value, count: missingItems(r) });
    if (short) return fill(s.timiShort, { value });
    return fill(s.timi, { value, mortality: r.probability !== undefined ? percent(r.probability) : '?' });
  }
  if (r.range) return fill(s.graceRange, { range: value, count: missingItems(r) });
  if (short) return fill(s.graceShort, { value });
  const probability = r.probability !== undefined ? percent(r.probability) : '?';
  // An acute MI of unstated type: both band tables' readings (MODELS.md 1b).
  const g = r as Shown<GraceResult>;
  if (g.bands === 'both' && 'graceBoth' in s) return fill(s.graceBoth, { value, probability, readings: readingsText(g, w) });
  return fill(s.grace, { value, probability });
}

/**
 * Most severe of the CMR risk tier and the GRACE band (tables in the YAML: display choice). GRACE is read
 * with the bands of the MI type; an acute MI of unstated type by the more severe of its two readings,
 * and a predicted in-hospital death above a band table's high range (> 5 % STEMI, > 3 % NSTE-ACS,
 * MODELS.md 1b) counts as that table's high band, so a high probability is never beside an info card.
 */
function acuteIndicator(shown: ShownResult[], w: MacceWording): Card['indicator'] {
  let level = 0;
  const raise = (table: Readonly<Record<string, Card['indicator']>>, tier: string | undefined): void => {
    const v = tier !== undefined ? table[tier] : undefined;
    if (v) level = Math.max(level, LEVELS.indexOf(v));
  };
  for (const r of shown) {
    if (r.model === 'cmr-risk-score') raise(w.tables.cmrRiskIndicator, r.tier);
    if (r.model === 'grace-in-hospital') {
      const g = r as Shown<GraceResult>;
      raise(w.tables.graceIndicator, g.tier);
      for (const [key, reading] of Object.entries(g.readings ?? {}) as Array<[keyof typeof GRACE_BAND_TABLES, string]>) {
        raise(w.tables.graceIndicator, reading);
        if (g.probability !== undefined && g.probability > GRACE_BAND_TABLES[key].highRisk) raise(w.tables.graceIndicator, 'high');
      }
    }
  }
  return LEVELS[level] ?? 'info';
}

/** "high by the STEMI and NSTE-ACS bands" or "intermediate by the STEMI bands, high by the NSTE-ACS bands". */
function readingsText(g: Shown<GraceResult>, w: MacceWording): string {
  const { stemi, nsteAcs } = g.readings;
  const t = w.text;
  if (stemi !== undefined && stemi === nsteAcs) return fill(t.graceReadingsAgree, { tier: stemi });
  const undetermined = t.graceReadingUndetermined;
  return fill(t.graceReadings, { stemi: stemi ?? undetermined, nsteAcs: nsteAcs ?? undetermined });
}

function dataMissingCard(i: MacceInputs, all: ShownResult[], reasons: Record<string, string>, ev: Ev): Card {
  const w = ev.wording;
  const event = i.acute!;
  const template = w.cards['data-missing'];
  const missing = missingNames(all, event.type === 'stemi' && !all.some((r) => r.model === 'cmr-risk-score'));
  const d = template.detail;
  const missingShort: Readonly<Record<string, string>> = w.tables.missingShort;
  const detail = [
    eventLine(template, event),
    md(fill(d.intro, { days: ev.runtime.config.acuteMiWindowDays })),
    missingBlock(d.missingHeading, all, reasons, event.type === 'stemi' && !all.some((r) => r.model === 'cmr-risk-score'), w),
    block(d.derivationHeading, [...i.derivations, ...windowTexts(i, ev)]),
  ].filter((x) => x.length > 0).join('\n\n');
  return buildCard({
    ev, wording: w, template,
    summary: fitList(
      (list) => fill(template.summary.text, { event: w.tables.eventLabels[event.type], date: isoDate(event.onset.start), missing: list }),
      missing.map((n) => missingShort[n] ?? labelOf(w.tables.inputLabels, n)),
      w,
    ),
    detail,
    indicator: 'info',
    imaging: { part: ev.imaging?.cmr, wording: w.imaging },
    results: [],
  });
}

// ---------------------------------------------------------------------------------------------------
// CMR markers

function markersCard(i: MacceInputs, m: WordedMarkers, reasons: Record<string, string>, ev: Ev): Card {
  const w = ev.wording;
  const config = ev.runtime.config;
  const label = (name: string): string => labelOf(w.tables.inputLabels, name);
  const template = w.cards['cmr-markers'];
  const d = template.detail;
  const acute = i.acute !== undefined;
  const date = latestDate(m.inputs);
  const flagged = flaggedMarkers(m.findings, w);
  const summaryOf = (list: string): string =>
    acute
      ? fill(template.summary.acute, { date, markers: list })
      : fill(template.summary.chronic, { date, markers: list, days: config.acuteMiWindowDays });
  const summary = flagged.length > 0 ? fitList(summaryOf, flagged, w) : summaryOf(template.summary.none);

  const notes = [...m.notes];
  const notCmr = i.cmr.lvefNotCmr;
  if (notCmr) notes.push(fill(w.text.lvefNotCmr, { label: label(notCmr.name), value: round(notCmr.value, 1), date: (notCmr.date ?? '?').slice(0, 10) }));
  const onsetDay = (c: { onset?: string }): string => (c.onset ? isoDate(parseFhirDate(c.onset)?.start ?? 0) : '?');
  if (!acute && i.olderAcute) notes.push(fill(w.text.olderAcuteMi, { date: onsetDay(i.olderAcute), days: config.acuteMiWindowDays }));
  if (!acute && i.olderStemi) notes.push(fill(w.text.olderStemi, { date: onsetDay(i.olderStemi), days: config.acuteMiWindowDays }));
  if (!acute && i.undatedAcute) notes.push(fill(w.text.undatedAcuteMi, { source: i.undatedAcute.source }));
  const intro = acute
    ? fill(d.acuteIntro, { onset: i.acute?.onset.text ?? '?' })
    : fill(d.chronicIntro, { days: config.acuteMiWindowDays, cmrDays: CMR_LOOKBACK_DAYS });

  const detail = [
    md(intro),
    d.findingsHeading,
    findingsTable(m.findings, w),
    notMeasured(d.missingHeading, m.missing, reasons, label),
    block(d.notesHeading, unique(notes)),
    d.inputsHeading,
    inputsTable([...m.inputs, ...(notCmr ? [notCmr] : [])], w.tables.inputLabels),
  ].filter((x) => x.length > 0).join('\n\n');

  return buildCard({
    ev, wording: w, template, summary, detail,
    indicator: flagged.length > 0 ? w.tables.markersIndicator.flagged : w.tables.markersIndicator.none,
    // Markers are findings, not scores: no extension.scores, no RiskAssessment (DESIGN.md).
    results: [],
    imaging: { part: ev.imaging?.cmr, wording: w.imaging, inputs: m.inputs },
  });
}

/** Short names of the markers beyond their published threshold (or outside the site range), once each. */
function flaggedMarkers(findings: WordedFinding[], w: MacceWording): string[] {
  const short = w.tables.markerShort;
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of findings) {
    // The Bonanad combination repeats infarct size and LVEF, both already listed when it applies.
    if (f.flagged !== true || f.marker === 'infarctSizeWithLvef' || seen.has(f.marker)) continue;
    seen.add(f.marker);
    if (!(f.marker in short)) throw new Error(`cards/cmr-ihd-macce.yaml: tables.markerShort has no '${f.marker}'`);
    const v = f.inputs[0]?.value;
    out.push(fill(short[f.marker as keyof typeof short], { value: typeof v === 'number' ? round(v, 1) : String(v ?? '') }));
  }
  return out;
}

function findingsTable(findings: WordedFinding[], w: MacceWording): string {
  const state = (f: WordedFinding): string => w.tables.findingState[f.flagged === null ? 'null' : f.flagged ? 'true' : 'false'];
  const rows = findings.map((f) => [
    md(w.tables.markerLabels[f.marker]),
    md(f.statement),
    md(f.threshold),
    state(f),
    f.url ? `[${md(f.citation)}](${f.url})` : md(f.citation),
  ]);
  return table(['Marker', 'Finding', 'Threshold', 'State', 'Source'], rows);
}

function notMeasured(heading: string, missing: string[], reasons: Record<string, string>, label: (name: string) => string): string {
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

function eventLine(template: EventLineTemplate, event: AcuteEvent): string {
  // The Condition's text is FHIR text (untrusted): escaped with md(); the rest is ours.
  return fill(template.detail.eventLine, {
    text: md(conditionText(event.condition)),
    source: md(event.condition.source),
    onset: md(event.onset.text),
  });
}

function scoresTable(results: ShownResult[], w: MacceWording): string {
  const sources: Readonly<Record<string, string>> = w.tables.scoreSources;
  const rows = results.map((r) => [
    md(r.metadata.title + (r.metadata.evidence === 'secondary' ? ' (secondary)' : '')),
    md(scoreValue(r)),
    md(meaning(r, w)),
    md(sources[r.model] ?? r.metadata.citation),
  ]);
  return table(['Score', 'Value', 'Meaning', 'Source'], rows);
}

function scoreValue(r: ShownResult): string {
  const shown = r.display ?? String(round(r.value ?? NaN, 2));
  return `${shown} ${r.unit}${r.range ? ` (${missingItems(r)} item(s) missing)` : ''}`;
}

/** Items of the score not scored (TIMI's "diabetes, hypertension or angina" is one item). */
function missingItems(r: ShownResult): number {
  const items = r.model === 'cmr-risk-score' ? ITEMS.cmr : r.model === 'timi-stemi' ? ITEMS.timi : ITEMS.grace;
  return items - r.contributions.length;
}

function meaning(r: ShownResult, w: MacceWording): string {
  const parts: string[] = [];
  const g = r.model === 'grace-in-hospital' ? (r as Shown<GraceResult>) : undefined;
  if (g && g.bands !== 'stemi') {
    // Name the band table: the NSTE-ACS bands after an NSTEMI, both for an unstated type.
    for (const [key, reading] of Object.entries(g.readings ?? {}) as Array<[keyof typeof GRACE_BAND_TABLES, string]>) {
      parts.push(fill(w.text.graceReadingRow, { tier: reading, bands: GRACE_BAND_TABLES[key].name }));
    }
  } else if (r.tier) parts.push(`${r.tier} risk`);
  const rate = (r as ShownResult & { macePer100PersonYears?: number }).macePer100PersonYears;
  if (rate !== undefined) parts.push(`${rate} ${r.outcome ?? ''}`.trim());
  if (r.probability !== undefined && r.outcome) parts.push(`${r.outcome} ${percent(r.probability)}`);
  return parts.join('; ') || '—';
}

function missingNames(results: ShownResult[], cmrNeeded: boolean): string[] {
  return unique([...(cmrNeeded ? ['cmr'] : []), ...results.flatMap((r) => r.missing)]);
}

function missingBlock(heading: string, results: ShownResult[], reasons: Record<string, string>, cmrNeeded: boolean, w: MacceWording): string {
  const names = missingNames(results, cmrNeeded);
  if (names.length === 0) return '';
  const lines = names.map((name) => {
    const needers = name === 'cmr' ? ['CMR risk score'] : results.filter((r) => r.missing.includes(name)).map((r) => r.metadata.title);
    const reason = reasons[name] ? `: ${reasons[name]}` : '';
    return `- ${md(labelOf(w.tables.inputLabels, name))}${md(reason)} (needed by ${md(needers.join(', '))})`;
  });
  return `${heading}\n\n${lines.join('\n')}`;
}

function windowTexts(i: MacceInputs, ev: Ev): string[] {
  const t = ev.wording.text;
  const config = ev.runtime.config;
  const anchor = i.anchor?.kind === 'encounter' ? `admission (start of ${i.anchor.source}, ${i.anchor.text})` : 'MI onset';
  return [
    fill(t.windowAdmission, { anchor }),
    fill(t.enzymesRule, { anchor }),
    fill(t.windowPresentation, { anchor, days: config.acuteMiWindowDays }),
    fill(t.windowWeight, { bodyDays: config.bodyLookbackDays }),
    t.windowReperfusion,
    t.windowHistory,
  ];
}

function block(heading: string, lines: string[]): string {
  const kept = lines.filter((l) => l.length > 0);
  return kept.length > 0 ? `${heading}\n\n${kept.map((l) => `- ${md(l)}`).join('\n')}` : '';
}

/** Fill a summary with as many list items as fit in 139 characters, then "+N more". */
function fitList(make: (list: string) => string, items: string[], w: MacceWording): string {
  const more = w.cards['cmr-markers'].summary.more;
  for (let n = items.length; n > 0; n--) {
    const rest = items.length - n;
    const list = items.slice(0, n).join(', ') + (rest > 0 ? `, ${fill(more, { count: rest })}` : '');
    const s = make(list);
    if (s.length <= MAX_SUMMARY) return s;
  }
  return make(items.length > 0 ? fill(more, { count: items.length }) : '');
}

function latestDate(inputs: Input[]): string {
  const ms = inputs.map((x) => parseFhirDate(x.date)?.start).filter((x): x is number => x !== undefined);
  return ms.length > 0 ? isoDate(Math.max(...ms)) : '?';
}
