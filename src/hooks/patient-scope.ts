// Only the context patient's data is scored (DESIGN.md, Security rules): after prefetch resolution and
// our own fetches, and before any service sees the data, every resource must be shown to belong to
// `context.patientId`; the others are dropped. An EHR that puts another patient's Conditions in the
// prefetch, or a FHIR server that answers a search with another patient's Observations, would
// otherwise give this patient a score computed from someone else's data.
//
// Belonging (FHIR R4 §2.1.0 "Patient compartment", for the types our services read):
//   - Patient: its id is the context patient id.
//   - anything else: it has a `subject` and/or a `patient` reference, and every one of them resolves
//     to the context patient; an Observation's `focus` (R4: "when it is not the patient of record":
//     a fetus, a parent, a donor) must resolve to it too, when present.
// A reference resolves when it is `Patient/<id>` or `Patient/<id>/_history/<v>`, relative, or absolute
// under a FHIR base the request names (its fhirServer, the client's allowlist). Contained (`#x`),
// bundle-local (`urn:uuid:`), conditional (`Patient?identifier=`) and identifier-only references
// cannot be resolved to this patient, so such a resource is not this patient's. A resource without
// any reference cannot be shown to be this patient's either.
// A resource must also have a valid logical id (FHIR R4 §2.23.0.1): every input a card reports names
// its source as `Type/id`, and RiskAssessment.basis cites it; one that cannot be cited is not used
// (counted apart: it is not known to be another patient's).
import type { FhirResource } from 'fhir/r4.js';
import type { ResolvedPrefetch } from '../services/types.ts';

export interface PatientScope {
  patientId: string;
  /** FHIR bases an absolute reference may name (the request's fhirServer, the client's allowlist). */
  bases: readonly string[];
}

export interface ScopedPrefetch {
  /** The same keys, each holding only this patient's resources. */
  data: ResolvedPrefetch;
  /** Resources not this patient's, dropped, by resource type (types outside METRIC_TYPES counted as 'other'). */
  dropped: Map<string, number>;
  /** Resources dropped for want of a valid id (they cannot be cited as an input's source). */
  unidentified: number;
  /**
   * Keys that held resources of which none was usable (this patient's, with an id): set to null, to
   * be treated as unavailable (the data was not obtained; an empty list would say "the patient has none").
   */
  emptied: string[];
}

/** Resource types named in the metric label; any other type counts as 'other' (bounded cardinality). */
const METRIC_TYPES: ReadonlySet<string> = new Set(['Patient', 'Observation', 'Condition', 'Procedure', 'Encounter']);

/** FHIR R4 §2.23.0.1 (id datatype). */
const ID = '[A-Za-z0-9\\-.]{1,64}';
const FHIR_ID = new RegExp(`^${ID}$`);
const PATIENT_REFERENCE = new RegExp(`^(?:(.*)/)?Patient/(${ID})(?:/_history/${ID})?$`);

export function keepPatientData(data: ResolvedPrefetch, scope: PatientScope): ScopedPrefetch {
  // Parsed only if an absolute reference turns up (most servers write relative ones).
  let parsed: ReadonlySet<string> | undefined;
  const bases = (): ReadonlySet<string> => (parsed ??= new Set(scope.bases.flatMap((b) => {
    const n = normaliseBase(b);
    return n === undefined ? [] : [n];
  })));
  const out: ScopedPrefetch = { data: {}, dropped: new Map(), unidentified: 0, emptied: [] };
  /** Keeps r, or counts why not. */
  const usable = (r: unknown): r is FhirResource => {
    if (isResource(r) && belongsTo(r, scope.patientId, bases)) {
      if (typeof r.id === 'string' && FHIR_ID.test(r.id)) return true;
      out.unidentified++;
      return false;
    }
    const type = isResource(r) ? r.resourceType : 'other';
    const label = METRIC_TYPES.has(type) ? type : 'other';
    out.dropped.set(label, (out.dropped.get(label) ?? 0) + 1);
    return false;
  };
  for (const [key, value] of Object.entries(data)) {
    if (value === null) {
      out.data[key] = null;
    } else if (Array.isArray(value)) {
      const kept = value.filter(usable);
      if (value.length > 0 && kept.length === 0) {
        out.data[key] = null;
        out.emptied.push(key);
      } else {
        out.data[key] = kept.length === value.length ? value : kept; // the common case: nothing dropped, no copy
      }
    } else if (usable(value)) {
      out.data[key] = value;
    } else {
      out.data[key] = null;
      out.emptied.push(key);
    }
  }
  return out;
}

/** The number of resources dropped as not this patient's. */
export function droppedCount(scoped: ScopedPrefetch): number {
  let n = 0;
  for (const c of scoped.dropped.values()) n += c;
  return n;
}

function isResource(r: unknown): r is FhirResource {
  return typeof r === 'object' && r !== null && !Array.isArray(r) && typeof (r as { resourceType?: unknown }).resourceType === 'string';
}

function belongsTo(r: FhirResource, patientId: string, bases: () => ReadonlySet<string>): boolean {
  if (r.resourceType === 'Patient') return r.id === patientId;
  const fields = r as { subject?: unknown; patient?: unknown; focus?: unknown };
  const refs = [fields.subject, fields.patient].filter((x) => x !== undefined);
  if (refs.length === 0) return false;
  if (!refs.every((ref) => refersTo(ref, patientId, bases))) return false;
  if (r.resourceType === 'Observation' && fields.focus !== undefined) {
    return Array.isArray(fields.focus) && fields.focus.every((ref) => refersTo(ref, patientId, bases));
  }
  return true;
}

function refersTo(ref: unknown, patientId: string, bases: () => ReadonlySet<string>): boolean {
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) return false;
  const { reference, type } = ref as { reference?: unknown; type?: unknown };
  if (type !== undefined && type !== 'Patient') return false;
  if (typeof reference !== 'string') return false;
  const m = PATIENT_REFERENCE.exec(reference);
  if (!m || m[2] !== patientId) return false;
  const base = m[1];
  if (base === undefined) return true; // relative: on the server the request names
  const n = normaliseBase(base);
  return n !== undefined && bases().has(n);
}

/** scheme://host[:port]/path without a trailing '/', host lower-cased (URL parsing); undefined if not http(s). */
function normaliseBase(base: string): string | undefined {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password || u.search || u.hash) return undefined;
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}
