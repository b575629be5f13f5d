// A deliberately tiny SQL driver: the store speaks plain PostgreSQL through it, and the same SQL text
// runs on the embedded PGlite (Postgres compiled to WASM) and on a real server through `pg`
// (DESIGN.md, "Real parts": embedded default, PostgreSQL through DATABASE_URL, same SQL).
// Type parsing differs between the two (pg returns int8 as a string, PGlite as a number), so the
// store's SQL casts counts to int and passes timestamps as ISO strings: then both agree.
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { PoolClient, PoolConfig } from 'pg';

export interface StoreLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SqlExecutor {
  /** One statement, `$1`-style parameters; rows as plain objects keyed by column name. */
  query<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** One or more statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlDriver extends SqlExecutor {
  readonly backend: 'pglite' | 'postgres';
  /** BEGIN … COMMIT on one connection; ROLLBACK if `fn` throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DriverOptions {
  databaseUrl?: string;
  dataDir: string;
  logger: StoreLogger;
}

export function openSqlDriver(opts: DriverOptions): Promise<SqlDriver> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.logger) : openPglite(opts.dataDir, opts.logger);
}

/** Where the embedded database lives inside DATA_DIR. */
export function pgliteDir(dataDir: string): string {
  return join(dataDir, 'pglite');
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL through a `pg` Pool

async function openPostgres(databaseUrl: string, logger: StoreLogger): Promise<SqlDriver> {
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

// ---------------------------------------------------------------------------------------------
// PGlite: embedded, persisted under `${dataDir}/pglite`

/** Directories opened by this process: PGlite is single-user, two handles on one folder corrupt it. */
const openDirs = new Set<string>();

async function openPglite(dataDir: string, logger: StoreLogger): Promise<SqlDriver> {
  const dir = resolve(pgliteDir(dataDir));
  await mkdir(dir, { recursive: true });
  const releaseLock = await lockDataDir(dir, logger);
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create(dir);
    const executor = (c: {
      query: (sql: string, params?: unknown[]) => Promise<{ rows: unknown[] }>;
      exec: (sql: string) => Promise<unknown>;
    }): SqlExecutor => ({
      async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
        const res = await c.query(sql, params as unknown[]);
        return res.rows as T[];
      },
      async exec(sql: string): Promise<void> {
        await c.exec(sql);
      },
    });
    const direct = executor(db);
    return {
      backend: 'pglite',
      query: direct.query,
      exec: direct.exec,
      transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> => db.transaction((tx) => fn(executor(tx))),
      async close(): Promise<void> {
        try {
          if (!db.closed) await db.close();
        } finally {
          await releaseLock();
        }
      },
    };
  } catch (err) {
    await releaseLock();
    throw err;
  }
}

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

/**
 * PGlite has no multi-process locking of its own: a second process (say, the report CLI while the
 * server runs) opening the same folder would corrupt it. A lock file next to the data names the
 * holder; a lock left by a dead process (crash, container restart) is taken over, so a stale file
 * never stops the server from starting.
 */
async function lockDataDir(dir: string, logger: StoreLogger): Promise<() => Promise<void>> {
  if (openDirs.has(dir)) {
    throw new Error(`The embedded database in ${dir} is already open in this process`);
  }
  const lockPath = `${dir}.lock`;
  const mine: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockPath, 'wx');
      await fh.writeFile(JSON.stringify(mine));
      await fh.close();
      openDirs.add(dir);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        openDirs.delete(dir);
        await rm(lockPath, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readLock(lockPath);
    if (holder && isLiveOtherProcess(holder)) {
      throw new Error(
        `The embedded database in ${dir} is in use by process ${holder.pid} since ${holder.since}. ` +
          `Stop that process, or use DATABASE_URL (PostgreSQL) to share the data between processes. ` +
          `If no such process runs, delete ${lockPath}.`,
      );
    }
    logger.warn({ lockPath, holder }, 'Taking over a stale embedded-database lock');
    await rm(lockPath, { force: true });
  }
  throw new Error(`Could not lock the embedded database in ${dir}`);
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockInfo>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return { pid: parsed.pid, host: parsed.host, since: String(parsed.since ?? '') };
  } catch {
    return undefined; // unreadable or half-written: treat as stale
  }
}

function isLiveOtherProcess(holder: LockInfo): boolean {
  // Another host (shared volume) cannot be checked; a recreated container also gets a new
  // hostname, so assuming "stale" there is what lets it start. Same pid as ours: a previous
  // incarnation (pid 1 in a restarted container), since in-process reuse is caught by openDirs.
  if (holder.host !== hostname() || holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
  // After a crash the pid may have been reused by an unrelated program: only a Node process
  // can hold this lock. Where /proc is unavailable, err on the safe side (treat as live).
  try {
    return readFileSync(`/proc/${holder.pid}/cmdline`, 'latin1').includes('node');
  } catch {
    return true;
  }
}
