// A private Orthanc with its DICOMweb plugin, from Debian's packages `orthanc` and `orthanc-dicomweb`
// (Orthanc 1.10, plugin 1.7 on bookworm), started as a child process for the demo and the tests:
// a temp storage folder and config of its own, a free HTTP port, no DICOM (DIMSE) port, and
// RemoteAccessAllowed false, so only loopback clients are served (Orthanc 1.10 has no bind-address
// option; https://orthanc.uclouvain.be/book/users/configuration.html). It never touches the system
// service's /etc/orthanc or /var/lib/orthanc.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.ts';

export const ORTHANC_BINARY = '/usr/sbin/Orthanc';
/** Where Debian's orthanc-dicomweb package puts the plugin. */
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
export const ORTHANC_PACKAGES = ['orthanc', 'orthanc-dicomweb'] as const;
export const HOW_TO_INSTALL = `apt-get update && apt-get install -y --no-install-recommends ${ORTHANC_PACKAGES.join(' ')} (as root; scripts/install-test-deps.sh does this)`;

export interface OrthancOptions {
  /** The Orthanc executable (default ORTHANC_BINARY, Debian's). */
  binary?: string;
  /** HTTP Basic users; when given, authentication is on (Orthanc's RegisteredUsers). */
  users?: Record<string, string>;
  /** Seconds Orthanc waits to start answering; the start fails after it. */
  startTimeoutS?: number;
}

export interface OrthancProcess {
  /** http://127.0.0.1:<port> (Orthanc's REST API) */
  baseUrl: string;
  /** `${baseUrl}/dicom-web` (QIDO-RS, WADO-RS, STOW-RS) */
  dicomWebUrl: string;
  pid: number;
  /** Adds DICOM Part 10 files through the REST API (POST /instances); returns the Orthanc ids. */
  upload(files: readonly Uint8Array[]): Promise<string[]>;
  stop(): Promise<void>;
}

/** Why Orthanc cannot be started here, or undefined when the binaries are installed. */
export function orthancMissing(binary: string = ORTHANC_BINARY): string | undefined {
  const missing = [
    existsSync(binary) ? undefined : `${binary} (package orthanc)`,
    existsSync(DICOMWEB_PLUGIN) ? undefined : `${DICOMWEB_PLUGIN} (package orthanc-dicomweb)`,
  ].filter((x): x is string => x !== undefined);
  return missing.length === 0 ? undefined : `not installed: ${missing.join(', ')}. Install: ${HOW_TO_INSTALL}`;
}

export async function startOrthanc(opts: OrthancOptions = {}): Promise<OrthancProcess> {
  const binary = opts.binary ?? ORTHANC_BINARY;
  const missing = orthancMissing(binary);
  if (missing) throw new Error(`Orthanc cannot be started: ${missing}`);
  const dir = mkdtempSync(join(tmpdir(), 'cds-orthanc-'));
  const port = await freePort();
  const config = {
    Name: 'imaging-cds-private',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'storage'),
    HttpPort: port,
    DicomServerEnabled: false,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: opts.users !== undefined,
    RegisteredUsers: opts.users ?? {},
    Plugins: [DICOMWEB_PLUGIN],
    SaveJobs: false,
    StorageCompression: false,
    HttpCompressionEnabled: false,
    // The demo and the tests serve a few hundred instances; the full metadata is what WADO-RS answers.
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false, Host: `127.0.0.1:${port}`, Ssl: false },
  };
  const configFile = join(dir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  let output = '';
  const child: ChildProcess = spawn(binary, [configFile], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  child.stdout?.on('data', (b: Buffer) => { output = (output + b.toString()).slice(-8000); });
  child.stderr?.on('data', (b: Buffer) => { output = (output + b.toString()).slice(-8000); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let alive = true;
  void exited.then(() => { alive = false; });
  const cleanup = (): void => {
    if (alive && child.pid !== undefined) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);

  const baseUrl = `http://127.0.0.1:${port}`;
  const authHeader: Record<string, string> = opts.users
    ? (() => {
        const [user, password] = Object.entries(opts.users)[0] ?? ['', ''];
        return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
      })()
    : {};

  const deadline = Date.now() + (opts.startTimeoutS ?? 30) * 1000;
  for (;;) {
    if (!alive) {
      process.removeListener('exit', cleanup);
      cleanup();
      throw new Error(`Orthanc exited during start-up:\n${output}`);
    }
    try {
      const res = await fetch(`${baseUrl}/system`, { headers: authHeader, signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      process.removeListener('exit', cleanup);
      cleanup();
      throw new Error(`Orthanc did not answer within ${opts.startTimeoutS ?? 30} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    baseUrl,
    dicomWebUrl: `${baseUrl}/dicom-web`,
    pid: child.pid ?? -1,
    async upload(files) {
      const ids: string[] = [];
      for (const file of files) {
        const res = await fetch(`${baseUrl}/instances`, {
          method: 'POST',
          headers: { ...authHeader, 'content-type': 'application/dicom' },
          body: new Uint8Array(file),
        });
        const body = (await res.json()) as { ID?: string; Status?: string };
        if (!res.ok || !body.ID) throw new Error(`Orthanc refused an instance (${res.status}): ${JSON.stringify(body)}`);
        ids.push(body.ID);
      }
      return ids;
    },
    async stop() {
      process.removeListener('exit', cleanup);
      if (alive) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
