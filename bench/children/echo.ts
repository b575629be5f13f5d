// Child process: the bare-Express baseline. Parses the JSON body with the service's own limit and
// media types (express.json) and answers it back (res.json): the cost of HTTP + JSON in and out,
// with no authentication, validation, FHIR logic or store.
import type { Server } from 'node:http';
import express from 'express';

const limit = process.env.BODY_LIMIT ?? '1mb';
const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit, type: ['application/json', 'application/*+json'] }));
app.post('/cds-services/:id', (req, res) => { res.json(req.body); });
const server = await new Promise<Server>((resolve, reject) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
  s.once('error', reject);
});
const address = server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.send?.({ ready: true, url: `http://127.0.0.1:${port}` });
// CPU time used so far (µs), for the parent's per-request CPU figures.
process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
