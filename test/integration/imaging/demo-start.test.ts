// The embedded demo as `npm start` runs it (src/server.ts startServer, DEMO=true, no DICOMWEB_URL):
// with Orthanc installed it starts a private one, loads the demo studies and the demo patients' cards
// show numbers read from it; pointed at a missing Orthanc binary it starts without imaging and its
// page config says why and how to enable it. close() leaves no Orthanc behind.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/logger.ts';
import { startServer, type RunningServer } from '../../../src/server.ts';
import { freePort } from '../../support/free-port.ts';

/** Orthanc processes started by this test process. */
function childOrthancs(): string[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').filter((l) => /Orthanc/i.test(l));
}

async function startDemo(overrides: { demoOrthancBinary?: string; hookWorkers: number }): Promise<{ running: RunningServer; base: string; dataDir: string }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'demo-imaging-'));
  const config = testConfig({ port, host: '127.0.0.1', publicBaseUrl: base, dataDir, demo: true, logLevel: 'silent', ...overrides });
  return { running: await startServer(config, createLogger('silent')), base, dataDir };
}

async function demoCall(base: string, service: string, patientId: string): Promise<string> {
  const cfg = (await (await fetch(`${base}/demo/config`)).json()) as { fhirServer: string; accessToken: string };
  const aud = `${base}/cds-services/${service}`;
  const { token } = (await (await fetch(`${base}/demo/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ aud }) })).json()) as { token: string };
  const res = await fetch(aud, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      hook: 'patient-view', hookInstance: crypto.randomUUID(), context: { userId: 'Practitioner/demo', patientId },
      fhirServer: cfg.fhirServer, fhirAuthorization: { access_token: cfg.accessToken, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.rs', subject: 'demo' },
    }),
  });
  expect(res.status).toBe(200);
  return res.text();
}

test('with Orthanc: the demo reads its studies, the cards name them, close() stops Orthanc', async () => {
  const { running, base, dataDir } = await startDemo({ hookWorkers: 1 });
  try {
    const cfg = (await (await fetch(`${base}/demo/config`)).json()) as { imaging: { state: string; instances?: number } };
    expect(cfg.imaging).toEqual({ state: 'demo-archive', instances: expect.any(Number) });
    expect(childOrthancs()).toHaveLength(1);
    // Through a hook worker thread (HOOK_WORKERS=1): its runtime has the demo archive too.
    const body = await demoCall(base, 'cirrhosis-sarcopenia', 'demo-cirrhosis-compensated');
    expect(body).toMatch(/"name":"muscleArea","value":168\.96,"unit":"cm2","date":"[^"]+","source":"dicom:[0-9.]+"/);
    expect(body).toContain('Imaging: CT ABDOMEN (CT)');
  } finally {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  expect(childOrthancs()).toEqual([]);
}, 90_000);

/** cds_imaging_requests_total for one service, from /metrics. */
async function archiveRequests(base: string, service: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^cds_imaging_requests_total\\{service="${service}"\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

test('the hook workers share what one of them read from the archive (one read per patient, not per thread)', async () => {
  const { running, base, dataDir } = await startDemo({ hookWorkers: 2 });
  try {
    // One call alone goes to the first worker (least busy, ties to the first): it reads the archive.
    await demoCall(base, 'cirrhosis-sarcopenia', 'demo-cirrhosis-compensated');
    const first = await archiveRequests(base, 'cirrhosis-sarcopenia');
    expect(first).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100));
    // Two at once: the second goes to the other worker, which has not read this patient itself.
    const bodies = await Promise.all([1, 2].map(() => demoCall(base, 'cirrhosis-sarcopenia', 'demo-cirrhosis-compensated')));
    for (const body of bodies) expect(body).toMatch(/"name":"muscleArea","value":168\.96,"unit":"cm2"/);
    expect(await archiveRequests(base, 'cirrhosis-sarcopenia')).toBe(first);
  } finally {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 90_000);

test('without Orthanc (a missing binary): the demo starts without imaging and says why and how to enable it', async () => {
  const { running, base, dataDir } = await startDemo({ demoOrthancBinary: '/nonexistent/bin/Orthanc', hookWorkers: 0 });
  try {
    const cfg = (await (await fetch(`${base}/demo/config`)).json()) as { imaging: unknown };
    expect(cfg.imaging).toEqual({
      state: 'off',
      reason: 'Orthanc is not installed: /nonexistent/bin/Orthanc (package orthanc)',
      howToEnable: expect.stringContaining('apt-get install -y --no-install-recommends orthanc orthanc-dicomweb'),
    });
    expect(childOrthancs()).toEqual([]);
    const body = await demoCall(base, 'cirrhosis-sarcopenia', 'demo-cirrhosis-compensated');
    // The record's own SMI, no imaging line: no archive was configured, none was asked.
    expect(body).toMatch(/"name":"smi","value":54\.2,"unit":"cm2\/m2","date":"[^"]+","source":"Observation\//);
    expect(body).not.toContain('dicom:');
    expect(body).not.toContain('Imaging was unavailable');
    const page = await (await fetch(`${base}/demo/static/ehr.js`)).text();
    expect(page).toContain('Imaging is off in this demo');
  } finally {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 90_000);

test('a start that fails after Orthanc started (an unreadable CDS_CLIENTS_FILE) leaves no Orthanc behind', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'demo-imaging-'));
  const config = testConfig({
    port: await freePort(), host: '127.0.0.1', dataDir, demo: true, logLevel: 'silent', hookWorkers: 0,
    cdsClientsFile: join(dataDir, 'no-such-clients.json'),
  });
  try {
    await expect(startServer(config, createLogger('silent'))).rejects.toThrow();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  expect(childOrthancs()).toEqual([]);
}, 90_000);
