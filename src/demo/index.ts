// The embedded demo (DEMO=true): synthetic patients in an in-process FHIR server at /demo/fhir,
// a demo EHR page at '/', and the demo EHR's CDS Client identity (trusted by the service).
import express from 'express';
import type { AppConfig } from '../config.ts';
import type { TrustedClient } from '../hooks/auth.ts';
import { createEmbeddedFhirServer } from '../fhir/embedded-server.ts';
import { createDemoClient } from './demo-client.ts';
import { demoPatients, demoResources } from './patients/index.ts';
import { demoRoutes, type DemoImagingStatus } from './routes.ts';
import type { DemoArchive } from './imaging/demo-archive.ts';
import { createSmartAuthServer } from './smart-auth.ts';
import { fhirAccessPolicy } from './fhir-access.ts';

export const DEMO_FHIR_PATH = '/demo/fhir';

export interface Demo {
  trustedClient: TrustedClient;
  /**
   * Mount at '/': serves '/', '/demo/static/*', '/demo/token', '/demo/config', '/demo/fhir/*' and the
   * SMART authorization server ('/demo/auth/*', '/demo/launch', '/demo/fhir/.well-known/smart-configuration').
   */
  router: express.Router;
  /** `<publicBaseUrl>/demo/fhir` */
  fhirBaseUrl: string;
}

export async function createDemo(opts: {
  config: AppConfig;
  now?: Date;
  /** The demo's imaging archive being started (server.ts); absent: DICOMWEB_URL decides. */
  imaging?: Promise<DemoArchive>;
}): Promise<Demo> {
  const base = opts.config.publicBaseUrl.replace(/\/+$/, '');
  const fhirBaseUrl = `${base}${DEMO_FHIR_PATH}`;
  const client = await createDemoClient({ publicBaseUrl: base });
  const patients = demoPatients(opts.now ?? new Date());
  const auth = await createSmartAuthServer({
    publicBaseUrl: base,
    fhirBaseUrl,
    clientId: opts.config.smartClientId,
    ...(opts.config.smartClientSecret ? { clientSecret: opts.config.smartClientSecret } : {}),
  });
  const fhir = await createEmbeddedFhirServer({
    resources: demoResources(patients),
    authorize: fhirAccessPolicy({ ehrToken: client.fhirAccessToken, verifySmartToken: auth.verifyAccessToken }),
  });

  const archive = await opts.imaging;
  const imaging: DemoImagingStatus = archive === undefined
    ? (opts.config.imaging.dicomWebUrl ? { state: 'configured' } : { state: 'off', reason: 'no imaging archive is configured (DICOMWEB_URL)', howToEnable: 'Set DICOMWEB_URL, or unset it to let the demo start its own Orthanc.' })
    : archive.ok ? { state: 'demo-archive', instances: archive.instances } : { state: 'off', reason: archive.reason, howToEnable: archive.howToEnable };

  const router = express.Router();
  router.use(
    demoRoutes({
      client,
      pageConfig: {
        fhirServer: fhirBaseUrl,
        accessToken: client.fhirAccessToken,
        publicBaseUrl: base,
        scenarios: Object.fromEntries(patients.map((p) => [p.id, p.scenario])),
        imaging,
      },
    }),
  );
  router.use(auth.router);
  router.use(DEMO_FHIR_PATH, fhir.router);
  return { trustedClient: client.trustedClient, router, fhirBaseUrl };
}

export { demoPatients } from './patients/index.ts';
export { createDemoClient } from './demo-client.ts';
