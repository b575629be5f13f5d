// A worker for the worker-RPC helper's tests (test/unit/threads/worker-rpc.test.ts): it answers
// after a delay (so replies can overtake each other), reports whether bytes arrived, throws, exits
// on request, and refuses to start while the file named in workerData exists.
import { existsSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { emitEvent, movable, refuseToStart, serveRequests } from '../../src/threads/worker-rpc.ts';

export type TestRequest =
  | { op: 'echo'; value: string; delayMs: number }
  | { op: 'bytes'; bytes: Uint8Array }
  | { op: 'throw' }
  | { op: 'exit' };

export type TestReply = { value: string } | { bytes: Uint8Array };

const { refuseIf } = workerData as { refuseIf: string };
if (existsSync(refuseIf)) {
  refuseToStart({ why: 'refuse file present' });
} else {
  serveRequests<TestRequest, TestReply>(async (m) => {
    switch (m.op) {
      case 'echo':
        await new Promise((r) => setTimeout(r, m.delayMs));
        emitEvent(`echoed ${m.value}`);
        return { value: { value: m.value } };
      case 'bytes': {
        const bytes = movable(Uint8Array.from(m.bytes, (b) => b + 1));
        return { value: { bytes }, transfer: [bytes.buffer] };
      }
      case 'throw':
        throw new Error('handler failed');
      case 'exit':
        process.exit(3);
    }
  });
}
