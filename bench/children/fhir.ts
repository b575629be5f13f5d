// Child process: the embedded FHIR server (src/fhir/embedded-server.ts) with the bench data, on its
// own loopback port. Reports { url } to the parent over IPC; exits when the parent goes away.
import type { Server } from 'node:http';
import express from 'express';
import { createEmbeddedFhirServer } from '../../src/fhir/embedded-server.ts';
import { benchResources, cirrhosisChart } from '../fixtures.ts';

const now = new Date(process.env.BENCH_NOW ?? Date.now());
const accessToken = process.env.BENCH_FHIR_TOKEN;
if (!accessToken) throw new Error('BENCH_FHIR_TOKEN is required');

// BENCH_FHIR_DATA=all: every demo patient plus the bench patients (prefetch is built from it);
// BENCH_FHIR_DATA=cirrhosis: only the (a)/(b) patient's chart (the FHIR server of scenario b).
const resources = process.env.BENCH_FHIR_DATA === 'cirrhosis' ? cirrhosisChart(now) : benchResources(now);
const fhir = await createEmbeddedFhirServer({ resources, accessToken });
const app = express();
app.disable('x-powered-by');
app.use('/fhir', fhir.router);
const server = await new Promise<Server>((resolve, reject) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
  s.once('error', reject);
});
const address = server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.send?.({ ready: true, url: `http://127.0.0.1:${port}/fhir` });
// CPU time used so far (µs), for the parent's per-request CPU figures.
process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
