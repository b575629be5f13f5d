// The embedded database's own thread (pglite-driver.ts). PGlite runs PostgreSQL compiled to WASM
// synchronously on the thread that calls it: on the main thread, every INSERT of issued cards
// stalled HTTP for all callers (12–22 ms per batch measured, README.md § Benchmark). Here it stalls
// nobody. One request per statement (threads/worker-rpc.ts); the owner serialises (one at a time).
import { workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { refuseToStart, serveRequests } from '../threads/worker-rpc.ts';

export interface PgliteThreadData {
  dir: string;
}

export type PgliteRequest =
  | { op: 'query'; sql: string; params: readonly unknown[] }
  | { op: 'exec'; sql: string }
  | { op: 'close' };

/** What crosses back for a failed statement: PostgreSQL's message and SQLSTATE, nothing else. */
export interface PgliteErrorData {
  message: string;
  code?: string;
}

/** A statement's rows, or its failure as a value. */
export type PgliteReply = { rows: unknown[] } | { error: PgliteErrorData };

function errorData(err: unknown): PgliteErrorData {
  if (!(err instanceof Error)) return { message: String(err) };
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? { message: err.message, code } : { message: err.message };
}

async function run(db: PGlite, m: PgliteRequest): Promise<PgliteReply> {
  try {
    switch (m.op) {
      case 'query':
        return { rows: (await db.query(m.sql, m.params as unknown[])).rows };
      case 'exec':
        await db.exec(m.sql);
        return { rows: [] };
      case 'close':
        if (!db.closed) await db.close();
        return { rows: [] };
    }
  } catch (err) {
    return { error: errorData(err) };
  }
}

const { dir } = workerData as PgliteThreadData;
const opened = await PGlite.create(dir).catch((err: unknown) => {
  refuseToStart(errorData(err));
  return undefined;
});
if (opened) serveRequests(async (m: PgliteRequest) => ({ value: await run(opened, m) }));
