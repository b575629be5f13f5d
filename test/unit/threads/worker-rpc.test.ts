// The worker-RPC helper (src/threads/worker-rpc.ts) that both thread kinds use (hook workers, the
// embedded database's thread), with a real worker thread (test/support/rpc-test-worker.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { movable, WorkerRpc, workerEntry } from '../../../src/threads/worker-rpc.ts';
import type { TestReply, TestRequest } from '../../support/rpc-test-worker.ts';

const ENTRY = new URL('../../support/rpc-test-worker.ts', import.meta.url);
let dir: string;
let refuseFile: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'worker-rpc-'));
  refuseFile = join(dir, 'refuse');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function start(log: string[] = [], restart = { firstDelayMs: 10, retryDelayMs: 20, maxDelayMs: 40 }) {
  return WorkerRpc.start<TestRequest, TestReply, string>({
    entry: ENTRY,
    name: 'test worker',
    workerData: { refuseIf: refuseFile },
    restart,
    stoppedError: () => new Error('test worker stopped'),
    refusedError: (data) => new Error(`refused: ${JSON.stringify(data)}`),
    onEvent: (e) => log.push(`event ${e}`),
    onStopped: (cause) => log.push(`stopped: ${cause.message}`),
    onRestarted: () => log.push('restarted'),
    onRestartFailed: (err) => log.push(`restart failed: ${err.message}`),
  });
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

test('the entry beside the caller: .ts from source, .js from a build', () => {
  expect(workerEntry('file:///app/src/hooks/hook-runner.ts', 'hook-worker').href).toBe('file:///app/src/hooks/hook-worker.ts');
  expect(workerEntry('file:///app/dist/hooks/hook-runner.js', 'hook-worker').href).toBe('file:///app/dist/hooks/hook-worker.js');
});

test('each reply settles its own call, in whatever order the replies come; events reach the owner', async () => {
  const log: string[] = [];
  const rpc = await start(log);
  try {
    const slow = rpc.call({ op: 'echo', value: 'slow', delayMs: 100 });
    const fast = rpc.call({ op: 'echo', value: 'fast', delayMs: 0 });
    expect(rpc.pending).toBe(2);
    await expect(fast).resolves.toEqual({ value: 'fast' });
    await expect(slow).resolves.toEqual({ value: 'slow' });
    expect(rpc.pending).toBe(0);
    expect(log).toEqual(['event echoed fast', 'event echoed slow']);
  } finally {
    await rpc.close();
  }
});

test('bytes move by transfer both ways; a handler that throws fails only its call', async () => {
  const rpc = await start();
  try {
    const bytes = movable(Buffer.from([1, 2, 3]));
    expect(bytes.buffer.byteLength).toBe(3); // a pooled Buffer is copied into memory of its own
    const reply = await rpc.call({ op: 'bytes', bytes }, [bytes.buffer]);
    expect(bytes.byteLength).toBe(0); // detached: it moved
    expect(reply).toEqual({ bytes: new Uint8Array([2, 3, 4]) });
    await expect(rpc.call({ op: 'throw' })).rejects.toThrow('handler failed');
    await expect(rpc.call({ op: 'echo', value: 'still here', delayMs: 0 })).resolves.toEqual({ value: 'still here' });
  } finally {
    await rpc.close();
  }
});

test('a worker that refuses to start fails the start with its reason', async () => {
  writeFileSync(refuseFile, '');
  await expect(start()).rejects.toThrow('refused: {"why":"refuse file present"}');
});

test('when the worker dies: its calls fail at once, so do new ones, and failed restarts are retried until one succeeds', async () => {
  const log: string[] = [];
  const rpc = await start(log);
  try {
    const first = rpc.worker;
    const pending = rpc.call({ op: 'echo', value: 'never', delayMs: 10_000 });
    writeFileSync(refuseFile, ''); // the replacements refuse, until the file goes
    const dying = rpc.call({ op: 'exit' });
    await expect(pending).rejects.toThrow('test worker stopped');
    await expect(dying).rejects.toThrow('test worker stopped');
    expect(rpc.worker).toBeUndefined();
    await expect(rpc.call({ op: 'echo', value: 'x', delayMs: 0 })).rejects.toThrow('test worker stopped');
    await until(() => log.filter((l) => l.startsWith('restart failed')).length >= 2);
    rmSync(refuseFile);
    await until(() => log.includes('restarted'));
    expect(log[0]).toBe('stopped: The test worker exited (code 3)');
    expect(log.slice(1, -1).every((l) => l === 'restart failed: refused: {"why":"refuse file present"}')).toBe(true);
    expect(log.at(-1)).toBe('restarted');
    expect(rpc.worker).toBeDefined();
    expect(rpc.worker).not.toBe(first);
    await expect(rpc.call({ op: 'echo', value: 'back', delayMs: 0 })).resolves.toEqual({ value: 'back' });
  } finally {
    await rpc.close();
  }
});

test('close fails what is pending, refuses later calls and restarts nothing', async () => {
  const log: string[] = [];
  const rpc = await start(log);
  const pending = rpc.call({ op: 'echo', value: 'never', delayMs: 10_000 });
  await rpc.close();
  await expect(pending).rejects.toThrow('test worker stopped');
  await expect(rpc.call({ op: 'echo', value: 'x', delayMs: 0 })).rejects.toThrow('test worker stopped');
  await new Promise((r) => setTimeout(r, 100));
  expect(log).toEqual([]);
});
