// The one shape of a CDS service (services/README.md is the checklist for adding one): a declaration
// of what the service is (id, hook, title, description, prefetch and which keys it cannot do without,
// the card topics, models and ValueSets it uses, the schema of its wording file, the imaging it wants)
// and three pure steps: gather (data → typed inputs, or undefined when the service does not apply),
// score (inputs → model results) and cards (results → Card[]). An optional detail step describes the
// same results for the SMART detail view.
//
// defineService returns the declaration with `bind`, which the runtime calls once at start-up
// (src/runtime.ts): it loads and checks the wording, builds the prefetch templates from the
// terminology, and gives the CdsService the hook use case calls.
import type { Card } from '../hooks/types.ts';
import type { ImagingResult } from '../imaging/types.ts';
import type { ModelId } from '../models/types.ts';
import type { Terminology } from '../fhir/terminology.ts';
import { loadServiceWording, WordingError, type CommonWording, type WordingCodes, type WordingDirs, type WordingSchema } from './card-wording.ts';
import type {
  CdsService, DetailBody, Evaluation, ImagingWant, ResolvedPrefetch, ServiceDetailView, ViewContext,
} from './types.ts';

/**
 * A prefetch template (CDS Hooks 2.0 §"Prefetch template"), given `codes(valueSet)`: the ValueSet's
 * `code=` token list from the terminology (Terminology.queryCodes).
 */
export type PrefetchTemplate = (codes: (valueSet: string) => string) => string;

/** An evaluation as a service's steps see it: with the service's own typed wording. */
export interface ServiceEvaluation<W> extends Evaluation {
  readonly wording: W;
}

export interface DetailStep<K extends string, W, R> {
  /** Searches the view needs besides the prefetch, in prefetch template syntax. */
  extraPrefetch?: Record<string, PrefetchTemplate>;
  /** Input labels the view shows (also when the service does not apply). */
  labels(wording: W): Record<string, string>;
  /**
   * The view of the results. `rescore` runs the same gather and score steps on other data at
   * another instant (trends).
   */
  build(
    results: R,
    data: ResolvedPrefetch,
    ev: ServiceEvaluation<W>,
    view: ViewContext & { rescore(data: ResolvedPrefetch, now: Date): R | undefined },
  ): DetailBody;
}

export interface ServiceDeclaration<K extends string, W extends CommonWording, I, R> {
  id: string;
  hook: 'patient-view';
  title: string;
  description: string;
  /** Prefetch key → template. Prefetch ValueSets are found by building the templates. */
  prefetch: Readonly<Record<K, PrefetchTemplate>>;
  /** Keys without which the service cannot say anything useful (412 when they cannot be had). */
  requiredPrefetch: readonly K[];
  /** Card topics of its cards: codes of profiles/CodeSystem-card-topics.json. */
  topics: readonly string[];
  /** Models whose results its cards report: codes of profiles/CodeSystem-cds-models.json. */
  models: readonly ModelId[];
  /** ValueSets it reads in gather (profiles/ValueSet-<name>.json), besides those of its prefetch. */
  valueSets: readonly string[];
  /** Schema of cards/<id>.yaml. */
  wording: WordingSchema<W>;
  /** Imaging it wants read beside the prefetch (hooks/call-data.ts), handed to gather. */
  imaging?: ImagingWant;
  /** Pure: typed inputs from the data and the imaging read (ev.imaging, when there is one); undefined = not applicable. */
  gather(data: ResolvedPrefetch, ev: ServiceEvaluation<W>, imaging?: ImagingResult): I | undefined;
  /** Pure: the models on the inputs. */
  score(inputs: I, ev: ServiceEvaluation<W>): R;
  /** Pure: the cards of the results. */
  cards(results: R, ev: ServiceEvaluation<W>): Card[];
  detail?: DetailStep<K, W, R>;
}

/** What binding needs: the terminology (prefetch code lists) and where the wording and CodeSystems are. */
export interface BindDeps {
  terminology: Terminology;
  wordingDirs: WordingDirs;
  codes: WordingCodes;
}

/** A declared service with its wording type; ServiceDefinition erases the rest of its types. */
export interface ServiceDefinitionOf<W extends CommonWording> {
  readonly id: string;
  readonly hook: 'patient-view';
  readonly title: string;
  readonly topics: readonly string[];
  readonly models: readonly ModelId[];
  readonly valueSets: readonly string[];
  readonly requiredPrefetch: readonly string[];
  readonly imaging?: ImagingWant;
  /** The prefetch templates (and the detail view's extra searches) with the given code lists. */
  prefetchTemplates(codes: (valueSet: string) => string): { prefetch: Record<string, string>; extra: Record<string, string> };
  /** Reads and checks cards/<id>.yaml with the service's schema (as bind does). */
  loadWording(dirs: WordingDirs, codes?: WordingCodes): W;
  /** Loads and checks the wording, builds the templates: the service the hook use case calls. */
  bind(deps: BindDeps): CdsService;
}

/** A declared service, its types erased: what the registry lists and the runtime binds. */
export type ServiceDefinition = ServiceDefinitionOf<CommonWording>;

export type TypedServiceDefinition<K extends string, W extends CommonWording, I, R> = ServiceDefinitionOf<W> & {
  readonly declaration: ServiceDeclaration<K, W, I, R>;
};

export function defineService<K extends string, W extends CommonWording, I, R>(
  declaration: ServiceDeclaration<K, W, I, R>,
): TypedServiceDefinition<K, W, I, R> {
  const d = declaration;
  const prefetchTemplates = (codes: (valueSet: string) => string) => ({
    prefetch: build(d.prefetch, codes),
    extra: d.detail?.extraPrefetch ? build(d.detail.extraPrefetch, codes) : {},
  });
  const loadWording = (dirs: WordingDirs, codes?: WordingCodes): W => loadServiceWording(d.id, d.wording, dirs, codes);
  return {
    declaration,
    loadWording,
    id: d.id,
    hook: d.hook,
    title: d.title,
    topics: d.topics,
    models: d.models,
    valueSets: d.valueSets,
    requiredPrefetch: d.requiredPrefetch,
    ...(d.imaging ? { imaging: d.imaging } : {}),
    prefetchTemplates,
    bind(deps) {
      const wording = loadWording(deps.wordingDirs, deps.codes);
      const used = topicsOf(wording);
      const undeclared = used.filter((t) => !d.topics.includes(t));
      const unused = d.topics.filter((t) => !used.includes(t));
      if (undeclared.length > 0) throw new WordingError(`cards/${d.id}.yaml: card topic(s) ${undeclared.join(', ')} not among the service's topics (src/services/${d.id}/index.ts)`);
      if (unused.length > 0) throw new WordingError(`cards/${d.id}.yaml: no card has the declared topic(s) ${unused.join(', ')}`);
      const templates = prefetchTemplates((vs) => deps.terminology.queryCodes(vs));
      const withWording = (ev: Evaluation): ServiceEvaluation<W> => ({ ...ev, wording });
      const run = (data: ResolvedPrefetch, ev: ServiceEvaluation<W>): R | undefined => {
        const inputs = d.gather(data, ev, ev.imaging);
        return inputs === undefined ? undefined : d.score(inputs, ev);
      };
      const service: CdsService = {
        description: { hook: d.hook, id: d.id, title: d.title, description: d.description, prefetch: templates.prefetch },
        requiredPrefetch: d.requiredPrefetch,
        ...(d.imaging ? { imaging: d.imaging } : {}),
        evaluate(data, evaluation) {
          const ev = withWording(evaluation);
          const results = run(data, ev);
          return results === undefined ? [] : d.cards(results, ev);
        },
        ...(d.detail ? { detail: detailView(d.detail, wording, templates.extra, topicsOf(wording), withWording, run) } : {}),
      };
      return service;
    },
  };
}

function build(templates: Readonly<Record<string, PrefetchTemplate>>, codes: (valueSet: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(templates).map(([key, t]) => [key, t(codes)]));
}

/** The topics the wording's card templates name (every card's source.topic). */
export function topicsOf(wording: CommonWording): string[] {
  return [...new Set(Object.values(wording.cards).map((c) => c.topic.code))];
}

function detailView<K extends string, W, R>(
  step: DetailStep<K, W, R>,
  wording: W,
  extraPrefetch: Record<string, string>,
  topics: readonly string[],
  withWording: (ev: Evaluation) => ServiceEvaluation<W>,
  run: (data: ResolvedPrefetch, ev: ServiceEvaluation<W>) => R | undefined,
): ServiceDetailView {
  const labels = step.labels(wording);
  return {
    topics,
    extraPrefetch,
    build(data, evaluation, view) {
      const ev = withWording(evaluation);
      const results = run(data, ev);
      if (results === undefined) {
        return { applies: false, results: [], labels, missingReasons: {}, findings: [], trends: [], extraModels: [], notes: [] };
      }
      const rescore = (other: ResolvedPrefetch, now: Date): R | undefined => run(other, { ...ev, call: { ...ev.call, now } });
      return step.build(results, data, ev, { ...view, rescore });
    },
  };
}
