// The imaging layer's one entry point: what the patient's DICOMweb archive says, as inputs the
// services already know (types.ts). A service's gather step calls it beside its FHIR fetches, under
// the same deadline (request.signal). It never throws: an archive that is slow, down, refuses us or
// answers garbage gives `unavailable` as a value, and one log line without URL or identifier.
//
// Round trips for the common case (counted in `stats.depth`, DESIGN.md "Imaging"):
//   1. QIDO: the patient's MR/CT studies and SR/SEG instances, in parallel (cached per patient);
//   2. for the newest qualifying CMR study: its series (QIDO, classified) and its SRs' instance
//      metadata; for the newest CT study with a SEG: the SEG instance — all in parallel;
//   3. for the L3 slice the SEG names: that CT instance's metadata and its one raw frame.
// A study that yields nothing moves on to the next one (a further round, at most MAX_STUDIES_TRIED).
import type { Input } from '../models/types.ts';
import { ArchiveError, accessFor, type DicomWebAccess } from './dicomweb-client.ts';
import { str, TAG } from './dicom-json.ts';
import type { ImagingRuntime, MuscleReading } from './imaging-runtime.ts';
import { isExactPatientId, newestFirst, patientIndex, studySeries, type InstanceRef, type PatientIndex, type StudySummary } from './qido.ts';
import { muscleArea, planL3, type L3Plan } from './seg-muscle.ts';
import { readSrMeasurements, type SrReading } from './sr-measurements.ts';
import type {
  ClassifiedSeries, CmrImagingInputs, CtImagingInputs, DicomObjectOrigin, ImagingPart, ImagingRequest, ImagingResult, ImagingStudy,
  MassImagingInputs, Unavailable, UnavailableReason,
} from './types.ts';

/** Studies tried per part before giving up (each one more round trip). */
export const MAX_STUDIES_TRIED = 3;
/** SR and SEG instances read per study (newest first): bounds the work of one call. */
export const MAX_SR_PER_STUDY = 8;
export const MAX_SEG_PER_STUDY = 4;

const MESSAGES: Record<UnavailableReason, string> = {
  'not-configured': 'no imaging archive is configured',
  'no-patient-identifier': 'the patient has no identifier the imaging archive knows',
  timeout: 'the imaging archive did not answer in time',
  aborted: 'the imaging read was cancelled',
  unreachable: 'the imaging archive could not be reached',
  unauthorized: 'the imaging archive refused access',
  'archive-error': 'the imaging archive answered with an error',
  'malformed-response': 'the imaging archive answered something that is not DICOM',
  'oversized-response': 'the imaging archive answered more data than allowed',
};

const unavailable = (reason: UnavailableReason): Unavailable => ({ reason, message: MESSAGES[reason] });

function reasonOf(err: unknown): UnavailableReason {
  if (!(err instanceof ArchiveError)) return 'malformed-response';
  switch (err.kind) {
    case 'timeout': return 'timeout';
    case 'aborted': return 'aborted';
    case 'unreachable': return 'unreachable';
    case 'unauthorized': return 'unauthorized';
    case 'oversized': return 'oversized-response';
    case 'malformed': return 'malformed-response';
    case 'http-error':
    case 'not-found': return 'archive-error';
  }
}

const emptyPart = <I extends object>(inputs: I): ImagingPart<I> => ({ inputs, studiesFound: 0, missingReasons: {}, derivations: [] });

/** Counts sequential round trips of one line of work (a flow). */
class Flow {
  depth = 0;
  private sent = false;
  private readonly access: DicomWebAccess;
  constructor(access: DicomWebAccess) {
    this.access = access;
  }
  /** The access this flow's requests go through (marks the current stage as having sent one). */
  wrap(): DicomWebAccess {
    const mark = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => (...a: A): Promise<R> => { this.sent = true; return f(...a); };
    const a = this.access;
    return {
      counters: a.counters,
      searchStudies: mark(a.searchStudies), searchSeries: mark(a.searchSeries), searchInstances: mark(a.searchInstances),
      instanceMetadata: mark(a.instanceMetadata), retrieveInstance: mark(a.retrieveInstance), retrieveFrames: mark(a.retrieveFrames),
    };
  }
  async stage<T>(work: () => Promise<T>): Promise<T> {
    this.sent = false;
    try {
      return await work();
    } finally {
      if (this.sent) this.depth += 1;
    }
  }
}

interface CallContext {
  runtime: ImagingRuntime;
  patientId: string;
  cacheHits: number;
}

export async function readImaging(runtime: ImagingRuntime, request: ImagingRequest): Promise<ImagingResult> {
  const started = runtime.now();
  const result: ImagingResult = {
    cmr: emptyPart<CmrImagingInputs>({}),
    mass: emptyPart<MassImagingInputs>({}),
    ct: emptyPart<CtImagingInputs>({}),
    objects: {},
    stats: {
      requests: 0, bytes: 0, depth: 0, cacheHits: 0, elapsedMs: 0,
      byKind: { qido: { requests: 0, bytes: 0 }, metadata: { requests: 0, bytes: 0 }, instance: { requests: 0, bytes: 0 }, frames: { requests: 0, bytes: 0 } },
    },
  };
  const want = { cmr: request.want?.cmr ?? true, ct: request.want?.ct ?? true };
  const finish = (): ImagingResult => {
    result.stats.elapsedMs = runtime.now() - started;
    const failed = [
      ...(result.unavailable ? [['archive', result.unavailable.reason] as const] : []),
      ...(['cmr', 'ct'] as const).flatMap((p) => (result[p].unavailable ? [[p, result[p].unavailable?.reason ?? ''] as const] : [])),
    ];
    const first = failed[0];
    if (first && result.unavailable?.reason !== 'not-configured') {
      runtime.logger.warn({ imaging: 'unavailable', reason: first[1], parts: failed.map((f) => f[0]) }, 'imaging unavailable');
    }
    return result;
  };

  if (!runtime.archive) {
    result.unavailable = unavailable('not-configured');
    return finish();
  }
  const patientId = archivePatientId(runtime, request);
  if (!patientId) {
    result.unavailable = unavailable('no-patient-identifier');
    return finish();
  }
  const access = accessFor(runtime.archive, { signal: request.signal, callConcurrency: runtime.config.callConcurrency });
  const ctx: CallContext = { runtime, patientId, cacheHits: 0 };
  const root = new Flow(access);
  try {
    let index = runtime.caches.index.get(patientId);
    if (index) ctx.cacheHits++;
    else {
      const rootAccess = root.wrap();
      index = await root.stage(() => patientIndex(rootAccess, patientId));
      runtime.caches.index.set(patientId, index);
    }
    const found = index;
    const cmrFlow = new Flow(access);
    const ctFlow = new Flow(access);
    await Promise.all([
      want.cmr ? readCmr(ctx, cmrFlow, found, result) : Promise.resolve(),
      want.ct ? readCt(ctx, ctFlow, found, result) : Promise.resolve(),
    ]);
    result.stats.depth = root.depth + Math.max(cmrFlow.depth, ctFlow.depth);
  } catch (err) {
    result.unavailable = unavailable(reasonOf(err));
    result.stats.depth = root.depth;
  }
  result.stats.requests = access.counters.requests;
  result.stats.bytes = access.counters.bytes;
  result.stats.byKind = structuredClone(access.counters.byKind);
  result.stats.cacheHits = ctx.cacheHits;
  return finish();
}

function archivePatientId(runtime: ImagingRuntime, request: ImagingRequest): string | undefined {
  const system = runtime.config.patientIdSystem;
  const id = system ? request.identifiers?.find((i) => i.system === system && i.value)?.value : request.patientId;
  return id !== undefined && isExactPatientId(id) ? id : undefined;
}

function studyOf(runtime: ImagingRuntime, s: StudySummary, series?: ClassifiedSeries[]): ImagingStudy {
  const template = runtime.config.viewerUrlTemplate;
  return {
    studyInstanceUid: s.studyInstanceUid,
    ...(s.date ? { date: s.date } : {}),
    ...(s.description ? { description: s.description } : {}),
    modalities: s.modalities,
    ...(template ? { viewerUrl: template.replaceAll('{StudyInstanceUID}', encodeURIComponent(s.studyInstanceUid)) } : {}),
    ...(series ? { series } : {}),
  };
}

function objectOrigin(study: StudySummary, ref: InstanceRef, modality: string, seriesDescription?: string): DicomObjectOrigin {
  return {
    studyInstanceUid: study.studyInstanceUid,
    seriesInstanceUid: ref.seriesInstanceUid,
    ...(study.date ? { studyDate: study.date } : {}),
    ...(study.description ? { studyDescription: study.description } : {}),
    modality,
    ...(seriesDescription ? { seriesDescription } : {}),
  };
}

const inStudy = (refs: readonly InstanceRef[], study: StudySummary): InstanceRef[] => refs.filter((r) => r.studyInstanceUid === study.studyInstanceUid);
const studyLabel = (s: StudySummary): string => `${s.description ?? 'study'} of ${s.date?.slice(0, 10) ?? 'unknown date'}`;

// ---------------------------------------------------------------------------------------------------
// CMR: SR measurements of the newest MR study that has any

async function readCmr(ctx: CallContext, flow: Flow, index: PatientIndex, result: ImagingResult): Promise<void> {
  const { runtime } = ctx;
  const candidates = newestFirst(index.studies.filter((s) => s.modalities.includes('MR') && inStudy(index.srs, s).length > 0), (s) => s.studyInstanceUid);
  const none = 'no MR study with a DICOM SR (measurement report) in the imaging archive';
  result.cmr.studiesFound = candidates.length;
  result.mass.studiesFound = candidates.length;
  if (candidates.length === 0) {
    result.cmr.missingReasons.study = none;
    result.mass.missingReasons.study = none;
    result.cmr.absent = 'no-study';
    result.mass.absent = 'no-study';
    return;
  }
  const access = flow.wrap();
  try {
    for (const study of candidates.slice(0, MAX_STUDIES_TRIED)) {
      const srs = newestFirst(inStudy(index.srs, study), (r) => r.sopInstanceUid).slice(0, MAX_SR_PER_STUDY);
      const cachedSeries = runtime.caches.series.get(study.studyInstanceUid);
      const cachedReadings = srs.map((r) => runtime.caches.readings.get(r.sopInstanceUid));
      ctx.cacheHits += (cachedSeries ? 1 : 0) + cachedReadings.filter(Boolean).length;
      const [series, metadata] = await flow.stage(() => Promise.all([
        cachedSeries ? Promise.resolve(cachedSeries) : studySeries(access, study.studyInstanceUid, runtime.patterns),
        Promise.all(srs.map((r, i) => (cachedReadings[i] ? Promise.resolve(undefined) : access.instanceMetadata(r.studyInstanceUid, r.seriesInstanceUid, r.sopInstanceUid)))),
      ]));
      if (!cachedSeries) runtime.caches.series.set(study.studyInstanceUid, series); // a hit does not extend the TTL
      const classes = new Map(series.map((s) => [s.seriesInstanceUid, s.classes]));
      const readings: SrReading[] = [];
      srs.forEach((r, i) => {
        const cached = cachedReadings[i];
        if (cached) return void readings.push(cached);
        const ds = metadata[i];
        if (!ds) return;
        if (str(ds, TAG.PatientID) !== ctx.patientId) return; // another patient's object: never read
        const reading = readSrMeasurements(ds, { terminology: runtime.terminology, units: runtime.units, conceptMap: runtime.conceptMap, seriesClasses: (uid) => classes.get(uid) });
        runtime.caches.readings.set(r.sopInstanceUid, reading);
        readings.push(reading);
      });
      const merged = mergeReadings(newestFirst(readings, (r) => r.sopInstanceUid));
      if (Object.keys(merged.cmr).length === 0 && Object.keys(merged.mass).length === 0) {
        const why = `the SRs of the ${studyLabel(study)} hold no measurement the services read`;
        result.cmr.derivations.push(why);
        continue;
      }
      const provenance = studyOf(runtime, study, series);
      const seriesOf = new Map(series.map((s) => [s.seriesInstanceUid, s]));
      for (const r of srs) {
        const s = seriesOf.get(r.seriesInstanceUid);
        result.objects[r.sopInstanceUid] = objectOrigin(study, r, 'SR', s?.description);
      }
      result.cmr.inputs = merged.cmr;
      result.mass.inputs = merged.mass;
      result.cmr.study = provenance;
      result.mass.study = provenance;
      Object.assign(result.cmr.missingReasons, merged.reasons.cmr);
      Object.assign(result.mass.missingReasons, merged.reasons.mass);
      if (Object.keys(merged.mass).length === 0) result.mass.missingReasons.study = `no cardiac mass reported in the SRs of the ${studyLabel(study)}`;
      return;
    }
    result.cmr.missingReasons.study = 'no measurement the services read in the SRs of the newest MR studies';
    result.mass.missingReasons.study = result.cmr.missingReasons.study;
    result.cmr.absent = 'nothing-usable';
    result.mass.absent = 'nothing-usable';
  } catch (err) {
    const u = unavailable(reasonOf(err));
    result.cmr.unavailable = u;
    result.mass.unavailable = u;
  }
}

/** Newest SR first: each input from the newest report that has it. */
function mergeReadings(readings: SrReading[]): Pick<SrReading, 'cmr' | 'mass' | 'reasons'> {
  const out: Pick<SrReading, 'cmr' | 'mass' | 'reasons'> = { cmr: {}, mass: {}, reasons: { cmr: {}, mass: {} } };
  for (const r of [...readings].reverse()) {
    Object.assign(out.cmr, r.cmr);
    Object.assign(out.mass, r.mass);
    Object.assign(out.reasons.cmr, r.reasons.cmr);
    Object.assign(out.reasons.mass, r.reasons.mass);
  }
  for (const part of ['cmr', 'mass'] as const) for (const k of Object.keys(out[part])) delete out.reasons[part][k];
  return out;
}

// ---------------------------------------------------------------------------------------------------
// CT: L3 muscle area from the newest SEG of skeletal muscle and the CT slice it was derived from

const NO_SEG = 'no CT study with a DICOM SEG of skeletal muscle in the imaging archive; a segmentation such as TotalSegmentator\'s (task tissue_types, segment skeletal_muscle, with vertebrae_L3 from task total) exported as DICOM SEG would provide one';

async function readCt(ctx: CallContext, flow: Flow, index: PatientIndex, result: ImagingResult): Promise<void> {
  const { runtime } = ctx;
  const candidates = newestFirst(index.studies.filter((s) => s.modalities.includes('CT') && inStudy(index.segs, s).length > 0), (s) => s.studyInstanceUid);
  result.ct.studiesFound = candidates.length;
  if (candidates.length === 0) {
    result.ct.missingReasons.muscleArea = NO_SEG;
    result.ct.absent = 'no-study';
    return;
  }
  const access = flow.wrap();
  const labels = { muscle: runtime.config.muscleSegmentLabels, l3: runtime.config.l3SegmentLabels };
  const reasons: string[] = [];
  try {
    for (const study of candidates.slice(0, MAX_STUDIES_TRIED)) {
      const segs = newestFirst(inStudy(index.segs, study), (r) => r.sopInstanceUid).slice(0, MAX_SEG_PER_STUDY);
      // Only the newest SEG's reading stands for the study: an older one's must not hide a newer SEG.
      const cached = segs[0] ? runtime.caches.muscle.get(segs[0].sopInstanceUid) : undefined;
      if (cached) {
        ctx.cacheHits++;
        setMuscle(runtime, result, study, cached, segs[0]);
        return;
      }
      const parts = await flow.stage(() => Promise.all(segs.map((s) => access.retrieveInstance(s.studyInstanceUid, s.seriesInstanceUid, s.sopInstanceUid))));
      let plan: L3Plan | undefined;
      for (const bytes of parts) {
        const p = planL3(bytes, labels);
        if (!p.ok) { reasons.push(p.reason); continue; }
        if (p.value.patientId !== ctx.patientId) { reasons.push('a SEG names another patient'); continue; }
        plan = p.value;
        break;
      }
      if (!plan) continue;
      const chosen = plan;
      const src = chosen.source;
      const [meta, frames] = await flow.stage(() => Promise.all([
        access.instanceMetadata(study.studyInstanceUid, src.seriesInstanceUid, src.sopInstanceUid),
        access.retrieveFrames(study.studyInstanceUid, src.seriesInstanceUid, src.sopInstanceUid, [src.frame]),
      ]));
      if (str(meta, TAG.PatientID) !== ctx.patientId) { reasons.push('the CT slice names another patient'); continue; }
      const frame = frames[0];
      const area = frame ? muscleArea(chosen, meta, frame) : { ok: false as const, reason: 'the CT frame is missing' };
      if (!area.ok) { reasons.push(area.reason); continue; }
      const reading: MuscleReading = {
        areaCm2: area.value.areaCm2,
        ...(chosen.date ? { date: chosen.date } : {}),
        segSopInstanceUid: chosen.segSopInstanceUid,
        ctSopInstanceUid: src.sopInstanceUid,
        ctSeriesInstanceUid: src.seriesInstanceUid,
        rule: chosen.rule,
        segmentLabels: chosen.segmentLabels,
        musclePixels: area.value.musclePixels,
        maskPixels: area.value.maskPixels,
        pixelSpacing: area.value.pixelSpacing,
      };
      if (segs[0]?.sopInstanceUid === chosen.segSopInstanceUid) runtime.caches.muscle.set(chosen.segSopInstanceUid, reading);
      setMuscle(runtime, result, study, reading, segs.find((s) => s.sopInstanceUid === chosen.segSopInstanceUid));
      return;
    }
    result.ct.missingReasons.muscleArea = reasons.length > 0 ? `no usable L3 muscle SEG: ${[...new Set(reasons)].join('; ')}` : NO_SEG;
    result.ct.absent = 'nothing-usable';
  } catch (err) {
    result.ct.unavailable = unavailable(reasonOf(err));
  }
}

function setMuscle(runtime: ImagingRuntime, result: ImagingResult, study: StudySummary, m: MuscleReading, seg: InstanceRef | undefined): void {
  if (seg) result.objects[m.segSopInstanceUid] = objectOrigin(study, seg, 'SEG');
  const input: Input<number> = {
    name: 'muscleArea',
    value: m.areaCm2,
    unit: 'cm2',
    source: `dicom:${m.segSopInstanceUid}`,
    ...(m.date ?? study.date ? { date: m.date ?? study.date } : {}),
  };
  result.ct.inputs = { muscleArea: input };
  result.ct.study = studyOf(runtime, study);
  result.ct.derivations.push(
    `L3 skeletal muscle area ${m.areaCm2} cm²: ${m.musclePixels} of ${m.maskPixels} pixels of the SEG's ${m.segmentLabels.join(', ')} mask between ` +
      `−29 and 150 HU, × ${m.pixelSpacing[0]} × ${m.pixelSpacing[1]} mm; slice: ${m.rule} (CT instance ${m.ctSopInstanceUid}).`,
  );
}
