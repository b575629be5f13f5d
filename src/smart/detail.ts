// The detail view's use case: with the SMART access token and the FHIR base of the launch, read the
// patient's data from that (allowlisted) server with the service's own prefetch templates
// (hooks/prefetch.ts over fhir/client.ts), run the service's score step, and describe every result
// for the view (ServiceDetail). Nothing is recomputed differently from the cards: each service's detail
// step (services/<id>/detail.ts, part of its declaration) runs on the same gather and score steps.
// No Express here.
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { CallContext, CdsService, DetailBody, ServiceRuntime, ViewContext } from '../services/types.ts';
import { createEvaluation } from '../services/evaluation.ts';
import type { Contribution, Input, ModelMetadata } from '../models/types.ts';
import type { ShownResult } from '../services/model-notes.ts';
import type { CdsRequest } from '../hooks/types.ts';
import { resolveCallData } from '../hooks/call-data.ts';
import { underDeadline } from '../hooks/deadline.ts';
import type { ImagingRuntime } from '../imaging/imaging-runtime.ts';
import type { ImagingResult } from '../imaging/types.ts';
import { droppedCount, keepPatientData } from '../hooks/patient-scope.ts';
import { createFhirFetcher } from '../fhir/client.ts';
import { badRequest, notFound, preconditionFailed } from '../errors.ts';
import { fill } from '../services/card-wording.ts';
import { round } from '../services/card-kit.ts';
import {
  ServiceDetailSchema, type AppContext, type BandTable, type DetailResult, type Explanation,
  type ModelCard, type Origin, type ServiceDetail,
} from '../services/detail-schema.ts';
import { buildReportDraft } from '../services/cmr-report.ts';
import type { DetailWording, ReportTemplate } from '../services/detail-wording.ts';

export interface DetailRequest {
  /** FHIR base of the launch, already checked against the allowlist by the caller. */
  iss: string;
  accessToken: string;
  patientId: string;
  encounterId?: string;
  /** Which service; else the card topic of appContext decides. */
  serviceId?: string;
  appContext?: AppContext;
}

export type ComputeDetail = (request: DetailRequest) => Promise<ServiceDetail>;

export interface DetailDeps {
  config: AppConfig;
  logger: Logger;
  now: () => Date;
  /** The services of the runtime; those with a detail view are offered. */
  services: readonly CdsService[];
  runtime: ServiceRuntime & { readonly imaging: ImagingRuntime };
  wording: DetailWording;
  report: ReportTemplate;
}

export function createDetailComputer(deps: DetailDeps): ComputeDetail {
  const viewable = deps.services.filter((s) => s.detail !== undefined);
  return async (req) => {
    const service = req.serviceId !== undefined
      ? viewable.find((s) => s.description.id === req.serviceId)
      : viewable.find((s) => req.appContext !== undefined && (s.detail?.topics ?? []).includes(req.appContext.s));
    if (!service?.detail) throw req.serviceId !== undefined ? notFound(`No detail view for service '${req.serviceId}'`) : badRequest('Name the service, or launch from a card (appContext)');
    const view = service.detail;
    const started = performance.now();

    const hookInstance = req.appContext?.h ?? randomUUID();
    const request: CdsRequest = {
      hook: service.description.hook,
      hookInstance,
      fhirServer: req.iss,
      context: { userId: 'Practitioner/unknown', patientId: req.patientId, ...(req.encounterId ? { encounterId: req.encounterId } : {}) },
      prefetch: {},
    };
    const fetcher = createFhirFetcher({ baseUrl: req.iss, accessToken: req.accessToken, timeoutMs: deps.config.fetchBudgetMs });
    // The same sources as the hook call, the archive included (hooks/call-data.ts).
    const { prefetch: resolved, imaging } = await underDeadline(deps.config.fetchBudgetMs, (signal) => resolveCallData({
      templates: { ...service.description.prefetch, ...view.extraPrefetch },
      request,
      fetcher,
      signal,
      logger: deps.logger,
      ...(service.imaging ? { imaging: { runtime: deps.runtime.imaging, want: service.imaging } } : {}),
    }));
    // The same rule as a hook call (hooks/patient-scope.ts): only this patient's resources are used,
    // and a key left with none of them is unavailable.
    const scoped = keepPatientData(resolved.data, { patientId: req.patientId, bases: [fetcher.baseUrl] });
    const data = scoped.data;
    const foreign = droppedCount(scoped);
    const unavailable = [...resolved.unavailable, ...scoped.emptied];
    const missingRequired = service.requiredPrefetch.filter((k) => unavailable.includes(k));
    if (missingRequired.length > 0) {
      throw preconditionFailed(`The FHIR server did not give the data this view needs (${missingRequired.join(', ')}): check the scopes granted to the app`);
    }
    const ctx: CallContext = {
      hookInstance,
      patientId: req.patientId,
      userId: 'Practitioner/unknown',
      ...(req.encounterId ? { encounterId: req.encounterId } : {}),
      now: deps.now(),
      unavailable,
    };
    const evaluation = createEvaluation(deps.runtime, ctx, imaging);
    const viewContext: ViewContext = {
      card: req.appContext,
      wording: deps.wording,
      report: deps.report,
      reportDraft: (inputs) => buildReportDraft(deps.report, inputs, evaluation.fhir),
    };
    const body = view.build(data, evaluation, viewContext);
    const notes = [...body.notes];
    if (foreign > 0) notes.push(fill(deps.wording.text.otherPatientDropped, { count: foreign }));
    if (!body.applies) notes.unshift(deps.wording.text.notApplicable);

    const detail: ServiceDetail = {
      serviceId: service.description.id,
      title: service.description.title,
      generatedAt: ctx.now.toISOString(),
      ...(req.appContext ? { topic: req.appContext.s } : {}),
      applies: body.applies,
      results: body.results.map((r) => toDetailResult(r, imaging)),
      explanations: body.results.map((r) => explain(r, body, viewContext)),
      labels: body.labels,
      missingReasons: body.missingReasons,
      findings: body.findings,
      trends: body.trends,
      modelCards: modelCards(body, deps.wording),
      notes,
      ...(body.report ? { report: body.report } : {}),
    };
    deps.logger.debug({ service: service.description.id, ms: Math.round(performance.now() - started), unavailable }, 'smart detail');
    return ServiceDetailSchema.parse(detail);
  };
}

/** Where an input came from; a DICOM object with its study and series as the archive gave them. */
export function originOf(source: string, imaging?: ImagingResult): Origin {
  if (source.startsWith('dicom:')) {
    const sopInstanceUid = source.slice('dicom:'.length);
    const o = imaging?.objects[sopInstanceUid];
    return { kind: 'dicom', sopInstanceUid, ...(o ?? {}) };
  }
  if (source === 'derived') return { kind: 'derived' };
  return { kind: 'fhir', reference: source };
}

function toDetailResult(r: ShownResult, imaging?: ImagingResult): DetailResult {
  return { ...r, inputs: r.inputs.map((i: Input) => ({ ...i, origin: originOf(i.source, imaging) })) };
}

function contributionKind(cs: readonly Contribution[]): Explanation['contributionKind'] {
  if (cs.some((c) => c.points !== undefined)) return 'points';
  if (cs.some((c) => c.term !== undefined)) return 'term';
  return 'none';
}

function explain(r: ShownResult, body: DetailBody, view: ViewContext): Explanation {
  const t = view.wording.text;
  const label = (n: string): string => body.labels[n] ?? n;
  const cardValue = view.card?.v[r.model];
  const missing = r.missing.map((name) => ({ name, label: label(name), reason: body.missingReasons[name] ?? t.missingNoReason }));
  let range: string | undefined;
  if (r.range && r.range.max > r.range.min) {
    const vars = {
      title: r.metadata.title,
      min: round(r.range.min, 2),
      max: round(r.range.max, 2),
      display: r.display ?? String(round(r.value ?? Number.NaN, 2)),
      missing: missing.map((m) => m.label).join(', '),
    };
    range = missing.length > 0 ? fill(t.range, vars) : fill(t.rangeNoMissing, vars);
  } else if (r.value === null && missing.length > 0) {
    range = fill(t.declined, { title: r.metadata.title, missing: missing.map((m) => m.label).join(', ') });
  }
  const now = r.value === null ? undefined : round(r.value, 2);
  const differs = cardValue !== undefined && now !== undefined && now !== cardValue
    ? fill(t.cardDiffers, { cardValue, value: now })
    : undefined;
  return {
    model: r.model,
    onCard: cardValue !== undefined,
    ...(cardValue !== undefined ? { cardValue } : {}),
    ...(differs ? { differs } : {}),
    contributionKind: contributionKind(r.contributions),
    missing,
    ...(range ? { range } : {}),
  };
}

function modelCards(body: DetailBody, wording: DetailWording): ModelCard[] {
  const seen = new Set<string>();
  const out: ModelCard[] = [];
  const add = (m: ModelMetadata, bands?: BandTable): void => {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    out.push({
      id: m.id,
      title: m.title,
      version: m.version,
      population: m.population,
      citation: m.citation,
      url: m.url,
      evidence: m.evidence,
      evidenceLabel: wording.evidence[m.evidence],
      limitations: m.notes ?? [],
      ...(bands ? { bands } : {}),
    });
  };
  for (const r of body.results) add(r.metadata, body.bands?.(r));
  for (const m of body.extraModels) add(m);
  return out;
}
