// A deliberately tiny SQL driver: the store speaks plain PostgreSQL through it, and the same SQL text
// runs on the embedded PGlite (Postgres compiled to WASM) and on a real server through `pg`
// (DESIGN.md, "Real parts": embedded default, PostgreSQL through DATABASE_URL, same SQL).
// Type parsing differs between the two (pg returns int8 as a string, PGlite as a number), so the
// store's SQL casts counts to int and passes timestamps as ISO strings: then both agree.
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PoolClient, PoolConfig } from 'pg';
import type { PgliteErrorData, PgliteReply, PgliteRequest, PgliteThreadData } from './pglite-thread.ts';

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
    const thread = await PgliteThread.start(dir, logger);
    return {
      backend: 'pglite',
      query: (sql, params) => thread.query(sql, params),
      exec: (sql) => thread.exec(sql),
      transaction: (fn) => thread.transaction(fn),
      async close(): Promise<void> {
        try {
          await thread.close();
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

/** A failed statement, with PostgreSQL's SQLSTATE as `code` (as pg and PGlite errors have it). */
export class SqlError extends Error {
  readonly code: string | undefined;
  constructor(e: PgliteErrorData) {
    super(e.message);
    this.name = 'SqlError';
    this.code = e.code;
  }
}

// The thread runs from source (.ts, Node's type stripping) or from a build (.js), as this module does.
const PGLITE_THREAD_URL = new URL(import.meta.url.endsWith('.ts') ? './pglite-thread.ts' : './pglite-thread.js', import.meta.url);

/**
 * JS heap of the database thread. The store's results are small (counts, rates, one row per card):
 * a statement that would build a larger result ends the thread (ERR_WORKER_OUT_OF_MEMORY), which is
 * then restarted, instead of growing the heap until the whole service dies. PGlite's own memory (WASM)
 * is outside this limit. Node enforces it on a best-effort basis only (nodejs/node PR #65019): in our
 * test runs a result past it sometimes aborted the whole process instead (FATAL "Reached heap limit",
 * or a segmentation fault). So the limit is a last line of defence against a runaway statement, not a
 * recovery path the tests exercise; the restart after a thread death is tested with a thread that exits.
 */
const PGLITE_THREAD_HEAP_MB = 128;
/** Restart back-off after the thread dies: 1 s, doubling up to 1 min while restarts keep failing. */
const RESTART_FIRST_DELAY_MS = 1_000;
const RESTART_MAX_DELAY_MS = 60_000;

/**
 * PGlite in its own thread (pglite-thread.ts), so that its synchronous WASM work never stalls HTTP.
 * Statements run one at a time, in call order; a transaction holds the thread from BEGIN to
 * COMMIT/ROLLBACK, so no other statement can land inside it (PGlite has a single session).
 * If the thread dies (a WASM abort, its heap limit), statements fail at once while a new thread
 * reopens the same folder (PostgreSQL's crash recovery replays its WAL), as a process restart would,
 * but without losing the HTTP service or the issued-card rows waiting in the writer.
 */
export class PgliteThread {
  readonly #dir: string;
  readonly #logger: StoreLogger;
  readonly #script: URL;
  readonly #pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (err: Error) => void }>();
  #worker!: Worker;
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();
  #stopped: Error | undefined;
  #closing = false;
  #restartTimer: NodeJS.Timeout | undefined;

  private constructor(dir: string, logger: StoreLogger, script: URL) {
    this.#dir = dir;
    this.#logger = logger;
    this.#script = script;
  }

  /** `script`: the thread's entry point; tests pass one that wraps pglite-thread.ts. */
  static async start(dir: string, logger: StoreLogger, script: URL = PGLITE_THREAD_URL): Promise<PgliteThread> {
    const thread = new PgliteThread(dir, logger, script);
    await thread.#spawn();
    return thread;
  }

  query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.#exclusive(() => this.#send({ op: 'query', sql, params })) as Promise<T[]>;
  }

  async exec(sql: string): Promise<void> {
    await this.#exclusive(() => this.#send({ op: 'exec', sql }));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    // Inside, statements go straight to the thread: the queue is held until COMMIT or ROLLBACK.
    const tx: SqlExecutor = {
      query: async <R>(sql: string, params: readonly unknown[] = []) => (await this.#send({ op: 'query', sql, params })) as R[],
      exec: async (sql: string) => {
        await this.#send({ op: 'exec', sql });
      },
    };
    return this.#exclusive(async () => {
      await this.#send({ op: 'exec', sql: 'BEGIN' });
      try {
        const result = await fn(tx);
        await this.#send({ op: 'exec', sql: 'COMMIT' });
        return result;
      } catch (err) {
        await this.#send({ op: 'exec', sql: 'ROLLBACK' }).catch(() => undefined);
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#restartTimer);
    try {
      // After everything already queued: closing must not cut a write short.
      await this.#exclusive(() => (this.#stopped ? Promise.resolve([]) : this.#send({ op: 'close' })));
    } finally {
      await this.#worker.terminate();
      this.#down(new Error('closed'));
    }
  }

  /** Starts a thread on the folder; resolves when PGlite has opened it. */
  #spawn(): Promise<void> {
    const worker = new Worker(this.#script, {
      workerData: { dir: this.#dir } satisfies PgliteThreadData,
      resourceLimits: { maxOldGenerationSizeMb: PGLITE_THREAD_HEAP_MB },
    });
    this.#worker = worker;
    return new Promise((resolvePromise, reject) => {
      let ready = false;
      worker.on('message', (m: PgliteReply) => {
        if ('ready' in m) {
          ready = true;
          this.#stopped = undefined;
          return resolvePromise();
        }
        if ('failed' in m) return reject(new SqlError(m.failed));
        this.#settle(m);
      });
      const died = (cause: Error): void => {
        if (!ready) return reject(cause);
        if (worker === this.#worker) this.#down(cause);
      };
      worker.on('error', died);
      worker.on('exit', (code) => died(new Error(`The embedded database thread exited (code ${code})`)));
    });
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #send(req: DistributiveOmit<PgliteRequest, 'id'>): Promise<unknown[]> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    return new Promise((resolvePromise, reject) => {
      this.#pending.set(id, { resolve: resolvePromise, reject });
      this.#worker.postMessage({ ...req, id });
    });
  }

  #settle(m: Extract<PgliteReply, { id: number }>): void {
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if ('error' in m) p.reject(new SqlError(m.error));
    else p.resolve(m.rows);
  }

  /** The thread is gone: every statement, pending or later, fails until a new thread is ready. */
  #down(cause: Error): void {
    if (this.#stopped) return;
    this.#stopped = new Error('The embedded database thread stopped');
    for (const p of this.#pending.values()) p.reject(this.#stopped);
    this.#pending.clear();
    if (this.#closing) return;
    this.#logger.error({ err: { message: cause.message } }, 'The embedded database thread stopped; restarting it');
    this.#restartAfter(RESTART_FIRST_DELAY_MS);
  }

  #restartAfter(delayMs: number): void {
    this.#restartTimer = setTimeout(() => {
      this.#spawn().then(
        () => {
          if (this.#closing) return;
          this.#logger.warn({}, 'The embedded database thread restarted');
        },
        (err: Error) => {
          void this.#worker.terminate();
          if (this.#closing) return;
          this.#logger.error({ err: { message: err.message } }, 'The embedded database thread could not restart; retrying');
          this.#restartAfter(Math.min(delayMs * 2, RESTART_MAX_DELAY_MS));
        },
      );
    }, delayMs);
    // A pending restart must not keep a stopping process alive.
    this.#restartTimer.unref();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

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
