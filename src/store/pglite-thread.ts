// The embedded database's own thread (sql-driver.ts, openPglite). PGlite runs PostgreSQL compiled to
// WASM synchronously on the thread that calls it: on the main thread, every INSERT of issued cards
// stalled HTTP for all callers (12–22 ms per batch measured, README.md § Benchmark). Here it stalls nobody.
// Protocol: one message per statement, answered in order; the caller serialises (one at a time).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

export interface PgliteThreadData {
  dir: string;
}

export type PgliteRequest =
  | { id: number; op: 'query'; sql: string; params: readonly unknown[] }
  | { id: number; op: 'exec'; sql: string }
  | { id: number; op: 'close' };

/** What crosses back for a failed statement: PostgreSQL's message and SQLSTATE, nothing else. */
export interface PgliteErrorData {
  message: string;
  code?: string;
}

export type PgliteReply =
  | { ready: true }
  | { failed: PgliteErrorData }
  | { id: number; rows: unknown[] }
  | { id: number; error: PgliteErrorData };

const port = parentPort;
if (!port) throw new Error('pglite-thread.ts runs only as a worker thread');
const post = (m: PgliteReply): void => port.postMessage(m);

function errorData(err: unknown): PgliteErrorData {
  if (!(err instanceof Error)) return { message: String(err) };
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? { message: err.message, code } : { message: err.message };
}

const { dir } = workerData as PgliteThreadData;
const opened = await PGlite.create(dir).catch((err: unknown) => {
  post({ failed: errorData(err) });
  return undefined;
});
if (opened) serve(port, opened);
else port.close(); // nothing else keeps the thread alive: it ends

function serve(port: MessagePort, db: PGlite): void {
  port.on('message', (m: PgliteRequest) => {
    void (async () => {
      try {
        if (m.op === 'query') {
          post({ id: m.id, rows: (await db.query(m.sql, m.params as unknown[])).rows });
        } else if (m.op === 'exec') {
          await db.exec(m.sql);
          post({ id: m.id, rows: [] });
        } else {
          if (!db.closed) await db.close();
          post({ id: m.id, rows: [] });
          port.close();
        }
      } catch (err) {
        post({ id: m.id, error: errorData(err) });
      }
    })();
  });
  post({ ready: true });
}
