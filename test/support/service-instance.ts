// One CDS service instance as in production: `node src/server.ts` (with the Node options of
// src/node-options.ts, as `npm start` and the image) in a child process, configured by
// its environment only (no DEMO, LOG_LEVEL=info so that its start-up line can be read). For the
// multi-instance test (several of them behind HAProxy, test/support/haproxy.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SERVICE_NODE_OPTIONS } from '../../src/node-options.ts';

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url));

export interface ServiceInstance {
  name: string;
  port: number;
  url: string;
  pid: number;
  /** From the start-up log line ('listening'). */
  configFingerprint: string;
  /** Log lines (pino JSON) written so far. */
  logs: string[];
  /** SIGKILL: no clean-up at all, as a crash or an OOM kill. */
  kill(): Promise<void>;
  /** SIGTERM: the clean shutdown (buffered issued cards flushed). */
  stop(): Promise<void>;
}

export async function startInstance(name: string, port: number, env: Record<string, string>): Promise<ServiceInstance> {
  const proc: ChildProcess = spawn(process.execPath, [...SERVICE_NODE_OPTIONS, SERVER], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', HOOK_WORKERS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onExit = (): void => { proc.kill('SIGKILL'); };
  process.once('exit', onExit);
  const logs: string[] = [];
  let stderr = '';
  let partial = '';
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => { stderr = (stderr + c).slice(-4000); });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => { process.removeListener('exit', onExit); resolve(); }));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s:\n${stderr}`)), 60_000);
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited during start-up (code ${code}):\n${stderr}`)); });
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; configFingerprint?: string };
          if (entry.msg === 'listening' && entry.configFingerprint) {
            clearTimeout(timer);
            resolve(entry.configFingerprint);
          }
        } catch {
          // not a JSON line
        }
      }
    });
  });
  const configFingerprint = await listening;
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    await exited;
  };
  return {
    name, port, url: `http://127.0.0.1:${port}`, pid: proc.pid ?? -1, configFingerprint, logs,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
  };
}
