// Card wording lives in cards/<service>.yaml (data that clinicians may edit, each statement with its
// source). Each service declares the schema of its file with the helpers below (strict objects: every
// key explicit, every text with the {placeholders} it may use), and the runtime loads and validates
// every file once at start-up (loadServiceWording): a missing or misspelt key, or a placeholder the
// code cannot fill, stops the start naming the file and the key path.
// Topics and override reasons are named by code only: their displays come from the project
// CodeSystems in profiles/ (card-topics, override-reasons), the one place they are defined, so a card
// can never send a code the CodeSystem lacks or a display that differs from it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeSystem, CodeSystemConcept } from 'fhir/r4.js';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Card } from '../hooks/types.ts';

/** A code of one of our CodeSystems with the display the CodeSystem gives it. */
export interface CodeDisplay {
  code: string;
  display: string;
}

declare const PLACEHOLDERS: unique symbol;
/** A wording text whose `{placeholders}` are among V (checked when the file is loaded). */
export type Template<V extends string = never> = string & { readonly [PLACEHOLDERS]?: V };

const PLACEHOLDER = /\{([a-zA-Z0-9_]+)\}/g;
const PLACEHOLDER_NAME = /^[a-zA-Z0-9_]+$/;

/**
 * A text of a wording file that may use the placeholders `vars` (and no other): the code fills them
 * with `fill`, whose type asks for exactly these values.
 */
export function phrase<const V extends readonly string[]>(...vars: V): z.ZodType<Template<V[number]>, string> {
  const allowed = new Set<string>(vars);
  const listed = vars.length > 0 ? vars.map((v) => `{${v}}`).join(', ') : 'none';
  return z.string().min(1).superRefine((s, ctx) => {
    for (const m of s.matchAll(PLACEHOLDER)) {
      if (!allowed.has(m[1] ?? '')) ctx.addIssue({ code: 'custom', message: `placeholder {${m[1]}} cannot be filled here (this text may use: ${listed})` });
    }
  }).transform((s): Template<V[number]> => s);
}

/**
 * Fills `{name}` placeholders; one without a value is a wording bug and throws. A scan with indexOf
 * rather than replace() with a callback: a card fills about a hundred texts per call.
 */
export function fill<V extends string>(template: Template<V>, vars: Readonly<Record<V, string | number>>): string {
  const values: Readonly<Record<string, string | number | undefined>> = vars;
  let out = '';
  let from = 0;
  for (let open = template.indexOf('{'); open !== -1; open = template.indexOf('{', open + 1)) {
    const close = template.indexOf('}', open + 1);
    if (close === -1) break;
    const name = template.slice(open + 1, close);
    if (!PLACEHOLDER_NAME.test(name)) continue;
    const v = values[name];
    if (v === undefined) throw new Error(`Card wording placeholder {${name}} has no value`);
    out += template.slice(from, open) + String(v);
    from = close + 1;
    open = close;
  }
  return from === 0 ? template : out + template.slice(from);
}

/** A display label from a label table, or the key itself when the table has none (never throws). */
export function labelOf(labels: Readonly<Record<string, string>>, key: string): string {
  return labels[key] ?? key;
}

/** A card indicator chosen in a wording table (a display choice, documented in the file). */
export const indicator = z.enum(['info', 'warning', 'critical']) satisfies z.ZodType<Card['indicator']>;

/** Display labels by key (input names, codes): a key without a label shows the key. */
export const labels = z.record(z.string(), z.string().min(1));

const Source = z.strictObject({ label: z.string().min(1), url: z.url() });

/** Schemas of the codes a wording file names, resolved against the project CodeSystems. */
export interface WordingCodes {
  topic: z.ZodType<CodeDisplay, string>;
  overrideReason: z.ZodType<CodeDisplay, string>;
}

/** A card template: its topic (card-topics code), source, and its summary and detail texts. */
export function card<S extends z.ZodRawShape, D extends z.ZodRawShape>(codes: WordingCodes, summary: S, detail: D) {
  return z.strictObject({ topic: codes.topic, source: Source, summary: z.strictObject(summary), detail: z.strictObject(detail) });
}

/**
 * Texts every service's file has, because card-kit.ts puts them on any card: the notice that
 * resources about another patient were ignored, and the label of the card's SMART link.
 */
export const COMMON_TEXT = {
  otherPatientDataIgnored: phrase(),
  openDetailView: phrase(),
};

/**
 * The `imaging` section of the file of a service that declares imaging (card-kit.ts imagingBlock):
 * the line saying the archive could not be used, the study the inputs came from and why it was
 * chosen, the line when the record's results were newer, and the "Open images" link label.
 */
export const imagingWording = z.strictObject({
  unavailable: phrase(),
  study: phrase('description', 'modality', 'date', 'chosen'),
  chosenOnly: phrase(),
  chosenNewest: phrase('count'),
  notUsed: phrase(),
  openImages: phrase(),
});
export type ImagingWording = z.output<typeof imagingWording>;

/** The top level of a service's wording file: its id, override reasons, cards, tables and texts. */
export function serviceWording<C extends z.ZodRawShape, T extends z.ZodRawShape, X extends z.ZodRawShape, E extends z.ZodRawShape = {}>(
  codes: WordingCodes,
  serviceId: string,
  shape: { cards: C; tables: T; text: X; extra?: E },
) {
  return z.strictObject({
    service: z.literal(serviceId),
    overrideReasons: z.array(codes.overrideReason).min(1),
    cards: z.strictObject(shape.cards),
    tables: z.strictObject(shape.tables),
    text: z.strictObject({ ...COMMON_TEXT, ...shape.text }),
    ...(shape.extra ?? ({} as E)),
  });
}

/** What card-kit.ts and the runtime read of any service's wording. */
export interface CommonWording {
  overrideReasons: readonly CodeDisplay[];
  cards: Readonly<Record<string, { topic: CodeDisplay }>>;
  text: { otherPatientDataIgnored: string; openDetailView: string };
}

/** The schema of a service's wording file, given the code resolvers (the service's declaration holds it). */
export type WordingSchema<W> = (codes: WordingCodes) => z.ZodType<W>;

/** A wording file that cannot be used: one line per problem, each naming the file. */
export class WordingError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string | readonly string[]) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('; '));
    this.name = 'WordingError';
    this.problems = list;
  }
}

export interface WordingDirs {
  /** Default: the repository's cards/. */
  cardsDir?: string;
  /** Default: the repository's profiles/ (the CodeSystems of topics and override reasons). */
  profilesDir: string;
}

/** The repository's cards/ (also hashed into the config fingerprint: src/config-fingerprint.ts). */
export const DEFAULT_CARDS_DIR = fileURLToPath(new URL('../../cards/', import.meta.url));

/** Code resolvers for the wording schemas: a code must be one of the CodeSystem's, its display taken from it. */
export function wordingCodes(profilesDir: string): WordingCodes {
  const resolver = (id: string): z.ZodType<CodeDisplay, string> => {
    const displays = codeSystemDisplays(profilesDir, id);
    return z.string().min(1).transform((code, ctx): CodeDisplay => {
      const display = displays.get(code);
      if (display === undefined) {
        ctx.addIssue({ code: 'custom', message: `'${code}' is not a code of CodeSystem ${id} (profiles/)` });
        return z.NEVER;
      }
      return { code, display };
    });
  };
  return { topic: resolver('card-topics'), overrideReason: resolver('override-reasons') };
}

/** Reads and validates cards/<serviceId>.yaml with the service's schema. */
export function loadServiceWording<W>(serviceId: string, schema: WordingSchema<W>, dirs: WordingDirs, codes: WordingCodes = wordingCodes(dirs.profilesDir)): W {
  const where = `cards/${serviceId}.yaml`;
  const file = join(dirs.cardsDir ?? DEFAULT_CARDS_DIR, `${serviceId}.yaml`);
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new WordingError(`${where} cannot be read: ${(e as Error).message}`);
  }
  const parsed = schema(codes).safeParse(raw);
  if (!parsed.success) throw new WordingError(parsed.error.issues.map((i) => describeIssue(where, i)));
  return parsed.data;
}

/** One problem of a wording file, naming the file and the key path. */
function describeIssue(where: string, issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') return `${where}: unknown key ${issue.keys.map((k) => (path ? `${path}.${k}` : k)).join(', ')}`;
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return `${where}: missing key ${path}`;
  if (issue.code === 'custom') return `${where}: ${issue.message}${path ? ` (at ${path})` : ''}`;
  return `${where}: ${path ? `${path}: ` : ''}${issue.message}`;
}

/** code → display of profiles/CodeSystem-<id>.json (nested concepts included). */
export function codeSystemDisplays(profilesDir: string, id: string): Map<string, string> {
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
