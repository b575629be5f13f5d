// Cardiac MR series classes from series-patterns.json (data, validated when loaded). BodyPartExamined
// is often absent (DESIGN.md "Imaging"), so the description carries most of the signal; ImageType and
// the cine's number of cardiac phases add to it where the archive returns them.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const SERIES_CLASSES = [
  'cine', 'lge', 't1-map', 't1-map-post-contrast', 't2-map', 'ecv-map', 'perfusion', 'ti-scout', 'strain', 'sr', 'seg',
] as const;
export type SeriesClass = (typeof SERIES_CLASSES)[number];

const regex = z.string().transform((s, ctx) => {
  try {
    return new RegExp(s, 'i');
  } catch {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${s}` });
    return z.NEVER;
  }
});

const patternsSchema = z.object({
  description: z.string(),
  rules: z.array(z.object({
    class: z.enum(SERIES_CLASSES),
    description: z.array(regex).default([]),
    imageType: z.array(z.string()).default([]),
    timing: z.object({ cardiacNumberOfImagesAtLeast: z.number().int().positive() }).optional(),
    unless: z.array(regex).default([]),
    sources: z.array(z.string()).min(1),
  })),
  byModality: z.record(z.string(), z.enum(SERIES_CLASSES)),
});
export type SeriesPatterns = z.infer<typeof patternsSchema>;

export const DEFAULT_SERIES_PATTERNS_FILE = new URL('./series-patterns.json', import.meta.url);

/** Reads and validates the pattern file (start-up: a bad pattern fails the start, not a hook call). */
export function loadSeriesPatterns(file: URL | string = DEFAULT_SERIES_PATTERNS_FILE): SeriesPatterns {
  return parseSeriesPatterns(JSON.parse(readFileSync(file, 'utf8')));
}

export function parseSeriesPatterns(json: unknown): SeriesPatterns {
  return patternsSchema.parse(json);
}

/** What QIDO (or instance metadata) tells about one series. */
export interface SeriesFacts {
  modality?: string;
  description?: string;
  protocolName?: string;
  imageType?: string[];
  cardiacNumberOfImages?: number;
}

export function classifySeries(facts: SeriesFacts, patterns: SeriesPatterns): SeriesClass[] {
  const byModality = facts.modality ? patterns.byModality[facts.modality.toUpperCase()] : undefined;
  if (byModality) return [byModality];
  const texts = [facts.description, facts.protocolName].filter((t): t is string => t !== undefined && t !== '');
  const imageType = new Set((facts.imageType ?? []).map((t) => t.toUpperCase()));
  const out: SeriesClass[] = [];
  for (const rule of patterns.rules) {
    if (texts.some((t) => rule.unless.some((r) => r.test(t)))) continue;
    const byText = texts.some((t) => rule.description.some((r) => r.test(t)));
    const byImageType = rule.imageType.some((t) => imageType.has(t.toUpperCase()));
    const byTiming = rule.timing !== undefined && (facts.cardiacNumberOfImages ?? 0) >= rule.timing.cardiacNumberOfImagesAtLeast;
    if ((byText || byImageType || byTiming) && !out.includes(rule.class)) out.push(rule.class);
  }
  // A post-contrast T1 map is not also a (native) T1 map.
  return out.includes('t1-map-post-contrast') ? out.filter((c) => c !== 't1-map') : out;
}
