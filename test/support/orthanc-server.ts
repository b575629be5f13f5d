// A real Orthanc + DICOMweb plugin for the imaging integration tests (Debian packages orthanc and
// orthanc-dicomweb, installed by scripts/install-test-deps.sh). The process management is the demo's
// (src/demo/imaging/orthanc-process.ts); without the packages this throws a clear error rather than
// skipping (a test that cannot fail is not a test).
import { readFileSync } from 'node:fs';
import { orthancMissing, startOrthanc, type OrthancOptions, type OrthancProcess } from '../../src/demo/imaging/orthanc-process.ts';
import { createImagingRuntime, type ImagingLogger, type ImagingRuntime } from '../../src/imaging/imaging-runtime.ts';
import { loadTerminology, DEFAULT_PROFILES_DIR } from '../../src/fhir/terminology.ts';
import { testConfig } from '../../src/config.ts';
import type { ImagingConfig } from '../../src/imaging/types.ts';

export type { OrthancProcess };

export const TEST_USER = { name: 'cds', password: 'imaging-test-secret' };
export const TEST_AUTHORIZATION = `Basic ${Buffer.from(`${TEST_USER.name}:${TEST_USER.password}`).toString('base64')}`;

export async function startTestOrthanc(opts: OrthancOptions = {}): Promise<OrthancProcess> {
  const missing = orthancMissing();
  if (missing) throw new Error(`The imaging tests need Orthanc: ${missing}`);
  return startOrthanc(opts);
}

/** Files shipped in npm packages: real vendor DICOM. */
export const vendorFile = (pkgPath: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../node_modules/${pkgPath}`, import.meta.url)));

export interface LogLine {
  fields: Record<string, unknown>;
  message: string;
}

const terminology = loadTerminology([DEFAULT_PROFILES_DIR]);

/** A runtime against `url`, with the test config's imaging defaults and a log that records lines. */
export function testRuntime(url: string | undefined, overrides: Partial<ImagingConfig> = {}): { runtime: ImagingRuntime; logs: LogLine[] } {
  const logs: LogLine[] = [];
  const logger: ImagingLogger = { warn: (fields, message) => { logs.push({ fields, message }); } };
  const config: ImagingConfig = { ...testConfig().imaging, ...(url ? { dicomWebUrl: url } : {}), authorization: TEST_AUTHORIZATION, ...overrides };
  return { runtime: createImagingRuntime(config, { terminology, logger }), logs };
}
