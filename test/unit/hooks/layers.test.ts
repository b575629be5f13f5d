// House rules that keep the call path easy to see (DESIGN.md, House rules; issue 12 items 5 and 6):
// hooks/ never imports store/ (it defines the port the store fills, hooks/store-port.ts), and no
// `as unknown as` bridges a type that should come from its schema, in the code of the call path.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SRC = new URL('../../../src/', import.meta.url).pathname;
const files = (dir: string): string[] => readdirSync(join(SRC, dir), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));

test('hooks/ imports nothing from store/', () => {
  const offending = files('hooks').filter((f) => /from\s+['"]\.\.\/store\//.test(readFileSync(join(SRC, f), 'utf8')));
  expect(offending).toEqual([]);
});

test('no `as unknown as` in hooks/, store/, threads/, app.ts, server.ts, errors.ts', () => {
  const checked = [...files('hooks'), ...files('store'), ...files('threads'), 'app.ts', 'server.ts', 'errors.ts'];
  expect(checked.length).toBeGreaterThan(20);
  expect(checked.filter((f) => readFileSync(join(SRC, f), 'utf8').includes('as unknown as'))).toEqual([]);
});
