// Persistence for CDS Hooks feedback and for the cards we issued (DESIGN.md, Contracts: Feedback;
// Real parts: Persistence). Embedded PGlite in DATA_DIR by default, PostgreSQL via DATABASE_URL,
// the same SQL on both. Nothing here identifies a patient: card uuids, service ids, the EHR's
// hookInstance, outcomes and override reasons only.
import { migrate } from './migrations.ts';
import { openSqlDriver, type SqlDriver, type StoreLogger } from './sql-driver.ts';
import {
  DEFAULT_WRITER_OPTIONS,
  errorInfo,
  IssuedCardWriter,
  type IssuedCardRow,
  type IssuedCardStats,
  type IssuedCardWriterOptions,
} from './issued-card-writer.ts';
import type { FeedbackItem } from './feedback-schema.ts';

export type { FeedbackItem } from './feedback-schema.ts';
export { FeedbackRequestSchema } from './feedback-schema.ts';
export type { IssuedCardRow, IssuedCardStats } from './issued-card-writer.ts';
export type { StoreLogger } from './sql-driver.ts';

export interface OverrideReasonCount {
  code: string;
  system?: string;
  display?: string;
  count: number;
}

export interface OverrideRateRow {
  serviceId: string;
  /** The issued card's kind; 'unknown' for feedback about a card uuid we have no record of. */
  cardKind: string;
  /** Cards of this kind issued in the period (0 for 'unknown'). */
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
  /** Cohort start: cards issued at or after this instant (feedback on unknown cards: its outcome time). */
  since?: Date;
}

export interface StoreStats {
  backend: 'pglite' | 'postgres';
  issuedCards: IssuedCardStats;
}

export interface Store {
  readonly backend: 'pglite' | 'postgres';
  /** Versions migrated when this store was opened ([] when the schema was already current). */
  readonly migrationsApplied: readonly number[];
  /** Hot path of every hook call: O(1) per row, synchronous, never throws, never waits on the DB. */
  recordIssuedCards(rows: readonly IssuedCardRow[]): void;
  /** Idempotent on (card, outcome, outcomeTimestamp): a repeat counts as a duplicate, not an error. */
  recordFeedback(serviceId: string, items: readonly FeedbackItem[]): Promise<{ stored: number; duplicates: number }>;
  overrideRates(filter?: OverrideRateFilter): Promise<OverrideRateRow[]>;
  /** Resolves when the database answers (readiness probe). */
  ping(): Promise<void>;
  /** Writes buffered issued cards now. */
  flush(): Promise<void>;
  stats(): StoreStats;
  /**
   * Erases feedback comments received before `now` minus the retention (commentRetentionDays);
   * resolves with how many. Runs by itself at open and hourly; no-op without a retention.
   */
  eraseExpiredComments(now?: Date): Promise<number>;
  /** Flushes, then closes the database. */
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PostgreSQL connection string; without it, PGlite in `${dataDir}/pglite`. */
  databaseUrl?: string;
  dataDir: string;
  logger?: StoreLogger;
  /** Tuning of the issued-card write-behind buffer (tests use small values). */
  issuedCards?: Partial<Omit<IssuedCardWriterOptions, 'logger'>>;
  /** FEEDBACK_COMMENT_RETENTION_DAYS: erase feedback comments this many days after receipt. */
  commentRetentionDays?: number | undefined;
}

const HOUR_MS = 3_600_000;

const TOP_REASONS = 5;
// Defensive bounds for values that reach us from the EHR (hookInstance) on the hot path.
const MAX_HOOK_INSTANCE = 256;

export async function openStore(opts: StoreOptions): Promise<Store> {
  const logger = opts.logger ?? stderrLogger;
  const driver = await openSqlDriver({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir, logger });
  let migrationsApplied: number[];
  try {
    const result = await migrate(driver);
    migrationsApplied = result.applied;
    if (result.newer.length > 0) {
      logger.warn({ versions: result.newer }, 'Database schema is newer than this release (rolled-back deploy?)');
    }
  } catch (err) {
    await driver.close().catch(() => undefined);
    throw err;
  }
  const writer = new IssuedCardWriter((rows) => insertIssuedCards(driver, rows), {
    ...DEFAULT_WRITER_OPTIONS,
    ...opts.issuedCards,
    logger,
    isPermanent: isDataError,
  });
  let closing: Promise<void> | undefined;

  const retentionDays = opts.commentRetentionDays;
  const eraseExpiredComments = async (now = new Date()): Promise<number> => {
    if (retentionDays === undefined) return 0;
    const cutoff = new Date(now.getTime() - retentionDays * 24 * HOUR_MS);
    const erased = await driver.query(ERASE_COMMENTS, [cutoff.toISOString()]);
    return erased.length;
  };
  // At open, then hourly. A failure is logged and retried at the next tick: the data stays put.
  const eraseInBackground = (): void => {
    eraseExpiredComments().catch((err: unknown) => logger.warn({ err: errorInfo(err) }, 'Erasing expired feedback comments failed'));
  };
  let retentionTimer: NodeJS.Timeout | undefined;
  if (retentionDays !== undefined) {
    eraseInBackground();
    retentionTimer = setInterval(eraseInBackground, HOUR_MS);
    retentionTimer.unref();
  }

  return {
    backend: driver.backend,
    migrationsApplied,
    recordIssuedCards: (rows) => writer.record(rows),
    recordFeedback: (serviceId, items) => insertFeedback(driver, serviceId, items),
    overrideRates: (filter) => queryOverrideRates(driver, filter ?? {}),
    async ping() {
      await driver.query('SELECT 1');
    },
    flush: () => writer.flush(),
    stats: () => ({ backend: driver.backend, issuedCards: writer.stats() }),
    eraseExpiredComments,
    close() {
      closing ??= (async () => {
        clearInterval(retentionTimer);
        await writer.close();
        await driver.close();
      })();
      return closing;
    },
  };
}

// One statement per batch whatever its size: arrays unnested server-side keep the SQL text (and
// so the prepared plan) constant, and stay far below the 65535-parameter limit of VALUES lists.
const INSERT_ISSUED_CARDS = `
  INSERT INTO issued_card (card_uuid, service_id, card_kind, indicator, hook_instance, issued_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
  ON CONFLICT (card_uuid) DO NOTHING`;

async function insertIssuedCards(driver: SqlDriver, rows: readonly IssuedCardRow[]): Promise<void> {
  await driver.query(INSERT_ISSUED_CARDS, [
    rows.map((r) => pgText(r.uuid)),
    rows.map((r) => pgText(r.serviceId)),
    rows.map((r) => pgText(r.cardKind)),
    rows.map((r) => pgText(r.indicator)),
    rows.map((r) => pgText(r.hookInstance.slice(0, MAX_HOOK_INSTANCE))),
    // An invalid Date would fail the whole batch on every retry; "now" is close enough.
    rows.map((r) => (Number.isNaN(r.issuedAt.getTime()) ? new Date() : r.issuedAt).toISOString()),
  ]);
}

/** PostgreSQL text cannot hold NUL; one in an EHR-supplied string must not fail a statement. */
function pgText(s: string): string;
function pgText(s: string | null): string | null;
function pgText(s: string | null): string | null {
  return s === null ? null : s.replaceAll('\u0000', '');
}

/**
 * SQLSTATE classes 22 (data exception) and 23 (integrity violation): the statement itself is
 * wrong, so retrying cannot help; connection and server errors (08, 53, 57, …) are transient.
 */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

// Only the free text goes: outcome, reason codes and times keep the override-rate reports intact.
const ERASE_COMMENTS = `
  UPDATE card_feedback SET user_comment = NULL
  WHERE user_comment IS NOT NULL AND received_at < $1::timestamptz
  RETURNING id`;

const INSERT_FEEDBACK = `
  INSERT INTO card_feedback (service_id, card_uuid, outcome, outcome_at, accepted_suggestions,
                             reason_system, reason_code, reason_display, user_comment)
  SELECT $1::text, f.card_uuid, f.outcome, f.outcome_at, f.accepted::jsonb,
         f.reason_system, f.reason_code, f.reason_display, f.user_comment
  FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
       AS f(card_uuid, outcome, outcome_at, accepted, reason_system, reason_code, reason_display, user_comment)
  ON CONFLICT ON CONSTRAINT card_feedback_idempotency DO NOTHING
  RETURNING id`;

async function insertFeedback(
  driver: SqlDriver,
  serviceId: string,
  items: readonly FeedbackItem[],
): Promise<{ stored: number; duplicates: number }> {
  if (items.length === 0) return { stored: 0, duplicates: 0 };
  const inserted = await driver.query<{ id: unknown }>(INSERT_FEEDBACK, [
    serviceId,
    items.map((i) => i.card),
    items.map((i) => i.outcome),
    items.map((i) => i.outcomeTimestamp),
    // Only the ids: that is all CDS Hooks sends, and all a report needs.
    items.map((i) => (i.acceptedSuggestions ? JSON.stringify(i.acceptedSuggestions.map((s) => s.id)) : null)),
    items.map((i) => pgText(i.overrideReason?.reason?.system ?? null)),
    items.map((i) => pgText(i.overrideReason?.reason?.code ?? null)),
    items.map((i) => pgText(i.overrideReason?.reason?.display ?? null)),
    items.map((i) => pgText(i.overrideReason?.userComment ?? null)),
  ]);
  // Repeats inside one request and repeats of earlier requests both land in ON CONFLICT.
  return { stored: inserted.length, duplicates: items.length - inserted.length };
}

// Which outcome counts when a card has several: the latest by outcomeTimestamp (then by arrival).
// The spec allows a card once ignored to be acted on later, and clients re-send; counting each
// card once keeps accepted + overridden <= cards, so the rate is a rate over cards, not clicks.
// The cohort is the cards *issued* in the period (not the feedback received in it), so the
// numerator and the denominator describe the same cards. Feedback for uuids we never recorded
// (issued before this store existed, or by another system) forms the 'unknown' kind, placed in
// the period by its outcome time.
const COHORT = `
  WITH latest AS (
    SELECT DISTINCT ON (card_uuid)
           card_uuid, service_id, outcome, outcome_at, reason_system, reason_code, reason_display
    FROM card_feedback
    ORDER BY card_uuid, outcome_at DESC, id DESC
  ),
  cohort AS (
    SELECT i.card_uuid, i.service_id, i.card_kind, true AS issued
    FROM issued_card i
    WHERE ($1::text IS NULL OR i.service_id = $1::text)
      AND ($2::timestamptz IS NULL OR i.issued_at >= $2::timestamptz)
    UNION ALL
    SELECT l.card_uuid, l.service_id, 'unknown', false
    FROM latest l
    WHERE NOT EXISTS (SELECT 1 FROM issued_card i WHERE i.card_uuid = l.card_uuid)
      AND ($1::text IS NULL OR l.service_id = $1::text)
      AND ($2::timestamptz IS NULL OR l.outcome_at >= $2::timestamptz)
  )`;

const RATES = `${COHORT}
  SELECT c.service_id AS "serviceId", c.card_kind AS "cardKind",
         (count(*) FILTER (WHERE c.issued))::int AS issued,
         (count(*) FILTER (WHERE l.outcome = 'accepted'))::int AS accepted,
         (count(*) FILTER (WHERE l.outcome = 'overridden'))::int AS overridden
  FROM cohort c LEFT JOIN latest l ON l.card_uuid = c.card_uuid
  GROUP BY c.service_id, c.card_kind
  ORDER BY c.service_id, c.card_kind`;

// Reasons are grouped by (system, code): the same code may mean different things in two systems.
// The display is optional on the wire (the Sandbox omits it); any one sent is shown.
const REASONS = `${COHORT},
  counted AS (
    SELECT c.service_id, c.card_kind, l.reason_system, l.reason_code,
           max(l.reason_display) AS reason_display, count(*)::int AS n
    FROM cohort c JOIN latest l ON l.card_uuid = c.card_uuid
    WHERE l.outcome = 'overridden' AND l.reason_code IS NOT NULL
    GROUP BY c.service_id, c.card_kind, l.reason_system, l.reason_code
  )
  SELECT service_id AS "serviceId", card_kind AS "cardKind", reason_system AS system,
         reason_code AS code, reason_display AS display, n AS count
  FROM (
    SELECT counted.*, row_number() OVER (
             PARTITION BY service_id, card_kind ORDER BY n DESC, reason_code, reason_system) AS rank
    FROM counted
  ) ranked
  WHERE rank <= ${TOP_REASONS}
  ORDER BY "serviceId", "cardKind", rank`;

interface RateRow {
  serviceId: string;
  cardKind: string;
  issued: number;
  accepted: number;
  overridden: number;
}

interface ReasonRow {
  serviceId: string;
  cardKind: string;
  system: string | null;
  code: string;
  display: string | null;
  count: number;
}

async function queryOverrideRates(driver: SqlDriver, filter: OverrideRateFilter): Promise<OverrideRateRow[]> {
  if (filter.since && Number.isNaN(filter.since.getTime())) throw new Error('overrideRates: since is not a valid date');
  const params = [filter.serviceId ?? null, filter.since ? filter.since.toISOString() : null];
  // Sequential, not Promise.all: PGlite runs one query at a time anyway.
  const rates = await driver.query<RateRow>(RATES, params);
  const reasons = await driver.query<ReasonRow>(REASONS, params);
  const key = (r: { serviceId: string; cardKind: string }) => JSON.stringify([r.serviceId, r.cardKind]);
  const reasonsByKind = new Map<string, OverrideReasonCount[]>();
  for (const r of reasons) {
    const list = reasonsByKind.get(key(r)) ?? [];
    const reason: OverrideReasonCount = { code: r.code, count: Number(r.count) };
    if (r.system !== null) reason.system = r.system;
    if (r.display !== null) reason.display = r.display;
    list.push(reason);
    reasonsByKind.set(key(r), list);
  }
  return rates.map((r) => {
    const accepted = Number(r.accepted);
    const overridden = Number(r.overridden);
    const answered = accepted + overridden;
    return {
      serviceId: r.serviceId,
      cardKind: r.cardKind,
      issued: Number(r.issued),
      accepted,
      overridden,
      overrideRate: answered === 0 ? null : overridden / answered,
      topReasons: reasonsByKind.get(key(r)) ?? [],
    };
  });
}

/** Fallback when no logger is given (CLI): one JSON line per event on stderr, like pino. */
const stderrLogger: StoreLogger = {
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', ...obj, msg })}\n`),
  error: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'error', ...obj, msg })}\n`),
};
