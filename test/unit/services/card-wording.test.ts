import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeSystem } from 'fhir/r4.js';
import { SERVICES as DEFINITIONS } from '../../../src/services/registry.ts';
import { DEFAULT_PROFILES_DIR } from '../../../src/fhir/terminology.ts';
import { fill, type Template } from '../../../src/services/card-wording.ts';

// Every service of the registry, its wording loaded as the runtime loads it.
const SERVICES = DEFINITIONS.map((d) => d.id);
const loadCardWording = (id: string, profilesDir: string = DEFAULT_PROFILES_DIR) => {
  const definition = DEFINITIONS.find((d) => d.id === id);
  if (!definition) throw new Error(`no service ${id}`);
  return definition.loadWording({ profilesDir });
};
const codeSystem = (id: string): CodeSystem => JSON.parse(readFileSync(join(DEFAULT_PROFILES_DIR, `CodeSystem-${id}.json`), 'utf8')) as CodeSystem;
const displays = (id: string): Map<string, string | undefined> => new Map((codeSystem(id).concept ?? []).map((c) => [c.code, c.display]));

describe('card wording: topics and override reasons come from the project CodeSystems', () => {
  it.each(SERVICES)('%s: every topic and override reason is a CodeSystem code, with its display', (id) => {
    const w = loadCardWording(id);
    const reasons = displays('override-reasons');
    const topics = displays('card-topics');
    expect(w.overrideReasons.length).toBeGreaterThan(0);
    for (const r of w.overrideReasons) expect(r.display).toBe(reasons.get(r.code));
    for (const t of Object.values(w.cards)) expect(t.topic.display).toBe(topics.get(t.topic.code));
  });

  describe('with a CodeSystem that lacks a code the wording uses', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'wording-'));
      const reasons = codeSystem('override-reasons');
      reasons.concept = (reasons.concept ?? []).filter((c) => c.code !== 'patient-declined');
      writeFileSync(join(dir, 'CodeSystem-override-reasons.json'), JSON.stringify(reasons));
      const topics = codeSystem('card-topics');
      topics.concept = (topics.concept ?? []).filter((c) => c.code !== 'sarcopenia');
      writeFileSync(join(dir, 'CodeSystem-card-topics.json'), JSON.stringify(topics));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('refuses to load, naming the file and the code', () => {
      expect(() => loadCardWording('cmr-ihd-macce', dir)).toThrow("cards/cmr-ihd-macce.yaml: 'patient-declined' is not a code of CodeSystem override-reasons");
    });

    it('checks topics too', () => {
      const full = codeSystem('override-reasons');
      writeFileSync(join(dir, 'CodeSystem-override-reasons.json'), JSON.stringify(full));
      expect(() => loadCardWording('cirrhosis-sarcopenia', dir)).toThrow("'sarcopenia' is not a code of CodeSystem card-topics");
      expect(() => loadCardWording('cmr-cardiac-mass', dir)).not.toThrow();
    });
  });
});

describe('fill', () => {
  const t = (s: string): Template<'a' | 'b'> => s as Template<'a' | 'b'>;
  it('fills every {placeholder}, numbers as text, and keeps other braces as written', () => {
    expect(fill(t('MELD {a} ({b} %)'), { a: 29, b: '23.5' })).toBe('MELD 29 (23.5 %)');
    expect(fill(t('{a}{b}{a}'), { a: 'x', b: 'y' })).toBe('xyx');
    expect(fill(t('{{a}} {} { a } {a-b} }{'), { a: 1, b: 2 })).toBe('{1} {} { a } {a-b} }{');
    expect(fill(t('no placeholder'), { a: 1, b: 2 })).toBe('no placeholder');
  });
  it('does not fill a value into itself (a value holding {b} stays as it is)', () => {
    expect(fill(t('{a}/{b}'), { a: '{b}', b: 'y' })).toBe('{b}/y');
  });
  it('throws on a placeholder without a value: a wording bug, never a blank on a card', () => {
    expect(() => fill(t('{a} {c}'), { a: 1, b: 2 })).toThrow('Card wording placeholder {c} has no value');
  });
});
