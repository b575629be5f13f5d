// Shared card construction for every service: the CDS Hooks 2.0 card rules (uuid, summary < 140
// chars, source with topic, overrideReasons, smart link, one "Save to chart" suggestion creating
// RiskAssessments) and the machine-readable `extension.scores` contract of DESIGN.md.
import { randomUUID } from 'node:crypto';
import type { RiskAssessment, Reference } from 'fhir/r4.js';
import type { Card, Link, Suggestion } from '../hooks/types.ts';
import type { Input, ModelId, ModelResult } from '../models/types.ts';

/** A result a card reports (its notes, worded or not, are the card's detail, not read here). */
type Reported = Omit<ModelResult, 'notes'>;
import type { Evaluation } from './types.ts';
import type { CodeDisplay, CommonWording } from './card-wording.ts';
import {
  CARD_TOPIC_CODESYSTEM, MODEL_CODESYSTEM, OVERRIDE_REASON_CODESYSTEM, structureDefinitionUrl,
} from '../fhir/canonical.ts';
import { md, table } from './markdown.ts';

/** CDS Hooks 2.0: "summary ... SHOULD be <140 characters". */
export const MAX_SUMMARY = 139;

export interface ScoreEntry {
  model: ModelId;
  value: number;
  unit: string;
  tier?: string;
  probability?: number;
  missing: string[];
  inputs: Array<{ name: string; value: number | boolean | string; unit?: string; date?: string; source: string }>;
}

/** DESIGN.md "Machine-readable results": one entry per computed score (declined models are absent). */
export function scoreEntries(results: readonly Reported[]): ScoreEntry[] {
  return results
    .filter((r): r is Reported & { value: number } => r.value !== null)
    .map((r) => ({
      model: r.model,
      value: r.value,
      unit: r.unit,
      ...(r.tier !== undefined ? { tier: r.tier } : {}),
      ...(r.probability !== undefined ? { probability: r.probability } : {}),
      missing: r.missing,
      inputs: r.inputs.map((i) => ({
        name: i.name,
        value: i.value,
        ...(i.unit !== undefined ? { unit: i.unit } : {}),
        ...(typeof i.date === 'string' ? { date: i.date } : {}),
        source: i.source,
      })),
    }));
}

/** What buildCard reads of a card template of the wording file. */
export interface CardTemplate {
  topic: CodeDisplay;
  source: { label: string; url: string };
}

export interface CardSpec {
  ev: Evaluation;
  wording: CommonWording;
  template: CardTemplate;
  summary: string;
  detail: string;
  indicator: Card['indicator'];
  /** Results this card reports: extension.scores, the RiskAssessments, the appContext. */
  results: readonly Reported[];
  /** Whether to offer "Save to chart" (only when at least one score was computed). */
  offerSave?: boolean;
}

export function buildCard(spec: CardSpec): Card {
  const { ev, wording, template, results } = spec;
  const ctx = ev.call;
  const computed = results.filter((r) => r.value !== null);
  const summary = spec.summary.length > MAX_SUMMARY ? `${spec.summary.slice(0, MAX_SUMMARY - 1)}…` : spec.summary;
  const card: Card = {
    uuid: randomUUID(),
    summary,
    indicator: spec.indicator,
    source: {
      label: template.source.label,
      url: template.source.url,
      topic: { system: CARD_TOPIC_CODESYSTEM, code: template.topic.code, display: template.topic.display },
    },
    overrideReasons: wording.overrideReasons.map((r) => ({ system: OVERRIDE_REASON_CODESYSTEM, code: r.code, display: r.display })),
    links: [smartLink(ev, wording.text.openDetailView, template.topic.code, computed)],
  };
  const detail = ctx.otherPatientDataIgnored
    ? [`_${md(wording.text.otherPatientDataIgnored)}_`, spec.detail].filter((x) => x.trim().length > 0).join('\n\n')
    : spec.detail;
  if (detail.trim().length > 0) card.detail = detail;
  if ((spec.offerSave ?? true) && computed.length > 0) {
    card.suggestions = [saveToChart(ctx, computed)];
    card.selectionBehavior = 'at-most-one';
  }
  if (results.length > 0) card.extension = { scores: scoreEntries(results) };
  return card;
}

/**
 * The `smart` link with a compact appContext (CDS Hooks 2.0 §"Link"): the service, the card topic
 * and the scores, so the detail app can open on the right view without a second computation.
 */
function smartLink(ev: Evaluation, label: string, topic: string, results: readonly Reported[]): Link {
  const scores: Record<string, number> = {};
  for (const r of results) if (r.value !== null) scores[r.model] = Math.round(r.value * 100) / 100;
  return {
    label,
    url: ev.runtime.config.smartLaunchUrl,
    type: 'smart',
    appContext: JSON.stringify({ s: topic, h: ev.call.hookInstance, v: scores }),
  };
}

/** One suggestion, one RiskAssessment per computed score (method = the model, basis = resources used). */
function saveToChart(ctx: Evaluation['call'], results: readonly Reported[]): Suggestion {
  return {
    label: 'Save to chart',
    uuid: randomUUID(),
    actions: results.map((r) => ({
      type: 'create' as const,
      description: `Record ${r.metadata.title} in the patient's chart`,
      resource: riskAssessment(ctx, r),
    })),
  };
}

export function riskAssessment(ctx: Evaluation['call'], r: Reported): RiskAssessment {
  const basis: Reference[] = [];
  const seen = new Set<string>();
  for (const i of r.inputs) {
    // Only FHIR references belong in basis; DICOM and derived inputs are described in the note.
    if (/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(i.source) && !seen.has(i.source)) {
      seen.add(i.source);
      basis.push({ reference: i.source });
    }
  }
  const ra: RiskAssessment = {
    resourceType: 'RiskAssessment',
    meta: { profile: [structureDefinitionUrl('cds-risk-assessment')] },
    status: 'final',
    subject: { reference: `Patient/${ctx.patientId}` },
    occurrenceDateTime: ctx.now.toISOString(),
    method: { coding: [{ system: MODEL_CODESYSTEM, code: r.model, display: r.metadata.title }], text: r.metadata.title },
    note: [{ text: `${r.metadata.title}: ${r.display ?? String(r.value)} ${r.unit}${r.tier ? ` (${r.tier})` : ''}. Source: ${r.metadata.citation}` }],
  };
  if (basis.length > 0) ra.basis = basis;
  if (r.outcome !== undefined) {
    ra.prediction = [{
      outcome: { text: r.outcome },
      ...(r.probability !== undefined ? { probabilityDecimal: round(r.probability, 4) } : {}),
      ...(r.tier !== undefined ? { qualitativeRisk: { text: r.tier } } : {}),
    }];
  }
  return ra;
}

/**
 * Markdown table of the inputs a card used, with their dates and sources (untrusted text escaped).
 * `valueText` words a value the service knows more about (e.g. dialysis "none recorded" rather than "no").
 */
export function inputsTable(inputs: Input[], labels: Record<string, string> = {}, valueText: (i: Input) => string | undefined = () => undefined): string {
  const rows = dedupeInputs(inputs).map((i) => [
    md(labels[i.name] ?? i.name),
    md(valueText(i) ?? formatValue(i)),
    md(typeof i.date === 'string' && i.date !== '' ? i.date.slice(0, 10) : '—'),
    md(i.source),
  ]);
  return table(['Input', 'Value', 'Date', 'Source'], rows);
}

function dedupeInputs(inputs: Input[]): Input[] {
  const byName = new Map<string, Input>();
  for (const i of inputs) if (!byName.has(i.name)) byName.set(i.name, i);
  return [...byName.values()];
}

/** UCUM codes as clinicians read them. */
const DISPLAY_UNITS: Record<string, string> = { a: 'years', '1': '', 'cm2/m2': 'cm²/m²', cm2: 'cm²', 'kg/m2': 'kg/m²', umol: 'µmol', 'umol/L': 'µmol/L' };

export function displayUnit(unit: string | undefined): string {
  if (unit === undefined) return '';
  return DISPLAY_UNITS[unit] ?? unit;
}

function formatValue(i: Input): string {
  const value = typeof i.value === 'number' ? String(round(i.value, 2)) : typeof i.value === 'boolean' ? (i.value ? 'yes' : 'no') : i.value;
  const unit = displayUnit(i.unit) ? ` ${displayUnit(i.unit)}` : '';
  const original = i.original ? ` (recorded ${round(i.original.value, 2)} ${displayUnit(i.original.unit)})` : '';
  return `${value}${unit}${original}`;
}

export function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function percent(p: number, digits = 1): string {
  return `${round(p * 100, digits)} %`;
}
