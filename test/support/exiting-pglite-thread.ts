// The real database thread (src/store/pglite-thread.ts) with one addition: the statement `SELECT
// 'exit-thread'` ends the thread at once, as a WASM abort would. It lets the store tests kill the
// thread without the heap limit, whose enforcement can abort the whole test process
// (src/store/pglite-driver.ts, PGLITE_THREAD_HEAP_MB).
import { parentPort } from 'node:worker_threads';

// Registered before pglite-thread.ts adds its own listener, so it sees each message first.
// Messages are { id, request } (src/threads/worker-rpc.ts).
parentPort?.on('message', (m: { request?: { sql?: string } }) => {
  if (m.request?.sql === "SELECT 'exit-thread'") process.exit(70);
});
await import('../../src/store/pglite-thread.ts');
