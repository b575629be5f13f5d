// The house rules that a reader of the imports can check (docs/architecture.md, "House rules";
// issue 12 items 2, 5 and 6): which layer may import which, no module-level mutable state where
// evaluations run, and no `as unknown as` bridging a type that should come from its schema.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const SRC = new URL('../../src/', import.meta.url).pathname;
const files = (dir: string): string[] => readdirSync(join(SRC, dir), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
const source = (f: string): string => readFileSync(join(SRC, f), 'utf8');
/** Every module specifier a file imports (static imports and re-exports). */
const importsOf = (f: string): string[] => [...source(f).matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
const offending = (dir: string, bad: (specifier: string) => boolean): string[] =>
  files(dir).flatMap((f) => importsOf(f).filter(bad).map((s) => `${f} imports ${s}`));

test('models/ import only other models', () => {
  expect(files('models').length).toBeGreaterThan(10);
  expect(offending('models', (s) => !s.startsWith('./') || s.includes('/..'))).toEqual([]);
});

test('services/ reach no Express, store, demo, SMART-app or thread code, even through other modules', () => {
  // Transitively: card-kit.ts once imported smart/routes.ts, which put Express into every worker.
  // smart/paths.ts holds only the app's route paths, for the cards' links (through config.ts).
  const banned = /^(express|cors|helmet|oidc-provider)$|^node:worker_threads$/;
  const bannedFile = /^(store|demo|threads)\/|^smart\/(?!paths\.ts$)|^(app|server)\.ts$|^hooks\/(routes|hook-runner|hook-worker|auth)\.ts$/;
  const problems: string[] = [];
  const seen = new Set<string>();
  const visit = (f: string, via: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    if (bannedFile.test(f)) { problems.push(`${via} reaches ${f}`); return; }
    for (const s of importsOf(f)) {
      if (banned.test(s)) problems.push(`${via} reaches ${s} (in ${f})`);
      else if (s.startsWith('.')) visit(join(dirname(f), s), via);
    }
  };
  for (const f of files('services')) visit(f, f);
  expect(seen.size).toBeGreaterThan(20);
  expect(problems).toEqual([]);
});

test('hooks/ import nothing from store/', () => {
  expect(offending('hooks', (s) => /(^|\/)store\//.test(s))).toEqual([]);
});

test('no module-level `let` in models, services, fhir, hooks, imaging', () => {
  const dirs = ['models', 'services', 'fhir', 'hooks', 'imaging'];
  const found = dirs.flatMap(files).filter((f) => /^(export\s+)?let\s/m.test(source(f)));
  expect(found).toEqual([]);
});

test('no `as unknown as` in src/', () => {
  const all = files('.');
  expect(all.length).toBeGreaterThan(100);
  expect(all.filter((f) => source(f).includes('as unknown as'))).toEqual([]);
});
