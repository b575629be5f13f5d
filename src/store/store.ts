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
  type IssuedCardStats,
  type IssuedCardWriterOptions,
} from './issued-card-writer.ts';
import type { FeedbackItem } from '../hooks/feedback-schema.ts';
import type {
  CdsStore, IssuedCardRow, OverrideRateFilter, OverrideRateRow, OverrideReasonCount,
} from '../hooks/store-port.ts';

export type { IssuedCardStats } from './issued-card-writer.ts';
export type { StoreLogger } from './sql-driver.ts';

export interface PurgeResult {
  /** Issued-card rows older than the retention, deleted. */
  issuedCards: number;
  /** Feedback rows whose card is no longer on record, received before the same cut-off, deleted. */
  feedback: number;
}

export interface StoreStats {
  backend: 'pglite' | 'postgres';
  issuedCards: IssuedCardStats;
}

/** The hooks' port (hooks/store-port.ts), and what operations and the report CLI need besides. */
export interface Store extends CdsStore {
  readonly backend: 'pglite' | 'postgres';
  /** Versions migrated when this store was opened ([] when the schema was already current). */
  readonly migrationsApplied: readonly number[];
  /** Writes buffered issued cards now. */
  flush(): Promise<void>;
  stats(): StoreStats;
  /**
   * Erases feedback comments received before `now` minus the retention (commentRetentionDays);
   * resolves with how many. Runs by itself at open and hourly; no-op without a retention.
   */
  eraseExpiredComments(now?: Date): Promise<number>;
  /**
   * Deletes issued cards issued before `now` minus the retention (issuedCardRetentionDays), and the
   * feedback on cards no longer on record received before that cut-off. Runs by itself at open and
   * hourly; no-op without a retention.
   */
  purgeExpiredIssuedCards(now?: Date): Promise<PurgeResult>;
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
  /** ISSUED_CARD_RETENTION_DAYS: delete issued cards this many days after issue (see purgeExpiredIssuedCards). */
  issuedCardRetentionDays?: number | undefined;
  /**
   * How long feedback naming an unknown card waits before it is refused, for a card issued by
   * another instance whose write-behind buffer has not reached the database yet. Default: the
   * writer's flush interval.
   */
  unknownCardGraceMs?: number;
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

  const commentRetentionDays = opts.commentRetentionDays;
  const eraseExpiredComments = async (now = new Date()): Promise<number> => {
    if (commentRetentionDays === undefined) return 0;
    const erased = await driver.query(ERASE_COMMENTS, [daysBefore(now, commentRetentionDays).toISOString()]);
    return erased.length;
  };
  const cardRetentionDays = opts.issuedCardRetentionDays;
  const purgeExpiredIssuedCards = async (now = new Date()): Promise<PurgeResult> => {
    if (cardRetentionDays === undefined) return { issuedCards: 0, feedback: 0 };
    return purgeIssuedCards(driver, daysBefore(now, cardRetentionDays));
  };
  // At open, then hourly. A failure is logged and retried at the next tick: the data stays put.
  const housekeeping = (): void => {
    eraseExpiredComments().catch((err: unknown) => logger.warn({ err: errorInfo(err) }, 'Erasing expired feedback comments failed'));
    purgeExpiredIssuedCards().catch((err: unknown) => logger.warn({ err: errorInfo(err) }, 'Purging expired issued cards failed'));
  };
  let retentionTimer: NodeJS.Timeout | undefined;
  if (commentRetentionDays !== undefined || cardRetentionDays !== undefined) {
    housekeeping();
    retentionTimer = setInterval(housekeeping, HOUR_MS);
    retentionTimer.unref();
  }
  const graceMs = opts.unknownCardGraceMs ?? (opts.issuedCards?.flushIntervalMs ?? DEFAULT_WRITER_OPTIONS.flushIntervalMs);

  /** Indexes of the items whose card this service did not issue to this client, as the database says. */
  const unknownItems = async (serviceId: string, issuer: string, items: readonly FeedbackItem[]): Promise<number[]> => {
    const uuids = [...new Set(items.map((i) => i.card))];
    const rows = await driver.query<{ card: string }>(UNKNOWN_CARDS, [uuids, serviceId, issuer]);
    const unknown = new Set(rows.map((r) => r.card));
    return items.flatMap((item, i) => (unknown.has(item.card) ? [i] : []));
  };

  return {
    backend: driver.backend,
    migrationsApplied,
    recordIssuedCards: (rows) => writer.record(rows),
    async recordFeedback(serviceId, issuer, items) {
      if (items.length === 0) return { status: 'stored', stored: 0, duplicates: 0 };
      let unknown = await unknownItems(serviceId, issuer, items);
      if (unknown.length > 0 && writer.holdsAny(new Set(unknown.map((i) => items[i]!.card)))) {
        // Issued here moments ago, still in the write-behind buffer: write it, then look again.
        await writer.flush();
        unknown = await unknownItems(serviceId, issuer, items);
      }
      if (unknown.length > 0 && graceMs > 0) {
        // Perhaps issued moments ago by another instance sharing this database (DESIGN.md, Several instances).
        await new Promise((r) => setTimeout(r, graceMs));
        unknown = await unknownItems(serviceId, issuer, items);
      }
      if (unknown.length > 0) return { status: 'unknown-cards', items: unknown };
      return { status: 'stored', ...(await insertFeedback(driver, serviceId, items)) };
    },
    overrideRates: (filter) => queryOverrideRates(driver, filter ?? {}),
    async ping() {
      await driver.query('SELECT 1');
    },
    flush: () => writer.flush(),
    stats: () => ({ backend: driver.backend, issuedCards: writer.stats() }),
    eraseExpiredComments,
    purgeExpiredIssuedCards,
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
  INSERT INTO issued_card (card_uuid, service_id, card_kind, indicator, hook_instance, issued_at, issuer)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[])
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
    rows.map((r) => pgText(r.issuer)),
  ]);
}

function daysBefore(now: Date, days: number): Date {
  return new Date(now.getTime() - days * 24 * HOUR_MS);
}

// The card uuids of a feedback request that this service did not issue to this client. A card
// issued before migration 2 has no recorded issuer (NULL) and matches no client.
const UNKNOWN_CARDS = `
  SELECT f.card FROM unnest($1::text[]) AS f(card)
  WHERE NOT EXISTS (
    SELECT 1 FROM issued_card i
    WHERE i.card_uuid = f.card AND i.service_id = $2::text AND i.issuer = $3::text)`;

/** Rows per DELETE: a purge after a long pause must not hold the embedded database's thread for long. */
const PURGE_BATCH = 5_000;

const PURGE_ISSUED_CARDS = `
  DELETE FROM issued_card WHERE card_uuid IN (
    SELECT card_uuid FROM issued_card WHERE issued_at < $1::timestamptz LIMIT ${PURGE_BATCH})
  RETURNING 1`;

// Feedback whose card is no longer on record can no longer be attributed to a card kind: it goes
// once it is as old as the retention (so feedback given late on an old card goes a little later).
const PURGE_ORPHAN_FEEDBACK = `
  DELETE FROM card_feedback f
  WHERE f.received_at < $1::timestamptz
    AND NOT EXISTS (SELECT 1 FROM issued_card i WHERE i.card_uuid = f.card_uuid)
  RETURNING 1`;

async function purgeIssuedCards(driver: SqlDriver, cutoff: Date): Promise<PurgeResult> {
  let issuedCards = 0;
  for (;;) {
    const n = (await driver.query(PURGE_ISSUED_CARDS, [cutoff.toISOString()])).length;
    issuedCards += n;
    if (n < PURGE_BATCH) break;
  }
  const feedback = (await driver.query(PURGE_ORPHAN_FEEDBACK, [cutoff.toISOString()])).length;
  return { issuedCards, feedback };
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
// numerator and the denominator describe the same cards. Feedback is accepted only for cards we
// issued (to that client, through that service), so every counted outcome belongs to a cohort
// card; feedback stored before that rule, on uuids we never issued, is not reported. The cohort
// holds only the cards still on record: the report covers at most ISSUED_CARD_RETENTION_DAYS.
const COHORT = `
  WITH latest AS (
    SELECT DISTINCT ON (card_uuid)
           card_uuid, service_id, outcome, outcome_at, reason_system, reason_code, reason_display
    FROM card_feedback
    ORDER BY card_uuid, outcome_at DESC, id DESC
  ),
  cohort AS (
    SELECT i.card_uuid, i.service_id, i.card_kind
    FROM issued_card i
    WHERE ($1::text IS NULL OR i.service_id = $1::text)
      AND ($2::timestamptz IS NULL OR i.issued_at >= $2::timestamptz)
  )`;

const RATES = `${COHORT}
  SELECT c.service_id AS "serviceId", c.card_kind AS "cardKind",
         count(*)::int AS issued,
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
