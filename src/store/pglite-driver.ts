// The SQL driver (sql-driver.ts) on the embedded PGlite, persisted under `${dataDir}/pglite` and run
// in a thread of its own (pglite-thread.ts) through the worker-RPC helper (threads/worker-rpc.ts).
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { WorkerRpc, workerEntry } from '../threads/worker-rpc.ts';
import { lockDataDir } from './data-dir-lock.ts';
import type { PgliteErrorData, PgliteReply, PgliteRequest, PgliteThreadData } from './pglite-thread.ts';
import type { SqlDriver, SqlExecutor, StoreLogger } from './sql-driver.ts';

/** Where the embedded database lives inside DATA_DIR. */
export function pgliteDir(dataDir: string): string {
  return join(dataDir, 'pglite');
}

export async function openPglite(dataDir: string, logger: StoreLogger): Promise<SqlDriver> {
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

/** The thread's report of why PGlite could not open the folder (plain data from pglite-thread.ts). */
function openError(data: unknown): SqlError {
  const d: { message?: unknown; code?: unknown } = typeof data === 'object' && data !== null ? data : {};
  return new SqlError({
    message: typeof d.message === 'string' ? d.message : 'The embedded database could not be opened',
    ...(typeof d.code === 'string' ? { code: d.code } : {}),
  });
}

const PGLITE_THREAD_URL = workerEntry(import.meta.url, 'pglite-thread');

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
const RESTART = { firstDelayMs: 1_000, retryDelayMs: 2_000, maxDelayMs: 60_000 };

/**
 * PGlite in its own thread (pglite-thread.ts), so that its synchronous WASM work never stalls HTTP.
 * Statements run one at a time, in call order; a transaction holds the thread from BEGIN to
 * COMMIT/ROLLBACK, so no other statement can land inside it (PGlite has a single session).
 * If the thread dies (a WASM abort, its heap limit), statements fail at once while a new thread
 * reopens the same folder (PostgreSQL's crash recovery replays its WAL), as a process restart would,
 * but without losing the HTTP service or the issued-card rows waiting in the writer.
 */
export class PgliteThread {
  readonly #rpc: WorkerRpc<PgliteRequest, PgliteReply>;
  #queue: Promise<unknown> = Promise.resolve();
  #closing = false;

  private constructor(rpc: WorkerRpc<PgliteRequest, PgliteReply>) {
    this.#rpc = rpc;
  }

  /** `script`: the thread's entry point; tests pass one that wraps pglite-thread.ts. */
  static async start(dir: string, logger: StoreLogger, script: URL = PGLITE_THREAD_URL): Promise<PgliteThread> {
    const rpc = await WorkerRpc.start<PgliteRequest, PgliteReply>({
      entry: script,
      name: 'embedded database thread',
      workerData: { dir } satisfies PgliteThreadData,
      resourceLimits: { maxOldGenerationSizeMb: PGLITE_THREAD_HEAP_MB },
      restart: RESTART,
      stoppedError: () => new Error('The embedded database thread stopped'),
      refusedError: openError,
      onStopped: (cause) => logger.error({ err: { message: cause.message } }, 'The embedded database thread stopped; restarting it'),
      onRestarted: () => logger.warn({}, 'The embedded database thread restarted'),
      onRestartFailed: (err) => logger.error({ err: { message: err.message } }, 'The embedded database thread could not restart; retrying'),
    });
    return new PgliteThread(rpc);
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
    try {
      // After everything already queued: closing must not cut a write short.
      await this.#exclusive(() => (this.#rpc.worker ? this.#send({ op: 'close' }) : Promise.resolve([])));
    } finally {
      await this.#rpc.close();
    }
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #send(request: PgliteRequest): Promise<unknown[]> {
    const reply = await this.#rpc.call(request);
    if ('error' in reply) throw new SqlError(reply.error);
    return reply.rows;
  }
}
