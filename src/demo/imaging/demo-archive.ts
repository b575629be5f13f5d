// The demo's imaging archive: a private Orthanc on loopback loaded with the demo patients' studies,
// when Debian's orthanc and orthanc-dicomweb are installed; otherwise an exact reason and how to
// enable it, for the demo page. src/server.ts starts it with the embedded demo (DEMO=true) when no
// DICOMWEB_URL is configured, and stops it on shutdown.
import { DEMO_MRN_SYSTEM, type DemoClock } from '../patients/builders.ts';
import { demoImagingPatients } from './demo-studies.ts';
import { HOW_TO_INSTALL, ORTHANC_BINARY, orthancMissing, startOrthanc, type OrthancProcess } from './orthanc-process.ts';

export type DemoArchive =
  | {
      ok: true;
      /** DICOMWEB_URL for the demo */
      dicomWebUrl: string;
      /** DICOMWEB_PATIENT_ID_SYSTEM for the demo: the archive's PatientID is the demo MRN. */
      patientIdSystem: string;
      instances: number;
      stop(): Promise<void>;
    }
  | { ok: false; reason: string; howToEnable: string };

export interface DemoArchiveDeps {
  /** The Orthanc executable (DEMO_ORTHANC_BINARY; default Debian's /usr/sbin/Orthanc). */
  binary?: string;
  /** Why Orthanc is missing, or undefined (default: look for Debian's binaries). */
  missing?: () => string | undefined;
  start?: () => Promise<OrthancProcess>;
}

export async function startDemoArchive(clock: DemoClock, deps: DemoArchiveDeps = {}): Promise<DemoArchive> {
  const missing = (deps.missing ?? (() => orthancMissing(deps.binary)))();
  if (missing) return { ok: false, reason: `Orthanc is ${missing.split('. Install:')[0]}`, howToEnable: `Install it: ${HOW_TO_INSTALL}, then restart the demo.` };
  let orthanc: OrthancProcess;
  try {
    orthanc = await (deps.start ?? (() => startOrthanc(deps.binary ? { binary: deps.binary } : {})))();
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    return { ok: false, reason: `Orthanc could not be started: ${first}`, howToEnable: `Check that ${deps.binary ?? ORTHANC_BINARY} runs (\`Orthanc --version\`) and that the machine allows a local HTTP port, then restart the demo.` };
  }
  try {
    const files = demoImagingPatients(clock).flatMap((p) => p.files);
    await orthanc.upload(files);
    return { ok: true, dicomWebUrl: orthanc.dicomWebUrl, patientIdSystem: DEMO_MRN_SYSTEM, instances: files.length, stop: () => orthanc.stop() };
  } catch (err) {
    await orthanc.stop();
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    return { ok: false, reason: `the demo studies could not be loaded into Orthanc: ${first}`, howToEnable: 'Restart the demo; if it persists, run Orthanc by hand to see its log.' };
  }
}
