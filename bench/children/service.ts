// Child process: the CDS service as in production — startServer() from src/server.ts with the
// configuration read from the environment by loadConfig() (DEMO=false, CDS_CLIENTS_FILE with the
// bench client, DATA_DIR with a PGlite store, LOG_LEVEL). Reports { url } to the parent over IPC.
// On SIGTERM (or when the parent goes away) it closes cleanly: the store flushes, then exit.
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';

const config = loadConfig(process.env);
const running = await startServer(config);
process.send?.({ ready: true, url: running.url, hookWorkers: config.hookWorkers });

let closing = false;
const shutdown = (): void => {
  if (closing) return;
  closing = true;
  running.close().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGTERM', shutdown);
// CPU time used so far (µs), for the parent's per-request CPU figures; memory, for the soak.
process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  if (m.cmd === 'mem') process.send?.({ mem: memorySample() });
});

export interface MemorySample {
  /** process.memoryUsage(): rss covers every thread; heap*, external and arrayBuffers the main thread. */
  usage: NodeJS.MemoryUsage;
  /** Each worker thread's V8 heap (hook workers and the database thread), bytes. */
  threads: { threadId: number; heapTotal: number; heapUsed: number; external: number }[];
}

/**
 * The worker threads' heaps come from the diagnostic report, which asks every live Worker of the
 * process (startServer does not hand its threads out). Only the heap figures leave this function:
 * the report also holds the environment.
 */
function memorySample(): MemorySample {
  const report = process.report.getReport() as { workers?: { header?: { threadId?: number }; javascriptHeap?: { totalMemory?: number; usedMemory?: number; externalMemory?: number } }[] };
  return {
    usage: process.memoryUsage(),
    threads: (report.workers ?? []).map((w) => ({
      threadId: w.header?.threadId ?? -1,
      heapTotal: w.javascriptHeap?.totalMemory ?? 0,
      heapUsed: w.javascriptHeap?.usedMemory ?? 0,
      external: w.javascriptHeap?.externalMemory ?? 0,
    })),
  };
}
process.on('disconnect', shutdown);
