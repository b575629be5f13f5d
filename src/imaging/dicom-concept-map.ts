// profiles/ConceptMap-dicom-to-imaging-cds.json, read once at start-up: DICOM SR concept names that
// feed a project code only in a context (dependsOn: the measurement group's source series class and
// its Finding). src/fhir/terminology.ts ignores these `narrower` maps; only this reader applies them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Coding } from 'fhir/r4.js';
import { z } from 'zod';
import { CANONICAL_BASE } from '../fhir/canonical.ts';
import { DEFAULT_PROFILES_DIR } from '../fhir/terminology.ts';
import type { SeriesClass } from './series-classifier.ts';

export const SERIES_CLASS_PROPERTY = `${CANONICAL_BASE}/dicom-context/series-class`;
export const FINDING_PROPERTY = `${CANONICAL_BASE}/dicom-context/finding`;

const conceptMapSchema = z.object({
  resourceType: z.literal('ConceptMap'),
  group: z.array(z.object({
    source: z.string(),
    target: z.string(),
    element: z.array(z.object({
      code: z.string(),
      target: z.array(z.object({
        code: z.string(),
        equivalence: z.string(),
        dependsOn: z.array(z.object({ property: z.string(), system: z.string().optional(), value: z.string() })).default([]),
      })).default([]),
    })),
  })),
});

interface Rule {
  target: Coding;
  seriesClass?: string;
  finding?: { system?: string; code: string };
}

/** Source `system|code` → the context-dependent targets. */
export type DicomConceptMap = ReadonlyMap<string, readonly Rule[]>;

export function loadDicomConceptMap(file = join(DEFAULT_PROFILES_DIR, 'ConceptMap-dicom-to-imaging-cds.json')): DicomConceptMap {
  return parseDicomConceptMap(JSON.parse(readFileSync(file, 'utf8')));
}

export function parseDicomConceptMap(json: unknown): DicomConceptMap {
  const cm = conceptMapSchema.parse(json);
  const map = new Map<string, Rule[]>();
  for (const g of cm.group) {
    for (const e of g.element) {
      for (const t of e.target) {
        const unknown = t.dependsOn.filter((d) => d.property !== SERIES_CLASS_PROPERTY && d.property !== FINDING_PROPERTY);
        // A condition this reader cannot check must not be silently dropped: fail at start-up.
        if (unknown.length > 0) throw new Error(`ConceptMap dicom-to-imaging-cds: unsupported dependsOn ${unknown.map((d) => d.property).join(', ')}`);
        if (t.equivalence !== 'narrower' && t.equivalence !== 'equivalent' && t.equivalence !== 'equal') continue;
        const series = t.dependsOn.find((d) => d.property === SERIES_CLASS_PROPERTY);
        const finding = t.dependsOn.find((d) => d.property === FINDING_PROPERTY);
        const rule: Rule = {
          target: { system: g.target, code: t.code },
          ...(series ? { seriesClass: series.value } : {}),
          ...(finding ? { finding: { code: finding.value, ...(finding.system ? { system: finding.system } : {}) } } : {}),
        };
        const key = `${g.source}|${e.code}`;
        map.set(key, [...(map.get(key) ?? []), rule]);
      }
    }
  }
  return map;
}

export interface ItemContext {
  /** Classes of the group's source series (DCM 121232), when the SR names one. */
  seriesClasses?: readonly SeriesClass[];
  /** The group's Finding (DCM 121071). */
  finding?: Coding;
}

/** Project codes this DICOM concept stands for in this context (all conditions must hold). */
export function mapConcept(map: DicomConceptMap, concept: Coding, ctx: ItemContext): Coding[] {
  const rules = map.get(`${concept.system ?? ''}|${concept.code ?? ''}`) ?? [];
  return rules
    .filter((r) => r.seriesClass === undefined || (ctx.seriesClasses ?? []).some((c) => c === r.seriesClass))
    .filter((r) => r.finding === undefined || (ctx.finding?.code === r.finding.code && (r.finding.system === undefined || ctx.finding.system === r.finding.system)))
    .map((r) => r.target);
}
