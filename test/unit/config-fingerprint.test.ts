// The fingerprint of the settings instances behind one load balancer must agree on (issue 15).
import { describe, expect, it } from '@jest/globals';
import { testConfig } from '../../src/config.ts';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFingerprint, contentDigest, releaseId, sharedSettings, type ContentDigests } from '../../src/config-fingerprint.ts';
import type { TrustedClient } from '../../src/hooks/trusted-clients.ts';
import { DEFAULT_PROFILES_DIR } from '../../src/fhir/terminology.ts';
import { DEFAULT_CARDS_DIR } from '../../src/services/card-wording.ts';

const keyA = { kty: 'EC', crv: 'P-384', x: 'a'.repeat(64), y: 'b'.repeat(64), kid: 'k1' };
const keyB = { kty: 'EC', crv: 'P-384', x: 'c'.repeat(64), y: 'd'.repeat(64), kid: 'k2' };
const ehr1: TrustedClient = { iss: 'https://ehr1.example.org', jwks: { keys: [keyA] }, fhirServers: ['https://ehr1.example.org/fhir', 'https://ehr1.example.org/r4'] };
const ehr2: TrustedClient = { iss: 'https://ehr2.example.org', jwksUri: 'https://ehr2.example.org/jwks', fhirServers: ['https://ehr2.example.org/fhir'] };
const config = testConfig({ demo: false, publicBaseUrl: 'https://cds.example.org' });

describe('configFingerprint', () => {
  it('is the same whatever the order of clients, their FHIR servers or their keys\' fields', () => {
    const fp = configFingerprint(config, [ehr1, ehr2], 'redis');
    expect(fp).toMatch(/^sha256:[0-9a-f]{16}$/);
    const reordered: TrustedClient = {
      fhirServers: [...ehr1.fhirServers].reverse(), iss: ehr1.iss,
      jwks: { keys: [{ kid: 'k1', y: keyA.y, x: keyA.x, crv: 'P-384', kty: 'EC' }] },
    };
    expect(configFingerprint(config, [ehr2, reordered], 'redis')).toBe(fp);
  });

  it('ignores what may differ per instance (port, host, data dir, log level, workers, URLs with credentials)', () => {
    const fp = configFingerprint(config, [ehr1], 'redis');
    const other = { ...config, port: 9999, host: '127.0.0.1', dataDir: '/elsewhere', logLevel: 'debug' as const, hookWorkers: 7,
      databaseUrl: 'postgres://u:pw@db/x', redisUrl: 'redis://:pw@r:6379', redisTimeoutMs: 900 };
    expect(configFingerprint({ ...other, databaseUrl: undefined }, [ehr1], 'redis')).toBe(fp);
  });

  it('changes with the trusted clients (a rotated key, an added client, another FHIR server)', () => {
    const fp = configFingerprint(config, [ehr1, ehr2], 'redis');
    expect(configFingerprint(config, [{ ...ehr1, jwks: { keys: [keyA, keyB] } }, ehr2], 'redis')).not.toBe(fp);
    expect(configFingerprint(config, [ehr1], 'redis')).not.toBe(fp);
    expect(configFingerprint(config, [{ ...ehr1, fhirServers: ['https://ehr1.example.org/fhir'] }, ehr2], 'redis')).not.toBe(fp);
  });

  it('changes with shared settings: audience, skew, a score setting, the replay store, the database kind', () => {
    const fp = configFingerprint(config, [ehr1], 'redis');
    expect(configFingerprint({ ...config, publicBaseUrl: 'https://cds2.example.org' }, [ehr1], 'redis')).not.toBe(fp);
    expect(configFingerprint({ ...config, jwtClockSkewS: 5 }, [ehr1], 'redis')).not.toBe(fp);
    expect(configFingerprint({ ...config, labLookbackDays: 14 }, [ehr1], 'redis')).not.toBe(fp);
    expect(configFingerprint(config, [ehr1], 'memory')).not.toBe(fp);
    expect(configFingerprint({ ...config, databaseUrl: 'postgres://db/x' }, [ehr1], 'redis')).not.toBe(fp);
  });

  it('holds no secret', () => {
    const secretive = {
      ...config, smartClientSecret: 'super-secret-client-value', databaseUrl: 'postgres://u:dbpass@db/x', redisUrl: 'redis://:redispass@r',
      imaging: { ...config.imaging, authorization: 'Bearer archive-token' },
    };
    const text = JSON.stringify(sharedSettings(secretive, [ehr1], 'redis'));
    for (const secret of ['super-secret-client-value', 'dbpass', 'redispass', 'archive-token']) expect(text).not.toContain(secret);
  });
});

describe('the clinical content in the fingerprint', () => {
  const dirs: string[] = [];
  afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
  /** A folder with these files (path → text), written in the order given. */
  const folder = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'cds-content-'));
    dirs.push(dir);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  };
  const files = { 'ValueSet-a.json': '{"a":1}', 'site/ConceptMap-b.json': '{"b":2}' };

  it('is the same for the same files, whatever the folder or the order they were written in', () => {
    const reversed = Object.fromEntries(Object.entries(files).reverse());
    expect(contentDigest(folder(files))).toBe(contentDigest(folder(reversed)));
  });

  it('changes with a byte of a file, a renamed file or a file added in a subfolder', () => {
    const base = contentDigest(folder(files));
    expect(contentDigest(folder({ ...files, 'ValueSet-a.json': '{"a":2}' }))).not.toBe(base);
    expect(contentDigest(folder({ 'ValueSet-z.json': '{"a":1}', 'site/ConceptMap-b.json': '{"b":2}' }))).not.toBe(base);
    expect(contentDigest(folder({ ...files, 'site/more/x.json': '' }))).not.toBe(base);
    // A boundary moved between file name and content is another folder too.
    expect(contentDigest(folder({ ab: 'c' }))).not.toBe(contentDigest(folder({ a: 'bc' })));
  });

  it('changes the fingerprint with the site terminology folder\'s files', () => {
    const fp = configFingerprint(config, [ehr1], 'redis');
    const site = folder(files);
    const withSite = configFingerprint({ ...config, terminologySiteDir: site }, [ehr1], 'redis');
    expect(withSite).not.toBe(fp);
    expect(configFingerprint({ ...config, terminologySiteDir: folder(files) }, [ehr1], 'redis')).toBe(withSite);
    writeFileSync(join(site, 'ValueSet-a.json'), '{"a":3}');
    expect(configFingerprint({ ...config, terminologySiteDir: site }, [ehr1], 'redis')).not.toBe(withSite);
  });

  it('holds the digests of profiles/ and cards/ as they are in this checkout', () => {
    const content = sharedSettings(config, [ehr1], 'redis').content as ContentDigests;
    expect(content.profiles).toBe(contentDigest(DEFAULT_PROFILES_DIR));
    expect(content.cards).toBe(contentDigest(DEFAULT_CARDS_DIR));
    expect(content.profiles).not.toBe(content.cards);
    expect(content.siteTerminology).toBeNull();
  });

  it('names the release by version, code and locked dependencies, apart from the fingerprint', () => {
    const release = { 'package.json': '{"version":"1.2.3"}', 'package-lock.json': '{"lockfileVersion":3}', 'src/a.ts': 'export {};' };
    const id = releaseId(folder(release));
    expect(id).toMatch(/^1\.2\.3\+sha256:[0-9a-f]{16}$/);
    expect(releaseId(folder(release))).toBe(id);
    expect(releaseId(folder({ ...release, 'src/a.ts': 'export const a = 1;' }))).not.toBe(id);
    expect(releaseId(folder({ ...release, 'package-lock.json': '{"lockfileVersion":3,"packages":{}}' }))).not.toBe(id);
    expect(releaseId()).toMatch(/^\d+\.\d+\.\d+\+sha256:[0-9a-f]{16}$/);
  });
});
