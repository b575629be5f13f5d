// Pick model inputs from FHIR Observations (MODELS.md "General rules": the most recent value within a
// look-back, unit-normalised, with its date and the resource it came from). Pure: no I/O.
//
// Rules, in the order they are applied to each Observation (FHIR R4 Observation,
// https://hl7.org/fhir/R4/observation.html):
//   1. Code: Observation.code, or an Observation.component.code, in the ValueSet (a BP panel 85354-9
//      carries systolic 8480-6 as a component). Site codes count through equivalent ConceptMap entries.
//   2. Status: only `final`, `amended`, `corrected` (R4 ObservationStatus). `preliminary` is ignored on
//      purpose: scores are shown to clinicians as facts, and a preliminary result may still change or be
//      withdrawn (a MELD from a preliminary bilirubin is not a MELD). `registered` has no value yet;
//      `entered-in-error` and `cancelled` are not results; `unknown` cannot be trusted.
//   3. Date: effectiveDateTime, effectivePeriod.end (else .start), effectiveInstant, else issued.
//      Within the look-back when `now − lookbackDays·24 h ≤ date ≤ now` (a partial date such as
//      '2024-03' counts when any part of it is in the window). Future dates beyond clock skew are
//      ignored.
//   4. Value: a dataAbsentReason means no value. Quantities with a comparator ('<0.2') are not a
//      number and are skipped. Units are converted with UCUM (units.ts); unconvertible ones are skipped
//      and reported.
//   5. Latest wins; ties (same instant) go to corrected/amended over final, then the later `issued`,
//      then the later meta.lastUpdated, then the smaller id — deterministic whatever the server order.
import type { Bundle, Coding, FhirResource, Observation, ObservationComponent, Quantity } from 'fhir/r4.js';
import type { Input, InputValue } from '../models/types.ts';
import { UCUM } from './canonical.ts';
import type { Terminology } from './terminology.ts';
import { isDimensionless, normalizeUnit, type UnitConverter } from './units.ts';
import type { QuantityKind } from './quantities.ts';

/** What callers may pass: a resolved prefetch value, a list of them, or a searchset Bundle. */
export type ResourceSource = FhirResource | null | undefined | readonly (FhirResource | null | undefined)[];

export interface Found<V extends InputValue> {
  found: true;
  input: Input<V>;
  /** The Observation the value came from (for RiskAssessment.basis). */
  resource: Observation;
  /** latestCode only: the coding the value was read from. */
  coding?: Coding;
}

export interface NotFound {
  found: false;
  /** The input name (as given in the options), for the model's `missing` list. */
  name: string;
  /** Why, in words safe to show on a card (codes, counts, dates, units; no patient data). */
  reason: string;
}

export type Lookup<V extends InputValue> = Found<V> | NotFound;

export interface LatestOptions {
  /** ValueSet short name (profiles/ValueSet-<name>.json) or canonical URL. */
  valueSet: string;
  /** Input name reported on the Input and in `missing`. */
  name: string;
  now: Date;
  lookbackDays: number;
}

/**
 * What the readers need: the terminology and the unit converter of the runtime, and the views of
 * one evaluation (absent: nothing is cached). Services get all three bound in a FhirReader
 * (reader.ts), one per evaluation.
 */
export interface FhirContext {
  terminology: Terminology;
  units: UnitConverter;
  views?: ViewCache;
}

export interface QuantityOptions extends LatestOptions {
  /** What the value is: the target unit and the recorded units that mean it (quantities.ts). */
  quantity: QuantityKind;
}

export interface IntegerOptions extends LatestOptions {
  /** Units of a quantity that mean this count or grade ('' = none recorded; quantities.ts INTEGER_UNITS). */
  units: readonly string[];
}

export interface CodeOptions extends LatestOptions {
  /**
   * Answer value → ValueSet name. The value is the first key whose ValueSet contains the
   * Observation's valueCodeableConcept. Without it, the value is the code of the first coding.
   */
  answers?: Record<string, string>;
}

const DAY_MS = 86_400_000;
/** Clock skew tolerated for future-dated full timestamps. */
const SKEW_MS = 5 * 60_000;
/** A date without time may be "today" in a time zone up to 14 h ahead of UTC. */
const PARTIAL_SKEW_MS = 14 * 3_600_000;

const USABLE_STATUS = new Set<Observation['status']>(['final', 'amended', 'corrected']);

/** Why a result of this status is not used, in words (rule 2 above). */
export function unusableStatus(status: Observation['status'] | undefined): string {
  switch (status) {
    case 'preliminary': return 'preliminary result(s) ignored (not final)';
    case 'registered': return 'result(s) registered without a value yet';
    case 'entered-in-error': return 'result(s) entered in error';
    case 'cancelled': return 'cancelled result(s)';
    case undefined: return 'result(s) without a status';
    default: return 'result(s) of unknown status';
  }
}
const STATUS_RANK: Partial<Record<Observation['status'], number>> = { corrected: 2, amended: 2, final: 1 };

// ---------------------------------------------------------------------------------------------------
// Shared helpers (also used by conditions.ts)

/** A FHIR array element as an array (JSON from outside may hold anything). */
export function arrayOf<T>(v: readonly T[] | undefined | null): readonly T[] {
  return Array.isArray(v) ? v : [];
}

/** A FHIR string element, or undefined when it holds anything else (JSON from outside). */
export function stringOf(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * Services look the same prefetch value up a dozen times per call (one lookup per input), so the
 * views derived from a value (its resources flattened, its Observations with parsed dates) are built
 * once per value and evaluation. Prefetch values are never mutated after resolution, so caching by
 * identity is safe.
 *
 * The cache belongs to one evaluation (the FhirReader of reader.ts holds it), not to a WeakMap keyed
 * by the value: with WeakMaps, each young-generation GC kept the parsed prefetch of the last calls
 * alive and promoted it to the old generation (about 12 MB per scavenge in a --trace-gc run), where
 * only a full mark-compact freed it. Without a cache (tests, tools) nothing is kept.
 */
interface DerivedViews {
  resources?: readonly FhirResource[];
  observations?: readonly DatedObservation[];
}
export type ViewCache = Map<object, DerivedViews>;

function viewsOf(source: object, cache: ViewCache | undefined): DerivedViews {
  if (!cache) return {};
  let views = cache.get(source);
  if (!views) cache.set(source, (views = {}));
  return views;
}

/** Flatten prefetch values / Bundles into resources (do not mutate the result: it may be shared). */
export function resourcesOf(source: ResourceSource, cache?: ViewCache): readonly FhirResource[] {
  if (source === null || source === undefined || typeof source !== 'object') return [];
  const views = viewsOf(source, cache);
  return (views.resources ??= flatten(source));
}

function flatten(source: ResourceSource): FhirResource[] {
  const out: FhirResource[] = [];
  const add = (r: FhirResource | null | undefined): void => {
    if (r === null || r === undefined || typeof r !== 'object') return;
    if (r.resourceType === 'Bundle') {
      const entries = (r as Bundle).entry;
      if (Array.isArray(entries)) for (const e of entries) if (e && e.search?.mode !== 'outcome') add(e.resource as FhirResource | undefined);
    } else {
      out.push(r);
    }
  };
  if (Array.isArray(source)) for (const r of source as readonly (FhirResource | null | undefined)[]) add(r);
  else add(source as FhirResource | null | undefined);
  return out;
}

export interface DateRange {
  /** First instant covered (ms since epoch). */
  start: number;
  /** Last instant covered: equals start for a full timestamp, end of the day/month/year otherwise. */
  end: number;
  partial: boolean;
  /** The FHIR string as recorded. */
  text: string;
}

/** Parse a FHIR date/dateTime/instant. Partial dates ('2024', '2024-03', '2024-03-05') are UTC ranges. */
export function parseFhirDate(text: string | undefined): DateRange | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  const y = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(text);
  if (y) {
    const year = Number(y[1]);
    const month = y[2] === undefined ? undefined : Number(y[2]) - 1;
    const day = y[3] === undefined ? undefined : Number(y[3]);
    const start = Date.UTC(year, month ?? 0, day ?? 1);
    const next = day !== undefined ? Date.UTC(year, month ?? 0, day + 1) : month !== undefined ? Date.UTC(year, month + 1, 1) : Date.UTC(year + 1, 0, 1);
    if (!Number.isFinite(start)) return undefined;
    return { start, end: next - 1, partial: true, text };
  }
  const t = Date.parse(text);
  return Number.isFinite(t) ? { start: t, end: t, partial: false, text } : undefined;
}

export type WindowCheck = 'in' | 'old' | 'future';

/** Look-back check: inclusive at exactly `days`, out one millisecond later. */
export function inWindow(d: DateRange, now: Date, days: number): WindowCheck {
  const nowMs = now.getTime();
  if (d.start > nowMs + (d.partial ? PARTIAL_SKEW_MS : SKEW_MS)) return 'future';
  if (d.end < nowMs - days * DAY_MS) return 'old';
  return 'in';
}

/** Effective time of an Observation (R4: effective[x], else issued). */
/** The clinically relevant time of an Observation. */
export function observationDate(o: Observation): DateRange | undefined {
  return (
    parseFhirDate(o.effectiveDateTime) ??
    parseFhirDate(o.effectivePeriod?.end ?? o.effectivePeriod?.start) ??
    parseFhirDate(o.effectiveInstant) ??
    parseFhirDate(o.issued)
  );
}

// ---------------------------------------------------------------------------------------------------
// The selection engine

type ValueHolder = Pick<ObservationComponent, 'valueQuantity' | 'valueBoolean' | 'valueInteger' | 'valueCodeableConcept' | 'dataAbsentReason'>;
interface Value<V> {
  value: V;
  unit?: string;
  original?: Input['original'];
  coding?: Coding;
}
type Extracted<V> = Value<V> | { skip: string };

interface Candidate<V> {
  obs: Observation;
  date: DateRange;
  value: Value<V>;
}

class Tally {
  private readonly counts = new Map<string, number>();
  add(reason: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }
  get size(): number {
    return this.counts.size;
  }
  toString(): string {
    return [...this.counts].map(([r, n]) => `${n} ${r}`).join(', ');
  }
}

interface DatedObservation {
  obs: Observation;
  date: DateRange | undefined;
}

/** The Observations of a prefetch value with their dates parsed (cached like resourcesOf). */
function observationsOf(source: ResourceSource, cache: ViewCache | undefined): readonly DatedObservation[] {
  if (source === null || source === undefined || typeof source !== 'object') return [];
  const views = viewsOf(source, cache);
  return (views.observations ??= resourcesOf(source, cache)
    .filter((r): r is Observation => r.resourceType === 'Observation')
    .map((obs) => ({ obs, date: observationDate(obs) })));
}

export interface MatchedObservation extends DatedObservation {
  /** What is coded in the ValueSet: the Observation itself and/or some of its components. */
  holders: readonly ValueHolder[];
}

/**
 * The Observations of `source` whose code, or a component's code, is in the ValueSet (rule 1), in
 * document order, with their dates. Most Observations are not in the set: nothing is allocated for
 * them (a dozen inputs each scan the whole list).
 */
export function observationsIn(fx: FhirContext, source: ResourceSource, valueSet: string): MatchedObservation[] {
  const term = fx.terminology;
  const out: MatchedObservation[] = [];
  for (const { obs, date } of observationsOf(source, fx.views)) {
    let holders: ValueHolder[] | undefined = term.valueSetContains(valueSet, obs.code) ? [obs] : undefined;
    if (Array.isArray(obs.component)) for (const c of obs.component) if (c && term.valueSetContains(valueSet, c.code)) (holders ??= []).push(c);
    if (holders !== undefined) out.push({ obs, date, holders });
  }
  return out;
}

function pickLatest<V extends InputValue>(
  fx: FhirContext,
  source: ResourceSource,
  opts: LatestOptions,
  extract: (h: ValueHolder) => Extracted<V>,
): Lookup<V> {
  const ignored = new Tally();
  let best: Candidate<V> | undefined;
  let newestOld: DateRange | undefined;
  let matched = 0;

  for (const { obs, date, holders } of observationsIn(fx, source, opts.valueSet)) {
    matched++;

    if (!USABLE_STATUS.has(obs.status)) {
      ignored.add(unusableStatus(obs.status));
      continue;
    }
    if (!date) {
      ignored.add('result(s) without a date');
      continue;
    }
    const w = inWindow(date, opts.now, opts.lookbackDays);
    if (w === 'future') {
      ignored.add('future-dated result(s)');
      continue;
    }
    if (w === 'old') {
      if (!newestOld || date.start > newestOld.start) newestOld = date;
      continue;
    }
    for (const h of holders) {
      if (h.dataAbsentReason) {
        ignored.add('result(s) with a data-absent reason');
        continue;
      }
      const v = extract(h);
      if ('skip' in v) {
        ignored.add(v.skip);
        continue;
      }
      const cand: Candidate<V> = { obs, date, value: v };
      if (!best || better(cand, best)) best = cand;
    }
  }

  if (best) {
    const { obs, date, value } = best;
    const input: Input<V> = { name: opts.name, value: value.value, date: date.text, source: `Observation/${obs.id ?? ''}` };
    if (value.unit !== undefined) input.unit = value.unit;
    if (value.original !== undefined) input.original = value.original;
    const found: Found<V> = { found: true, input, resource: obs };
    if (value.coding) found.coding = value.coding;
    return found;
  }

  const parts: string[] = [];
  if (matched === 0) parts.push('no result in the record');
  else if (newestOld && ignored.size === 0) parts.push(`no result within ${opts.lookbackDays} days (latest ${newestOld.text})`);
  else {
    parts.push(`no usable result within ${opts.lookbackDays} days`);
    if (newestOld) parts.push(`latest older result ${newestOld.text}`);
  }
  if (ignored.size > 0) parts.push(ignored.toString());
  return { found: false, name: opts.name, reason: parts.join('; ') };
}

function better<V>(a: Candidate<V>, b: Candidate<V>): boolean {
  if (a.date.start !== b.date.start) return a.date.start > b.date.start;
  const sa = STATUS_RANK[a.obs.status] ?? 0;
  const sb = STATUS_RANK[b.obs.status] ?? 0;
  if (sa !== sb) return sa > sb;
  const ia = parseFhirDate(a.obs.issued)?.start ?? -Infinity;
  const ib = parseFhirDate(b.obs.issued)?.start ?? -Infinity;
  if (ia !== ib) return ia > ib;
  const la = parseFhirDate(a.obs.meta?.lastUpdated)?.start ?? -Infinity;
  const lb = parseFhirDate(b.obs.meta?.lastUpdated)?.start ?? -Infinity;
  if (la !== lb) return la > lb;
  return (a.obs.id ?? '') < (b.obs.id ?? '');
}

// ---------------------------------------------------------------------------------------------------
// Public pickers

/** The recorded unit: Quantity.code when it is UCUM (or unqualified), else the display `unit`. */
function recordedUnit(q: Quantity): string | undefined {
  if (q.code && (q.system === undefined || q.system === UCUM)) return q.code;
  return q.unit ?? q.code;
}

/**
 * Latest numeric Observation in a unit that means the quantity, converted to its unit. A value whose
 * unit means another quantity (an INR in %, an SMI in %) is skipped and named in the reason.
 */
export function latestQuantity(fx: FhirContext, source: ResourceSource, opts: QuantityOptions): Lookup<number> {
  const k = opts.quantity;
  const units = fx.units;
  return pickLatest<number>(fx, source, opts, (h) => {
    const q = h.valueQuantity;
    if (!q || typeof q.value !== 'number' || !Number.isFinite(q.value)) return { skip: 'result(s) without a numeric value' };
    if (q.comparator) return { skip: `result(s) reported as a limit ('${q.comparator} ${q.value}')` };
    const from = recordedUnit(q);
    const nFrom = normalizeUnit(from);
    if (!units.meansQuantity(k, from)) {
      if (nFrom === undefined) return { skip: 'result(s) without a unit' };
      const other = k.otherQuantities?.[nFrom as keyof typeof k.otherQuantities];
      return { skip: other ? `result(s) in '${from}': ${other}` : `result(s) in '${from}', which is not a unit of ${k.what}` };
    }
    const value = units.toUnit(q.value, from, k.unit, k.analyte);
    if (value === null) return { skip: `result(s) in '${from}' that could not be converted` };
    if (k.range && (value < k.range.min || value > k.range.max)) {
      return { skip: `result(s) outside ${k.range.min}–${k.range.max} ${k.unit} once converted (the recorded unit cannot be right)` };
    }
    const nTo = normalizeUnit(k.unit) ?? k.unit;
    const converted = nFrom !== undefined && nFrom !== nTo && !(isDimensionless(nFrom) && isDimensionless(nTo));
    return converted ? { value, unit: k.unit, original: { value: q.value, unit: from ?? '' } } : { value, unit: k.unit };
  });
}

// SNOMED CT 373066001 |Yes|, 373067005 |No|; HL7 v2 table 0136 Y/N (FHIR R4 yes/no codes).
const YES = new Set(['http://snomed.info/sct|373066001', 'http://terminology.hl7.org/CodeSystem/v2-0136|Y']);
const NO = new Set(['http://snomed.info/sct|373067005', 'http://terminology.hl7.org/CodeSystem/v2-0136|N']);

/** Latest yes/no finding: valueBoolean, or a coded Yes/No (SNOMED CT, HL7 v2-0136). */
export function latestBoolean(fx: FhirContext, source: ResourceSource, opts: LatestOptions): Lookup<boolean> {
  return pickLatest<boolean>(fx, source, opts, (h) => {
    if (typeof h.valueBoolean === 'boolean') return { value: h.valueBoolean };
    for (const c of arrayOf(h.valueCodeableConcept?.coding)) {
      if (!c) continue;
      const k = `${c.system ?? ''}|${c.code ?? ''}`;
      if (YES.has(k)) return { value: true, coding: c };
      if (NO.has(k)) return { value: false, coding: c };
    }
    return { skip: 'result(s) without a yes/no value' };
  });
}

/** Latest integer finding (grades, counts, segments): valueInteger, or an integer Quantity in one of `units`. */
export function latestInteger(fx: FhirContext, source: ResourceSource, opts: IntegerOptions): Lookup<number> {
  return pickLatest<number>(fx, source, opts, (h) => {
    if (typeof h.valueInteger === 'number' && Number.isInteger(h.valueInteger)) return { value: h.valueInteger };
    const q = h.valueQuantity;
    if (q && typeof q.value === 'number' && Number.isInteger(q.value) && !q.comparator) {
      const u = normalizeUnit(recordedUnit(q)) ?? '';
      if (opts.units.some((a) => (normalizeUnit(a) ?? '') === u)) return { value: q.value };
    }
    return { skip: 'result(s) without an integer value' };
  });
}

/** Latest coded finding (valueCodeableConcept), optionally mapped to answer values by ValueSet. */
export function latestCode(fx: FhirContext, source: ResourceSource, opts: CodeOptions): Lookup<string> {
  const term = fx.terminology;
  const answers = opts.answers ? Object.entries(opts.answers) : undefined;
  return pickLatest<string>(fx, source, opts, (h) => {
    const cc = h.valueCodeableConcept;
    const codings = arrayOf(cc?.coding).filter((c) => c && typeof c.code === 'string' && c.code !== '');
    if (!cc || codings.length === 0) return { skip: 'result(s) without a coded value' };
    if (answers) {
      for (const [value, vs] of answers) {
        if (term.valueSetContains(vs, cc)) {
          const coding = codings.find((c) => term.valueSetContains(vs, [c])) ?? codings[0];
          return coding ? { value, coding } : { value };
        }
      }
      return { skip: 'result(s) with an unrecognised answer code' };
    }
    const coding = codings.find((c) => c.system) ?? codings[0];
    return coding?.code ? { value: coding.code, coding } : { skip: 'result(s) without a coded value' };
  });
}
