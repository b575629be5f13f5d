// The service's process starts with the same Node options wherever it is started (src/node-options.ts):
// `npm start`, the container, and the benchmark's service children (which import the list).
import { readFileSync } from 'node:fs';
import { SERVICE_NODE_OPTIONS } from '../../src/node-options.ts';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

test('npm start runs the server with the service options', () => {
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  expect(scripts.start).toBe(['node', ...SERVICE_NODE_OPTIONS, 'src/server.ts'].join(' '));
});

test("the Dockerfile's CMD runs the server with the service options", () => {
  const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
  expect(cmd && JSON.parse(cmd)).toEqual(['node', ...SERVICE_NODE_OPTIONS, 'src/server.ts']);
});

test('the benchmark and the soak start their service children with them', () => {
  for (const f of ['bench/run.ts', 'bench/soak.ts']) expect(read(f)).toMatch(/\[\.\.\.SERVICE_NODE_OPTIONS, /);
});
