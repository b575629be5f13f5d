// CDS Hooks 2.0 wire types (https://cds-hooks.hl7.org/2.0/).
import type { z } from 'zod';
import type { FhirResource, Coding } from 'fhir/r4.js';
import type { CdsRequestSchema } from './schemas.ts';

export interface CdsServiceDescription {
  hook: string;
  id: string;
  title: string;
  description: string;
  prefetch?: Record<string, string>;
  usageRequirements?: string;
}

/** The request as its schema validates it (schemas.ts): the type is the schema's, written once. */
export type CdsRequest = z.infer<typeof CdsRequestSchema>;

export interface CardSource {
  label: string;
  url?: string;
  icon?: string;
  topic?: Coding;
}

export interface Action {
  type: 'create' | 'update' | 'delete';
  description: string;
  resource?: FhirResource;
  resourceId?: string;
}

export interface Suggestion {
  label: string;
  uuid?: string;
  isRecommended?: boolean;
  actions?: Action[];
}

export interface Link {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
  appContext?: string;
}

export interface Card {
  uuid: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: CardSource;
  suggestions?: Suggestion[];
  selectionBehavior?: 'at-most-one' | 'any';
  overrideReasons?: Coding[];
  links?: Link[];
  extension?: Record<string, unknown>;
}

export interface CdsResponse {
  cards: Card[];
  systemActions?: Action[];
}
