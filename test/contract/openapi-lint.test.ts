// openapi.yaml lints clean under Redocly's recommended rules (redocly.yaml; per-operation exceptions
// with their reasons in .redocly.lint-ignore.yaml). Every operation must state its own security
// (there is no root-level default, so a new route that forgets is an error here), have an
// operationId and document its 4xx answers. Responses are checked against the same document by the
// contract and integration tests (test/support/openapi.ts).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lint, lintFromString, loadConfig, type NormalizedProblem } from '@redocly/openapi-core';
import { parse } from 'yaml';

const ROOT = new URL('../../', import.meta.url);
const OPENAPI = fileURLToPath(new URL('openapi.yaml', ROOT));

const describeProblem = (p: NormalizedProblem): string =>
  `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`;

/** redocly.yaml, and the .redocly.lint-ignore.yaml Redocly reads from the same folder. */
const loadLintConfig = () => loadConfig({ configPath: fileURLToPath(new URL('redocly.yaml', ROOT)) });

test('openapi.yaml: no error and no warning under Redocly recommended rules', async () => {
  const problems = await lint({ ref: OPENAPI, config: await loadLintConfig() });
  expect(problems.filter((p) => !p.ignored).map(describeProblem)).toEqual([]);
});

test('every exception in .redocly.lint-ignore.yaml still silences a problem (none is stale)', async () => {
  const ignoreFile = parse(readFileSync(new URL('.redocly.lint-ignore.yaml', ROOT), 'utf8')) as Record<string, Record<string, string[]>>;
  const listed = Object.values(ignoreFile).flatMap((rules) => Object.entries(rules).flatMap(([rule, pointers]) => pointers.map((p) => `${rule} ${p}`)));
  const problems = await lint({ ref: OPENAPI, config: await loadLintConfig() });
  const ignored = problems.filter((p) => p.ignored).map((p) => `${p.ruleId} ${p.location[0]?.pointer ?? '?'}`);
  expect(ignored.sort()).toEqual(listed.sort());
});

test('the same configuration reports an operation without security, operationId or 4xx', async () => {
  const config = await loadLintConfig();
  // An operation as a newcomer might add it: no security, no operationId, no 4xx.
  const problems = await lintFromString({
    config,
    absoluteRef: OPENAPI,
    source: [
      'openapi: 3.1.0',
      'info: { title: t, version: "1", description: d }',
      'servers: [{ url: / }]',
      'paths:',
      '  /new:',
      '    get:',
      '      summary: s',
      '      responses: { "200": { description: ok } }',
    ].join('\n'),
  });
  const rules = problems.filter((p) => !p.ignored).map((p) => p.ruleId);
  expect(rules).toEqual(expect.arrayContaining(['security-defined', 'operation-operationId', 'operation-4xx-response']));
});
