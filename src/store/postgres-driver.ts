// The SQL driver (sql-driver.ts) on a PostgreSQL server, through a `pg` Pool (DATABASE_URL).
import type { PoolClient, PoolConfig } from 'pg';
import type { SqlDriver, SqlExecutor, StoreLogger } from './sql-driver.ts';

export async function openPostgres(databaseUrl: string, logger: StoreLogger): Promise<SqlDriver> {
  // Imported lazily: an embedded-only deployment never loads pg, and vice versa.
  const { default: pg } = await import('pg');
  const config: PoolConfig = {
    connectionString: databaseUrl,
    max: 5,
    // Fail fast (readiness probe, hook hot path never waits on this anyway) instead of hanging.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 15_000,
    application_name: 'imaging-cds-hooks',
  };
  const pool = new pg.Pool(config);
  // Without a listener, an idle client's socket error (server restart, failover) crashes Node.
  // Only the message and code: a connection error never needs the URL (it may carry a password).
  pool.on('error', (err: Error & { code?: string }) => {
    logger.warn({ err: { message: err.message, code: err.code } }, 'PostgreSQL idle client error');
  });

  const executor = (c: { query: PoolClient['query'] }): SqlExecutor => ({
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      const res = await c.query(sql, params as unknown[]);
      return res.rows as T[];
    },
    async exec(sql: string): Promise<void> {
      // No parameters: pg uses the simple query protocol, which accepts several statements.
      await c.query(sql);
    },
  });
  const direct = executor(pool);
  return {
    backend: 'postgres',
    query: direct.query,
    exec: direct.exec,
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(executor(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          // The connection is unusable: destroy it instead of returning it to the pool.
          broken = rollbackErr as Error;
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
