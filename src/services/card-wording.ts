// Card wording lives in cards/<service>.yaml (data that clinicians may edit, each statement with its
// source). This module loads and validates it once, and fills `{placeholders}`.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const Source = z.object({ label: z.string().min(1), url: z.url() });
const Coding = z.object({ code: z.string().min(1), display: z.string().min(1) });

const CardTemplate = z.object({
  topic: Coding,
  source: Source,
  summary: z.record(z.string(), z.string().min(1)),
  detail: z.record(z.string(), z.string()).default({}),
});

const CardWordingSchema = z.object({
  service: z.string().min(1),
  overrideReasons: z.array(Coding).min(1),
  cards: z.record(z.string(), CardTemplate),
  /** Free text blocks (guidance, caveats), each naming its source in the text. */
  text: z.record(z.string(), z.string()).default({}),
  /** Named lookup tables, e.g. tier -> indicator, tier -> statement. */
  tables: z.record(z.string(), z.record(z.string(), z.string())).default({}),
});

export type CardWording = z.infer<typeof CardWordingSchema>;
export type CardTemplate = z.infer<typeof CardTemplate>;

const CARDS_DIR = new URL('../../cards/', import.meta.url);

export function loadCardWording(serviceId: string): CardWording {
  const raw: unknown = parse(readFileSync(new URL(`${serviceId}.yaml`, CARDS_DIR), 'utf8'));
  const parsed = CardWordingSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`cards/${serviceId}.yaml is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
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
