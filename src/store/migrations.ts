// Schema migrations: numbered, applied in order at open, each recorded in schema_migrations.
// Never edit a released migration: add the next number. The SQL is plain PostgreSQL and runs
// unchanged on PGlite and on a PostgreSQL server.
import type { SqlDriver } from './sql-driver.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'issued cards and card feedback',
    // No patient data: card uuids, service ids, the EHR's hookInstance, outcomes and reasons.
    // Card uuids are text, not uuid: CDS Hooks calls them uuids, but feedback for cards we never
    // issued (other services, test clients) must still be stored and reported as "unknown".
    sql: `
      CREATE TABLE IF NOT EXISTS issued_card (
        card_uuid      text PRIMARY KEY,
        service_id     text NOT NULL,
        card_kind      text NOT NULL,
        indicator      text NOT NULL,
        hook_instance  text NOT NULL,
        issued_at      timestamptz NOT NULL
      );
      CREATE INDEX IF NOT EXISTS issued_card_service_issued_at ON issued_card (service_id, issued_at);

      CREATE TABLE IF NOT EXISTS card_feedback (
        id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        service_id            text NOT NULL,
        card_uuid             text NOT NULL,
        outcome               text NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
        outcome_at            timestamptz NOT NULL,
        accepted_suggestions  jsonb,
        reason_system         text,
        reason_code           text,
        reason_display        text,
        user_comment          text,
        received_at           timestamptz NOT NULL DEFAULT now(),
        -- CDS Hooks feedback is retried by clients: this key makes a repeat a no-op (DESIGN.md,
        -- Contracts: Feedback). timestamptz normalises "…Z" and "…+01:00" spellings of one instant.
        CONSTRAINT card_feedback_idempotency UNIQUE (card_uuid, outcome, outcome_at)
      );
      CREATE INDEX IF NOT EXISTS card_feedback_service_outcome_at ON card_feedback (service_id, outcome_at);
    `,
  },
  {
    version: 2,
    name: 'issued card recipient; retention index',
    // Feedback counts only from the client (JWT iss) that received the card (issue 11). Cards issued
    // before this migration have no recorded recipient (NULL): feedback on them is refused.
    // issued_at alone is what the retention purge selects by.
    sql: `
      ALTER TABLE issued_card ADD COLUMN IF NOT EXISTS issuer text;
      CREATE INDEX IF NOT EXISTS issued_card_issued_at ON issued_card (issued_at);
    `,
  },
];

/** Any constant shared by all instances: serialises migrations when several replicas start at once. */
const MIGRATION_LOCK_KEY = 4_127_330_551;

export interface MigrationResult {
  /** Versions applied by this call; an up-to-date database gives []. */
  applied: number[];
  /** Versions recorded in the database that this code does not know (a newer release ran). */
  newer: number[];
}

/** Applies the pending migrations in one transaction (PostgreSQL DDL is transactional: all or none). */
export async function migrate(driver: SqlDriver, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version <= migrations[i - 1]!.version) {
      throw new Error(`Migrations out of order at version ${migrations[i]!.version}`);
    }
  }
  return driver.transaction(async (tx) => {
    // Two replicas starting together would otherwise both see "not applied" and race on the DDL.
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version     integer PRIMARY KEY,
        name        text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now()
      )
    `);
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    const known = new Set(migrations.map((m) => m.version));
    // A newer release migrated this database (a rolled-back deploy): migrations only add, so the
    // old code keeps working; the caller warns rather than refusing to start.
    const newer = [...done].filter((v) => !known.has(v)).sort((a, b) => a - b);
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return { applied, newer };
  });
}
