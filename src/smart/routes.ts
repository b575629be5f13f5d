// SMART on FHIR detail app routes. The cards' `smart` links point at /smart/launch; the app itself
// (EHR launch, PKCE, detail view) is a separate issue. Until it lands, the route exists and says so
// plainly, so a clinician who clicks the link is not left with an error page.
import express from 'express';
import type { AppConfig } from '../config.ts';

export const SMART_LAUNCH_PATH = '/smart/launch';

export function smartRouter(_config: AppConfig): express.Router {
  const router = express.Router();
  router.get('/launch', (_req, res) => {
    res
      .status(501)
      .type('html')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Detail view not yet available</title></head>' +
          '<body><h1>Detail view not yet available</h1>' +
          '<p>The SMART on FHIR detail app for this card is not installed in this version. ' +
          'The card itself lists every input, its date and source, and what is missing.</p></body></html>',
      );
  });
  return router;
}
