// A real, throw-away Redis for integration tests and the benchmark: Debian's `redis-server` on
// loopback, a free port, no persistence, a private working directory. It never touches the system
// service. Missing binary: a clear error naming the package (scripts/install-test-deps.sh installs it).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/demo/free-port.ts';

export interface RedisServer {
  url: string;
  port: number;
  /** The running server's process id (the benchmark reads its CPU time); -1 while stopped. */
  readonly pid: number;
  /** Stops the server (SIGTERM) and waits for it to exit; `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

export function findRedisServer(): string {
  const found = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
  if (!found) throw new Error('redis-server not found. Install it: `apt-get install -y redis-server` (scripts/install-test-deps.sh does).');
  return found;
}

export async function startRedis(): Promise<RedisServer> {
  const bin = findRedisServer();
  const dir = mkdtempSync(join(tmpdir(), 'cds-redis-'));
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const onExit = (): void => { proc?.kill('SIGKILL'); };
  process.once('exit', onExit);

  const start = async (): Promise<void> => {
    let output = '';
    const p = spawn(bin, [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    p.stdout?.setEncoding('utf8').on('data', (c: string) => { output = (output + c).slice(-4000); });
    p.stderr?.setEncoding('utf8').on('data', (c: string) => { output = (output + c).slice(-4000); });
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (p.exitCode !== null || Date.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${port}:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() { return proc?.pid ?? -1; },
    start,
    stop,
    async close() {
      await stop();
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One PING over a raw socket (RESP inline command): true on +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => { s.destroy(); resolve(ok); };
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}
