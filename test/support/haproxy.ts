// A real HAProxy (Debian `haproxy`) on loopback in front of several service instances, for the
// multi-instance test and the scale-out benchmark. Health checks on /readyz take an instance out
// (DESIGN.md, Several instances); a stats endpoint on its own port says which servers are UP.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/demo/free-port.ts';

export interface HaproxyOptions {
  backends: { name: string; port: number }[];
  /** Health-check interval, ms (default 200: the test waits on it). */
  checkIntervalMs?: number;
}

export interface Haproxy {
  url: string;
  /** The HAProxy process (the benchmark reads its CPU time). */
  pid: number;
  /** Each backend server's status as HAProxy sees it: UP, DOWN, "UP 1/2" (going down), ... */
  serverStatus(): Promise<Record<string, string>>;
  /** Resolves when every named server has the wanted status (polls the stats page). */
  waitFor(want: Record<string, 'UP' | 'DOWN'>, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function findHaproxy(): string {
  const found = ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy'].find((p) => existsSync(p));
  if (!found) throw new Error('haproxy not found. Install it: `apt-get install -y haproxy` (scripts/install-test-deps.sh does).');
  return found;
}

export async function startHaproxy(opts: HaproxyOptions): Promise<Haproxy> {
  const bin = findHaproxy();
  const dir = mkdtempSync(join(tmpdir(), 'cds-haproxy-'));
  const [port, statsPort] = [await freePort(), await freePort()];
  const inter = opts.checkIntervalMs ?? 200;
  const cfg = join(dir, 'haproxy.cfg');
  // The deployment guide's configuration (docs/deployment.md), with short intervals for a test.
  writeFileSync(cfg, `global
  maxconn 2000

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  # A request whose connection to an instance fails goes to another one: nothing reached the
  # instance. Never retry after the request was sent: its JWT's jti is already claimed, so the
  # retry would be refused as a replay (401), and a hook call is not the balancer's to repeat.
  retries 2
  option redispatch 1
  retry-on conn-failure

frontend cds
  bind 127.0.0.1:${port}
  default_backend instances

backend instances
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter ${inter}ms fastinter ${inter}ms downinter ${inter}ms fall 2 rise 2
${opts.backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} check`).join('\n')}

frontend stats
  bind 127.0.0.1:${statsPort}
  stats enable
  stats uri /stats
`);
  const check = spawn(bin, ['-c', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  const checkOut = await collect(check);
  if (check.exitCode !== 0) throw new Error(`haproxy refused its configuration:\n${checkOut}`);

  let output = '';
  const proc: ChildProcess = spawn(bin, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.setEncoding('utf8').on('data', (c: string) => { output = (output + c).slice(-4000); });
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => { output = (output + c).slice(-4000); });
  const onExit = (): void => { proc.kill('SIGKILL'); };
  process.once('exit', onExit);
  const statsUrl = `http://127.0.0.1:${statsPort}/stats;csv`;

  const serverStatus = async (): Promise<Record<string, string>> => {
    const text = await (await fetch(statsUrl)).text();
    const [header, ...rows] = text.replace(/^# /, '').trim().split('\n');
    const cols = (header ?? '').split(',');
    const [px, sv, st] = ['pxname', 'svname', 'status'].map((c) => cols.indexOf(c));
    const out: Record<string, string> = {};
    for (const row of rows) {
      const f = row.split(',');
      if (f[px!] === 'instances' && f[sv!] !== 'BACKEND' && f[sv!] !== 'FRONTEND') out[f[sv!]!] = f[st!] ?? '';
    }
    return out;
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await serverStatus();
      break;
    } catch {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`haproxy did not start:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid ?? -1,
    serverStatus,
    async waitFor(want, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      let last: Record<string, string> = {};
      while (Date.now() < until) {
        last = await serverStatus();
        if (Object.entries(want).every(([name, status]) => last[name] === status)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`HAProxy servers not ${JSON.stringify(want)} after ${timeoutMs} ms: ${JSON.stringify(last)}`);
    },
    async close() {
      process.removeListener('exit', onExit);
      if (proc.exitCode === null) {
        await new Promise<void>((resolve) => {
          proc.once('exit', () => resolve());
          proc.kill('SIGTERM');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function collect(p: ChildProcess): Promise<string> {
  let out = '';
  p.stdout?.setEncoding('utf8').on('data', (c: string) => { out += c; });
  p.stderr?.setEncoding('utf8').on('data', (c: string) => { out += c; });
  return new Promise((resolve) => p.once('exit', () => resolve(out)));
}
