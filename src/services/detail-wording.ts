// The detail view's wording (cards/smart-detail.yaml) and the CMR report template
// (cards/cmr-report.yaml): data a clinician may edit, loaded and validated once at start-up so that a
// typo fails the start, not a launch.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { INTEGER_UNITS, QUANTITIES, type IntegerUnitsName, type QuantityName } from '../fhir/quantities.ts';

const CARDS_DIR = new URL('../../cards/', import.meta.url);

export const DetailWordingSchema = z.strictObject({
  evidence: z.strictObject({ primary: z.string().min(1), secondary: z.string().min(1) }),
  text: z.strictObject({
    range: z.string(),
    rangeNoMissing: z.string(),
    missingNoReason: z.string(),
    declined: z.string(),
    notApplicable: z.string(),
    cardDiffers: z.string(),
    otherPatientDropped: z.string(),
  }),
});

const Coding = z.object({ system: z.url(), code: z.string().min(1), display: z.string().min(1) });

const ReportItemTemplate = z.object({
  key: z.string().min(1),
  label: z.string().min(1),
  /** ValueSet short name (profiles/) the value is read from; absent = no code yet: not assessed. */
  valueSet: z.string().min(1).optional(),
  kind: z.enum(['quantity', 'integer', 'boolean', 'code']).default('quantity'),
  /** Quantity items: what the value is (src/fhir/quantities.ts), so a unit meaning another quantity is refused. */
  quantity: z.enum(Object.keys(QUANTITIES) as [QuantityName, ...QuantityName[]]).optional(),
  /** Integer items: the units that mean a count or a grade (src/fhir/quantities.ts). */
  units: z.enum(Object.keys(INTEGER_UNITS) as [IntegerUnitsName, ...IntegerUnitsName[]]).optional(),
  /** Technique items: ValueSets whose results show the sequence was acquired. */
  evidence: z.array(z.string().min(1)).optional(),
});

const ReportSectionTemplate = z.object({
  key: z.string().min(1),
  title: z.string().min(1),
  /** Only for these services (default: every cardiac service). */
  services: z.array(z.string()).optional(),
  items: z.array(ReportItemTemplate).default([]),
  /** Lines the service fills in (indication, comparison, impression). */
  computed: z.array(z.enum(['indication', 'comparison', 'impression'])).default([]),
});

export const ReportTemplateSchema = z.object({
  title: z.string().min(1),
  guideline: z.string().min(1),
  notAssessed: z.string().min(1),
  draftNotice: z.string().min(1),
  code: Coding,
  categories: z.array(Coding),
  text: z.object({
    measured: z.string(),
    notAssessed: z.string(),
    performed: z.string(),
    indication: z.string(),
    noIndication: z.string(),
    comparison: z.string(),
    noComparison: z.string(),
    impressionScore: z.string(),
    impressionFinding: z.string(),
    impressionNone: z.string(),
    present: z.string(),
    absent: z.string(),
  }),
  evidenceLabels: z.record(z.string(), z.string()).default({}),
  sections: z.array(ReportSectionTemplate).min(1),
});

export type DetailWording = z.infer<typeof DetailWordingSchema>;
export type ReportTemplate = z.infer<typeof ReportTemplateSchema>;
export type ReportItemTemplate = z.infer<typeof ReportItemTemplate>;

function load<T>(file: string, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(parse(readFileSync(new URL(file, CARDS_DIR), 'utf8')));
  if (!parsed.success) {
    throw new Error(`cards/${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export function loadDetailWording(): DetailWording {
  return load('smart-detail.yaml', DetailWordingSchema);
}

export function loadReportTemplate(): ReportTemplate {
  return load('cmr-report.yaml', ReportTemplateSchema);
}
