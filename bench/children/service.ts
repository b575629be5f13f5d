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
// CPU time used so far (µs), for the parent's per-request CPU figures.
process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
process.on('disconnect', shutdown);
