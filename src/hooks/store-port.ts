// What the CDS routes need from persistence, defined here and filled by the store (store/store.ts),
// so that hooks/ never imports store/ (DESIGN.md, House rules: hooks define the port the store fills).
// Nothing here identifies a patient: card uuids, service ids, the EHR's hookInstance, outcomes and
// override reasons only.
import type { FeedbackItem } from './feedback-schema.ts';

/** One card as issued, for the override-rate denominators and for binding feedback to the card's recipient. */
export interface IssuedCardRow {
  uuid: string;
  serviceId: string;
  /** The card's topic code (liver-prognosis, sarcopenia, ...): override rates are reported per kind. */
  cardKind: string;
  indicator: string;
  hookInstance: string;
  /** The `iss` of the CDS client (JWT) that received the card: only it may send feedback on it. */
  issuer: string;
  issuedAt: Date;
}

/**
 * What became of a feedback request (errors are values: the route turns 'unknown-cards' into a 404).
 * 'unknown-cards': some items name a card this service did not issue to this client (or one purged
 * after the retention); nothing of the request was stored. `items` are their indexes in the request.
 */
export type FeedbackOutcome =
  | { status: 'stored'; stored: number; duplicates: number }
  | { status: 'unknown-cards'; items: number[] };

export interface OverrideReasonCount {
  code: string;
  system?: string;
  display?: string;
  count: number;
}

export interface OverrideRateRow {
  serviceId: string;
  /** The issued card's kind (its topic code). */
  cardKind: string;
  /** Cards of this kind issued in the period (and still on record: see issuedCardRetentionDays). */
  issued: number;
  /** Cards whose latest feedback is 'accepted'. */
  accepted: number;
  /** Cards whose latest feedback is 'overridden'. */
  overridden: number;
  /** overridden / (accepted + overridden); null when no card of this kind got feedback. */
  overrideRate: number | null;
  /** The most frequent coded reasons among the overridden cards, most frequent first (at most 5). */
  topReasons: OverrideReasonCount[];
}

export interface OverrideRateFilter {
  serviceId?: string;
  /** Cohort start: cards issued at or after this instant. */
  since?: Date;
}

export interface CdsStore {
  /** Hot path of every hook call: O(1) per row, synchronous, never throws, never waits on the DB. */
  recordIssuedCards(rows: readonly IssuedCardRow[]): void;
  /**
   * Stores feedback from the client `issuer` through service `serviceId`, only if every item names a
   * card that this service issued to that client (checked in the database, after writing this
   * process's buffered cards; a card issued moments ago by another instance gets one flush interval
   * to arrive). Idempotent on (card, outcome, outcomeTimestamp): a repeat counts as a duplicate.
   */
  recordFeedback(serviceId: string, issuer: string, items: readonly FeedbackItem[]): Promise<FeedbackOutcome>;
  overrideRates(filter?: OverrideRateFilter): Promise<OverrideRateRow[]>;
  /** Resolves when the database answers (readiness probe). */
  ping(): Promise<void>;
}
