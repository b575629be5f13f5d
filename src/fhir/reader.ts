// One evaluation's view of the FHIR data: the pickers of observations.ts and conditions.ts bound to
// the runtime's terminology and unit converter and to this evaluation's cache of derived views
// (flattened resources, Observations with parsed dates). Built per evaluation (services/evaluation.ts),
// dropped with it: nothing about a call outlives the call.
import type { FhirResource } from 'fhir/r4.js';
import type { Terminology, CodingsLike } from './terminology.ts';
import type { UnitConverter } from './units.ts';
import {
  latestBoolean, latestCode, latestInteger, latestQuantity, observationsIn, resourcesOf,
  type CodeOptions, type FhirContext, type IntegerOptions, type LatestOptions, type Lookup, type MatchedObservation,
  type QuantityOptions, type ResourceSource, type ViewCache,
} from './observations.ts';
import { findConditions, proceduresWithin, type ConditionMatch, type ConditionOptions, type ProcedureMatch, type ProcedureOptions } from './conditions.ts';

export interface FhirReader {
  readonly terminology: Terminology;
  readonly units: UnitConverter;
  resourcesOf(source: ResourceSource): readonly FhirResource[];
  observationsIn(source: ResourceSource, valueSet: string): MatchedObservation[];
  latestQuantity(source: ResourceSource, opts: QuantityOptions): Lookup<number>;
  latestBoolean(source: ResourceSource, opts: LatestOptions): Lookup<boolean>;
  latestInteger(source: ResourceSource, opts: IntegerOptions): Lookup<number>;
  latestCode(source: ResourceSource, opts: CodeOptions): Lookup<string>;
  findConditions(source: ResourceSource, valueSet: string, options: ConditionOptions): ConditionMatch[];
  proceduresWithin(source: ResourceSource, valueSet: string, options: ProcedureOptions): ProcedureMatch[];
  valueSetContains(valueSet: string, codings: CodingsLike): boolean;
}

export function createFhirReader(deps: { terminology: Terminology; units: UnitConverter }): FhirReader {
  const views: ViewCache = new Map();
  const fx: FhirContext = { terminology: deps.terminology, units: deps.units, views };
  return {
    terminology: deps.terminology,
    units: deps.units,
    resourcesOf: (source) => resourcesOf(source, views),
    observationsIn: (source, valueSet) => observationsIn(fx, source, valueSet),
    latestQuantity: (source, opts) => latestQuantity(fx, source, opts),
    latestBoolean: (source, opts) => latestBoolean(fx, source, opts),
    latestInteger: (source, opts) => latestInteger(fx, source, opts),
    latestCode: (source, opts) => latestCode(fx, source, opts),
    findConditions: (source, valueSet, options) => findConditions(fx, source, valueSet, options),
    proceduresWithin: (source, valueSet, options) => proceduresWithin(fx, source, valueSet, options),
    valueSetContains: (valueSet, codings) => deps.terminology.valueSetContains(valueSet, codings),
  };
}
