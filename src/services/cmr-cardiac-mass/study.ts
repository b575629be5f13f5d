// Which CMR study the cardiac-mass features come from. Pure: no I/O.
//
// MODELS.md "Time windows": imaging inputs come from the most recent qualifying study. Mixing features
// of two CMRs (say, before and after anticoagulation) would score a mass that was never seen, so all
// features are read from ONE study, chosen within the look-back (config.bodyLookbackDays, 365 days by
// default: the project's imaging/body-composition look-back):
//   1. The most recent `cardiac-mass` CMR finding (project code, ValueSet cardiac-mass-finding) is the
//      mass report. When it is true and links its features with `hasMember` (as our CMR finding
//      profile and the demo data do), the study is exactly those members.
//   2. Otherwise the study is the set of cardiac-mass Observations dated on the same UTC day as the
//      report (or, without a report, as the newest mass feature within the look-back).
//   3. When the most recent finding is false (that CMR saw no mass), no CMR features are used.
// Native T1 is not read at all: the thrombus criterion "T1 ≥ 422 ms" is the post-contrast T1 of the
// mass (project code mass-post-contrast-t1, MODELS.md 2b), which names the mass and anchors a study
// like any other feature.
import type { Observation } from 'fhir/r4.js';
import type { Input } from '../../models/types.ts';
import { arrayOf, observationDate, type Lookup } from '../../fhir/observations.ts';
import type { FhirReader } from '../../fhir/reader.ts';
import { QUANTITIES } from '../../fhir/quantities.ts';

export interface MassStudy {
  /** UTC day (YYYY-MM-DD) of the study. */
  day: string;
  /** The Observations of the study (report and features). */
  observations: Observation[];
  /** True when the features are the hasMember of the mass report. */
  linked: boolean;
  /** 'Observation/<id>' of the mass report, when there is one. */
  report?: string;
}

export interface StudyChoice {
  /** The most recent cardiac-mass finding within the look-back (true or false). */
  finding?: Input<boolean>;
  study?: MassStudy;
  /** The most recent finding is false: that CMR saw no mass. */
  noMassOnLatestCmr: boolean;
}

/** Every ValueSet of a mass feature that can anchor a study without a report. */
export const FEATURE_VALUE_SETS = {
  boolean: [
    'mass-infiltration', 'mass-first-pass-perfusion', 'mass-sessile', 'mass-polylobate', 'mass-pericardial-effusion',
    'mass-heterogeneous-enhancement', 'mass-ti-scout-thrombus-pattern', 'mass-lge', 'mass-homogeneous',
  ],
  quantity: [['mass-area', QUANTITIES.massArea], ['mass-diameter', QUANTITIES.massDiameter], ['mass-post-contrast-t1', QUANTITIES.postContrastT1]],
  code: ['mass-location'],
} as const;

export function chooseStudy(fhir: FhirReader, observations: Observation[], now: Date, lookbackDays: number): StudyChoice {
  const window = { now, lookbackDays };
  const f = fhir.latestBoolean(observations, { ...window, valueSet: 'cardiac-mass-finding', name: 'cardiacMass' });
  if (f.found && !f.input.value) return { finding: f.input, noMassOnLatestCmr: true };
  const report = f.found ? f.resource : undefined;
  const out: StudyChoice = { noMassOnLatestCmr: false };
  if (f.found) out.finding = f.input;

  if (report) {
    const members = membersOf(report, observations);
    const day = dayOf(report);
    if (members.length > 0 && day) {
      out.study = { day, observations: [report, ...members], linked: true, report: `Observation/${report.id ?? ''}` };
      return out;
    }
  }
  const anchor = report ? dayOf(report) : newestFeatureDay(fhir, observations, now, lookbackDays);
  if (!anchor) return out;
  const sameDay = observations.filter((o) => dayOf(o) === anchor && fhir.valueSetContains('cardiac-mass-observations', o.code));
  out.study = { day: anchor, observations: sameDay, linked: false, ...(report ? { report: `Observation/${report.id ?? ''}` } : {}) };
  return out;
}

/** hasMember references resolved among the given Observations (relative, absolute or versioned). */
function membersOf(report: Observation, observations: Observation[]): Observation[] {
  const byId = new Map(observations.filter((o) => o.id).map((o) => [o.id as string, o]));
  const out: Observation[] = [];
  for (const ref of arrayOf(report.hasMember)) {
    const reference = (ref as { reference?: unknown } | null)?.reference;
    const m = typeof reference === 'string' ? /(?:^|\/)Observation\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference) : null;
    const member = m?.[1] !== undefined ? byId.get(m[1]) : undefined;
    if (member && member !== report && !out.includes(member)) out.push(member);
  }
  return out;
}

export function dayOf(o: Observation): string | undefined {
  const d = observationDate(o);
  return d ? new Date(d.start).toISOString().slice(0, 10) : undefined;
}

function newestFeatureDay(fhir: FhirReader, observations: Observation[], now: Date, lookbackDays: number): string | undefined {
  const window = { now, lookbackDays };
  const lookups: Array<Lookup<boolean | number | string>> = [
    ...FEATURE_VALUE_SETS.boolean.map((vs) => fhir.latestBoolean(observations, { ...window, valueSet: vs, name: vs })),
    ...FEATURE_VALUE_SETS.quantity.map(([vs, quantity]) => fhir.latestQuantity(observations, { ...window, valueSet: vs, name: vs, quantity })),
    ...FEATURE_VALUE_SETS.code.map((vs) => fhir.latestCode(observations, { ...window, valueSet: vs, name: vs })),
  ];
  let newest: { start: number; day: string } | undefined;
  for (const l of lookups) {
    if (!l.found) continue;
    const d = observationDate(l.resource);
    const day = dayOf(l.resource);
    if (d && day && (!newest || d.start > newest.start)) newest = { start: d.start, day };
  }
  return newest?.day;
}
