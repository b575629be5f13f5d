// Card wording lives in cards/<service>.yaml (data that clinicians may edit, each statement with its
// source). This module loads and validates it once, and fills `{placeholders}`.
// Topics and override reasons are named by code only: their displays come from the project
// CodeSystems in profiles/ (card-topics, override-reasons), the one place they are defined, so a card
// can never send a code the CodeSystem lacks or a display that differs from it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem, CodeSystemConcept } from 'fhir/r4.js';
import { parse } from 'yaml';
import { z } from 'zod';
import { DEFAULT_PROFILES_DIR } from '../fhir/terminology.ts';

const Source = z.object({ label: z.string().min(1), url: z.url() });
const Code = z.string().min(1);

const CardTemplateSource = z.object({
  topic: Code,
  source: Source,
  summary: z.record(z.string(), z.string().min(1)),
  detail: z.record(z.string(), z.string()).default({}),
});

const CardWordingSource = z.object({
  service: z.string().min(1),
  overrideReasons: z.array(Code).min(1),
  cards: z.record(z.string(), CardTemplateSource),
  /** Free text blocks (guidance, caveats), each naming its source in the text. */
  text: z.record(z.string(), z.string()).default({}),
  /** Named lookup tables, e.g. tier -> indicator, tier -> statement. */
  tables: z.record(z.string(), z.record(z.string(), z.string())).default({}),
});

/** A code of one of our CodeSystems with the display the CodeSystem gives it. */
export interface CodeDisplay {
  code: string;
  display: string;
}

export type CardTemplate = Omit<z.infer<typeof CardTemplateSource>, 'topic'> & { topic: CodeDisplay };
export type CardWording = Omit<z.infer<typeof CardWordingSource>, 'overrideReasons' | 'cards'> & {
  overrideReasons: CodeDisplay[];
  cards: Record<string, CardTemplate>;
};

const CARDS_DIR = new URL('../../cards/', import.meta.url);

/**
 * Texts every card file must have, because card-kit.ts shows them on any card (checked at load, so a
 * missing one fails the start): the notice that resources about another patient were ignored.
 */
export const COMMON_TEXTS = ['otherPatientDataIgnored'] as const;

export function loadCardWording(serviceId: string, profilesDir: string = DEFAULT_PROFILES_DIR): CardWording {
  const where = `cards/${serviceId}.yaml`;
  const raw: unknown = parse(readFileSync(new URL(`${serviceId}.yaml`, CARDS_DIR), 'utf8'));
  const parsed = CardWordingSource.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${where} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const missingTexts = COMMON_TEXTS.filter((k) => !parsed.data.text[k]);
  if (missingTexts.length > 0) throw new Error(`${where} is invalid: text.${missingTexts.join(', text.')} is required`);
  const topics = codeSystemDisplays(profilesDir, 'card-topics');
  const reasons = codeSystemDisplays(profilesDir, 'override-reasons');
  const resolve = (displays: ReadonlyMap<string, string>, system: string, code: string): CodeDisplay => {
    const display = displays.get(code);
    if (display === undefined) throw new Error(`${where}: '${code}' is not a code of CodeSystem ${system} (profiles/)`);
    return { code, display };
  };
  const { overrideReasons, cards, ...rest } = parsed.data;
  return {
    ...rest,
    overrideReasons: overrideReasons.map((code) => resolve(reasons, 'override-reasons', code)),
    cards: Object.fromEntries(Object.entries(cards).map(([kind, t]) => [kind, { ...t, topic: resolve(topics, 'card-topics', t.topic) }])),
  };
}

/** code → display of profiles/CodeSystem-<id>.json (nested concepts included). */
function codeSystemDisplays(profilesDir: string, id: string): Map<string, string> {
  const cs = JSON.parse(readFileSync(join(profilesDir, `CodeSystem-${id}.json`), 'utf8')) as CodeSystem;
  const out = new Map<string, string>();
  const walk = (concepts: readonly CodeSystemConcept[] | undefined): void => {
    for (const c of concepts ?? []) {
      out.set(c.code, c.display ?? c.code);
      walk(c.concept);
    }
  };
  walk(cs.concept);
  return out;
}

/** Fills `{name}` placeholders; an unknown placeholder is a wording bug and throws (tests catch it). */
export function fill(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{([a-zA-Z0-9_]+)\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`Card wording placeholder {${name}} has no value`);
    return String(v);
  });
}

export function lookup(wording: CardWording, tableName: string, key: string): string {
  const value = wording.tables[tableName]?.[key];
  if (value === undefined) throw new Error(`cards/${wording.service}.yaml: table '${tableName}' has no entry '${key}'`);
  return value;
}

/** A display label from a wording table, or the key itself when the table has none (never throws). */
export function labelOf(wording: CardWording, tableName: string, key: string): string {
  return wording.tables[tableName]?.[key] ?? key;
}

export function pick<T>(record: Record<string, T>, key: string, where: string): T {
  const value = record[key];
  if (value === undefined) throw new Error(`Card wording: no '${key}' in ${where}`);
  return value;
}
