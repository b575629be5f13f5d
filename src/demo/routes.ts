// HTTP routes of the demo EHR: the page, its static assets and vendored modules, the token signer
// and the page config. The page runs in the browser and must not hold the demo client's private
// key, so the server signs for it — but only JWTs whose audience is this service's own CDS endpoints.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { z } from 'zod';
import type { DemoClient } from './demo-client.ts';
import { operationOutcome } from '../errors.ts';

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));
const require = createRequire(import.meta.url);
/** The card Markdown renderer and sanitiser (static/markdown.js): the ES module builds each ships. */
const VENDOR: Record<string, string> = {
  'markdown-it.mjs': join(dirname(require.resolve('markdown-it/package.json')), 'dist', 'browser', 'markdown-it.esm.min.mjs'),
  'purify.mjs': join(dirname(require.resolve('dompurify')), 'purify.es.mjs'),
};

const TokenRequestSchema = z.object({ aud: z.string().min(1).max(2048) });

export interface DemoPageConfig {
  /** FHIR base URL the EHR gives the CDS service (`fhirServer`). */
  fhirServer: string;
  /** Bearer token of the embedded FHIR server (synthetic data only). */
  accessToken: string;
  publicBaseUrl: string;
  /** One-line description of each demo patient's scenario, by Patient id. */
  scenarios: Record<string, string>;
  /** The demo's imaging archive, for the page's notice (server.ts, demo/imaging/demo-archive.ts). */
  imaging: DemoImagingStatus;
}

export type DemoImagingStatus =
  /** The demo's private Orthanc, loaded with the demo studies. */
  | { state: 'demo-archive'; instances: number }
  /** DICOMWEB_URL points at an archive of the operator's. */
  | { state: 'configured' }
  /** No archive: why, and how to enable it. */
  | { state: 'off'; reason: string; howToEnable: string };

/**
 * Whether the demo may sign a JWT for `aud`: exactly `<base>/cds-services` or a URL beneath it.
 * Compared as parsed URLs (no query, fragment, credentials, dot segments or encoded slashes), so
 * `<base>/cds-services-evil`, `<base>/cds-services/../x` or another host never qualify.
 */
export function isCdsAudience(aud: string, publicBaseUrl: string): boolean {
  const root = `${publicBaseUrl.replace(/\/+$/, '')}/cds-services`;
  let url: URL;
  try {
    url = new URL(aud);
  } catch {
    return false;
  }
  if (url.href !== aud) return false; // no normalisation (dot segments, case, default ports) hides a path
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return false;
  if (/%2f|%5c|%2e/i.test(url.pathname)) return false;
  return aud === root || aud.startsWith(`${root}/`);
}

export function demoRoutes(opts: { client: DemoClient; pageConfig: DemoPageConfig }): express.Router {
  const { client, pageConfig } = opts;
  const router = express.Router();

  router.get('/', (_req, res) => {
    res.set('Cache-Control', 'no-store');
    res.sendFile('ehr.html', { root: STATIC_DIR });
  });
  router.use('/demo/static', express.static(STATIC_DIR, { index: false, maxAge: 0 }));
  router.get('/demo/vendor/:file', (req: express.Request<{ file: string }>, res) => {
    const file = VENDOR[req.params.file];
    if (!file) {
      res.status(404).end();
      return;
    }
    res.type('application/javascript').set('Cache-Control', 'public, max-age=3600').sendFile(file);
  });

  router.post('/demo/token', express.json({ limit: '4kb' }), async (req, res) => {
    const parsed = TokenRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json(operationOutcome('invalid', 'Body must be { "aud": "<CDS endpoint URL>" }'));
      return;
    }
    const { aud } = parsed.data;
    if (!isCdsAudience(aud, pageConfig.publicBaseUrl)) {
      res.status(400).json(operationOutcome('invalid', `The demo only signs tokens for ${pageConfig.publicBaseUrl}/cds-services`));
      return;
    }
    res.set('Cache-Control', 'no-store');
    res.json({ token: await client.signClientJwt(aud) });
  });

  router.get('/demo/config', (_req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json(pageConfig);
  });

  return router;
}
