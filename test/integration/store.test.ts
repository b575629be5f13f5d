// The feedback and issued-card store against both real backends: embedded PGlite and a real
// PostgreSQL server (started from Debian's binaries by test/support/postgres-server.ts). The same
// suite runs on both, as the same SQL does in production.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { openStore, type Store, type StoreOptions } from '../../src/store/store.ts';
import type { IssuedCardRow } from '../../src/hooks/store-port.ts';
import { FeedbackRequestSchema, feedbackRequestSchema, type FeedbackItem } from '../../src/hooks/feedback-schema.ts';
import { MIGRATIONS, migrate } from '../../src/store/migrations.ts';
import { IssuedCardWriter, type IssuedCardWriterOptions } from '../../src/store/issued-card-writer.ts';
import { openSqlDriver, type SqlDriver } from '../../src/store/sql-driver.ts';
import { PgliteThread } from '../../src/store/pglite-driver.ts';
import { lockDataDir } from '../../src/store/data-dir-lock.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

interface LogLine {
  level: 'warn' | 'error';
  obj: object;
  msg?: string;
}

function memoryLogger(): { lines: LogLine[]; warn: (obj: object, msg?: string) => void; error: (obj: object, msg?: string) => void } {
  const lines: LogLine[] = [];
  return {
    lines,
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const serviceId = (): string => `svc-${randomUUID().slice(0, 8)}`;
/** The CDS client (JWT iss) that received the cards; feedback must come from it. */
const ISS = 'https://ehr.test';

function card(svc: string, cardKind: string, issuedAt = new Date(), issuer = ISS): IssuedCardRow {
  return { uuid: randomUUID(), serviceId: svc, cardKind, indicator: 'warning', hookInstance: randomUUID(), issuer, issuedAt };
}

const stored = (n: number, duplicates = 0) => ({ status: 'stored', stored: n, duplicates });

/** Goes through the request schema, as the route does: the store sees parsed items only. */
function items(raw: unknown[]): FeedbackItem[] {
  return FeedbackRequestSchema.parse({ feedback: raw }).feedback;
}

const OVERRIDE_SYSTEM = 'https://example.org/CodeSystem/cds-override-reason';
const overridden = (uuid: string, code: string | undefined, at: string, extra: Record<string, unknown> = {}) => ({
  card: uuid,
  outcome: 'overridden',
  overrideReason: code ? { reason: { system: OVERRIDE_SYSTEM, code, ...extra } } : { userComment: 'other plan' },
  outcomeTimestamp: at,
});
const accepted = (uuid: string, at: string) => ({
  card: uuid,
  outcome: 'accepted',
  acceptedSuggestions: [{ id: randomUUID() }],
  outcomeTimestamp: at,
});

const BACKENDS = [{ backend: 'pglite' as const }, { backend: 'postgres' as const }];

describe.each(BACKENDS)('store on $backend', ({ backend }) => {
  let server: PostgresServer | undefined;
  let dataDir: string;
  let target: Pick<StoreOptions, 'databaseUrl' | 'dataDir'>;
  let store: Store;
  const logger = memoryLogger();
  // Large interval: a flush here is caused by batch size or flush(), which the tests control.
  const tuning = { batchSize: 5, flushIntervalMs: 60_000 };
  const RETENTION_DAYS = 30;
  // No grace for feedback on unknown cards: one instance per database here (the pair test sets its own).
  const open = () => openStore({ ...target, logger, issuedCards: tuning, commentRetentionDays: RETENTION_DAYS, unknownCardGraceMs: 0 });
  /** An empty database on this backend, for tests that need one. */
  const freshTarget = async (): Promise<{ options: Pick<StoreOptions, 'databaseUrl' | 'dataDir'>; cleanup: () => Promise<void> }> => {
    const dir = mkdtempSync(join(tmpdir(), 'cds-store-fresh-'));
    const databaseUrl = server ? await server.createDatabase(`cds_fresh_${randomUUID().slice(0, 8)}`) : undefined;
    return { options: { databaseUrl, dataDir: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cds-store-'));
    if (backend === 'postgres') {
      const t0 = Date.now();
      server = await startPostgres();
      process.stdout.write(`real PostgreSQL started in ${Date.now() - t0} ms\n`);
    }
    target = { databaseUrl: server?.url, dataDir };
    store = await open();
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('migrates on first open and applies nothing when opened again', async () => {
    expect(store.backend).toBe(backend);
    expect(store.migrationsApplied).toEqual([1, 2]);
    await store.close();
    store = await open();
    expect(store.migrationsApplied).toEqual([]);
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('stores feedback idempotently on (card, outcome, outcomeTimestamp)', async () => {
    const svc = serviceId();
    const c = card(svc, 'meld');
    store.recordIssuedCards([c]);
    await store.flush();
    const uuid = c.uuid;
    const item = overridden(uuid, 'not-relevant', '2026-03-01T10:00:00.000Z');

    await expect(store.recordFeedback(svc, ISS, items([item]))).resolves.toEqual(stored(1));
    await expect(store.recordFeedback(svc, ISS, items([item]))).resolves.toEqual(stored(0, 1));
    // The same instant spelled with an offset is the same outcome.
    const sameInstant = { ...item, outcomeTimestamp: '2026-03-01T11:00:00+01:00' };
    await expect(store.recordFeedback(svc, ISS, items([sameInstant]))).resolves.toEqual(stored(0, 1));
    // A repeat inside one request is a duplicate too; a later outcome on the same card is new.
    const later = { ...item, outcomeTimestamp: '2026-03-01T10:05:00Z' };
    await expect(store.recordFeedback(svc, ISS, items([later, later]))).resolves.toEqual(stored(1, 1));
    // Another outcome at the same instant is another key.
    await expect(store.recordFeedback(svc, ISS, items([accepted(uuid, '2026-03-01T10:00:00Z')]))).resolves.toEqual(stored(1));
  });

  it('accepts the HL7 Sandbox shape: a reason Coding without display', async () => {
    const svc = serviceId();
    const c = card(svc, 'meld');
    store.recordIssuedCards([c]);
    await store.flush();
    const body = {
      feedback: [
        {
          card: c.uuid,
          outcome: 'overridden',
          overrideReason: { reason: { code: 'patient-declined', system: OVERRIDE_SYSTEM } },
          outcomeTimestamp: new Date().toISOString(),
        },
      ],
    };
    const parsed = FeedbackRequestSchema.safeParse(body);
    expect(parsed.success).toBe(true);
    await expect(store.recordFeedback(svc, ISS, parsed.data!.feedback)).resolves.toEqual(stored(1));
    const [row] = await store.overrideRates({ serviceId: svc });
    expect(row!.topReasons).toEqual([{ code: 'patient-declined', system: OVERRIDE_SYSTEM, count: 1 }]);
  });

  it('erases feedback comments after the retention, and keeps the outcome and reason', async () => {
    const svc = serviceId();
    const c = card(svc, 'meld');
    store.recordIssuedCards([c]);
    await store.flush();
    const at = new Date().toISOString();
    await store.recordFeedback(svc, ISS, items([{ ...overridden(c.uuid, 'already-addressed', at), overrideReason: { reason: { system: OVERRIDE_SYSTEM, code: 'already-addressed' }, userComment: 'Mrs Example is on it' } }]));
    const day = 86_400_000;
    // Received just now: kept one day before the retention ends, erased once it has.
    await expect(store.eraseExpiredComments(new Date(Date.now() + (RETENTION_DAYS - 1) * day))).resolves.toBe(0);
    const erasedNow = await store.eraseExpiredComments(new Date(Date.now() + RETENTION_DAYS * day + 60_000));
    expect(erasedNow).toBeGreaterThanOrEqual(1); // this comment, and any left by earlier tests
    await expect(store.eraseExpiredComments(new Date(Date.now() + RETENTION_DAYS * day + 60_000))).resolves.toBe(0);
    const [row] = await store.overrideRates({ serviceId: svc });
    expect(row).toMatchObject({ cardKind: 'meld', overridden: 1, topReasons: [{ code: 'already-addressed', count: 1 }] });
  });

  it('buffers issued cards off the hot path and writes them in batches', async () => {
    const svc = serviceId();
    const before = store.stats().issuedCards.written;
    const first = [card(svc, 'meld'), card(svc, 'meld'), card(svc, 'albi'), card(svc, 'albi')];

    expect(store.recordIssuedCards(first)).toBeUndefined(); // synchronous, nothing to await
    expect(store.stats().issuedCards.buffered).toBe(4);
    await sleep(150);
    expect(store.stats().issuedCards.written).toBe(before); // under batch size, interval far away

    store.recordIssuedCards([card(svc, 'meld')]); // reaches batchSize (5): written without flush()
    await until(() => store.stats().issuedCards.written === before + 5);
    expect(store.stats().issuedCards.buffered).toBe(0);

    const dup = first[0]!;
    store.recordIssuedCards([card(svc, 'albi'), { ...dup, cardKind: 'changed' }]); // re-recorded uuid: first write wins
    await store.flush();
    expect(store.stats().issuedCards.buffered).toBe(0);
    const rates = await store.overrideRates({ serviceId: svc });
    expect(rates.map((r) => [r.cardKind, r.issued])).toEqual([
      ['albi', 3],
      ['meld', 3],
    ]);
  });

  it('reports override rates per card kind, latest outcome per card, with top reasons', async () => {
    const svc = serviceId();
    const other = serviceId();
    const a = [card(svc, 'meld-sarcopenia'), card(svc, 'meld-sarcopenia'), card(svc, 'meld-sarcopenia'), card(svc, 'meld-sarcopenia')];
    const b = [card(svc, 'child-pugh'), card(svc, 'child-pugh')];
    const old = card(svc, 'child-pugh', new Date('2020-01-01T00:00:00Z'));
    const elsewhere = card(other, 'meld-sarcopenia');
    store.recordIssuedCards([...a, ...b, old, elsewhere]);
    await store.flush();

    const unknownUuid = randomUUID();
    // Feedback on a uuid never issued is refused now (issue 11): the report has no 'unknown' kind.
    await expect(store.recordFeedback(svc, ISS, items([overridden(unknownUuid, 'not-relevant', '2026-03-01T10:00:00Z')])))
      .resolves.toEqual({ status: 'unknown-cards', items: [0] });
    await store.recordFeedback(
      svc,
      ISS,
      items([
        overridden(a[0]!.uuid, 'not-relevant', '2026-03-01T10:00:00Z', { display: 'Not relevant for this patient' }),
        overridden(a[1]!.uuid, 'not-relevant', '2026-03-01T10:01:00Z'),
        overridden(a[2]!.uuid, 'data-outdated', '2026-03-01T10:02:00Z'),
        accepted(a[3]!.uuid, '2026-03-01T10:03:00Z'),
        // b[0]: accepted, then overridden later: the latest outcome counts, once.
        accepted(b[0]!.uuid, '2026-03-01T10:00:00Z'),
        overridden(b[0]!.uuid, 'already-addressed', '2026-03-01T12:00:00Z'),
        // b[1]: overridden with a comment only: counted, no coded reason.
        overridden(b[1]!.uuid, undefined, '2026-03-01T10:00:00Z'),
        overridden(old.uuid, 'not-relevant', '2026-03-01T10:00:00Z'),
      ]),
    );
    await store.recordFeedback(other, ISS, items([overridden(elsewhere.uuid, 'not-relevant', '2026-03-01T10:00:00Z')]));

    const rates = await store.overrideRates({ serviceId: svc, since: new Date('2025-01-01T00:00:00Z') });
    expect(rates).toEqual([
      {
        serviceId: svc,
        cardKind: 'child-pugh',
        issued: 2,
        accepted: 0,
        overridden: 2,
        overrideRate: 1,
        topReasons: [{ code: 'already-addressed', system: OVERRIDE_SYSTEM, count: 1 }],
      },
      {
        serviceId: svc,
        cardKind: 'meld-sarcopenia',
        issued: 4,
        accepted: 1,
        overridden: 3,
        overrideRate: 0.75,
        topReasons: [
          { code: 'not-relevant', system: OVERRIDE_SYSTEM, display: 'Not relevant for this patient', count: 2 },
          { code: 'data-outdated', system: OVERRIDE_SYSTEM, count: 1 },
        ],
      },
    ]);

    // Without `since`, the 2020 card joins its kind; without serviceId, other services appear.
    const all = await store.overrideRates({ serviceId: svc });
    expect(all.find((r) => r.cardKind === 'child-pugh')).toMatchObject({ issued: 3, overridden: 3 });
    const everything = await store.overrideRates();
    expect(everything.filter((r) => r.serviceId === other)).toEqual([
      expect.objectContaining({ cardKind: 'meld-sarcopenia', issued: 1, overridden: 1, overrideRate: 1 }),
    ]);
  });

  it('survives NUL characters in an EHR-supplied hookInstance; feedback text with NUL is refused by the schema', async () => {
    const svc = serviceId();
    const c = { ...card(svc, 'meld'), hookInstance: 'abc\u0000def' };
    store.recordIssuedCards([c]);
    await store.flush();
    expect(store.stats().issuedCards.dropped).toBe(0);
    const item = { ...overridden(c.uuid, 'x', '2026-03-01T10:00:00Z'), overrideReason: { reason: { code: 'x', display: 'a\u0000b' }, userComment: 'c\u0000d' } };
    expect(FeedbackRequestSchema.safeParse({ feedback: [item] }).success).toBe(false);
    await expect(store.recordFeedback(svc, ISS, items([overridden(c.uuid, 'x', '2026-03-01T10:00:00Z')]))).resolves.toEqual(stored(1));
    expect((await store.overrideRates({ serviceId: svc }))[0]).toMatchObject({ issued: 1, topReasons: [{ code: 'x', count: 1 }] });
  });

  it('gives a null rate to card kinds without feedback', async () => {
    const svc = serviceId();
    store.recordIssuedCards([card(svc, 'albi')]);
    await store.flush();
    expect(await store.overrideRates({ serviceId: svc })).toEqual([
      { serviceId: svc, cardKind: 'albi', issued: 1, accepted: 0, overridden: 0, overrideRate: null, topReasons: [] },
    ]);
  });

  it('keeps its data across close and reopen', async () => {
    const svc = serviceId();
    const c = card(svc, 'timi-stemi');
    store.recordIssuedCards([c]); // still buffered: feedback finds it (written first), close() too
    await expect(store.recordFeedback(svc, ISS, items([overridden(c.uuid, 'not-relevant', '2026-03-02T08:00:00Z')]))).resolves.toEqual(stored(1));
    await store.close();

    store = await open();
    expect(store.migrationsApplied).toEqual([]);
    expect(await store.overrideRates({ serviceId: svc })).toEqual([
      expect.objectContaining({ cardKind: 'timi-stemi', issued: 1, overridden: 1, overrideRate: 1 }),
    ]);
    // And the idempotency key survived too.
    await expect(
      store.recordFeedback(svc, ISS, items([overridden(c.uuid, 'not-relevant', '2026-03-02T08:00:00Z')])),
    ).resolves.toEqual(stored(0, 1));
  });

  describe('feedback is bound to the card\'s recipient (issue 11)', () => {
    it('counts feedback only from the client that received the card, through the service that issued it', async () => {
      const svc = serviceId();
      const mine = card(svc, 'meld');
      const theirs = card(svc, 'meld', new Date(), 'https://other-ehr.test');
      store.recordIssuedCards([mine, theirs]);
      await store.flush();
      const at = '2026-03-01T10:00:00Z';
      // Another client's card, the right card through another service, a uuid never issued.
      await expect(store.recordFeedback(svc, ISS, items([overridden(theirs.uuid, 'x', at)]))).resolves.toEqual({ status: 'unknown-cards', items: [0] });
      await expect(store.recordFeedback(serviceId(), ISS, items([overridden(mine.uuid, 'x', at)]))).resolves.toEqual({ status: 'unknown-cards', items: [0] });
      // One bad item refuses the whole request: nothing of it is stored.
      await expect(store.recordFeedback(svc, ISS, items([overridden(mine.uuid, 'x', at), accepted(randomUUID(), at)]))).resolves.toEqual({ status: 'unknown-cards', items: [1] });
      expect((await store.overrideRates({ serviceId: svc }))[0]).toMatchObject({ issued: 2, accepted: 0, overridden: 0 });
      // The recipient, through the issuing service: stored (not a duplicate of anything refused).
      await expect(store.recordFeedback(svc, ISS, items([overridden(mine.uuid, 'x', at)]))).resolves.toEqual(stored(1));
      await expect(store.recordFeedback(svc, 'https://other-ehr.test', items([accepted(theirs.uuid, at)]))).resolves.toEqual(stored(1));
      expect((await store.overrideRates({ serviceId: svc }))[0]).toMatchObject({ issued: 2, accepted: 1, overridden: 1 });
    });

    it('finds a card still in the write-behind buffer (feedback right after the card)', async () => {
      const svc = serviceId();
      const c = card(svc, 'meld');
      store.recordIssuedCards([c]);
      expect(store.stats().issuedCards.buffered).toBe(1); // the flush interval is a minute here
      await expect(store.recordFeedback(svc, ISS, items([accepted(c.uuid, '2026-03-01T10:00:00Z')]))).resolves.toEqual(stored(1));
      expect(store.stats().issuedCards.buffered).toBe(0);
    });

    it('refuses feedback on a card issued before the recipient was recorded (migration 2)', async () => {
      const { options, cleanup } = await freshTarget();
      const svc = serviceId();
      const legacy = randomUUID();
      const driver = await openSqlDriver({ ...options, logger });
      await migrate(driver, MIGRATIONS.filter((m) => m.version === 1));
      await driver.query(`INSERT INTO issued_card (card_uuid, service_id, card_kind, indicator, hook_instance, issued_at) VALUES ($1, $2, 'meld', 'info', 'h', now())`, [legacy, svc]);
      await driver.close();
      const s = await openStore({ ...options, logger, unknownCardGraceMs: 0 });
      try {
        expect(s.migrationsApplied).toEqual([2]);
        await expect(s.recordFeedback(svc, ISS, items([accepted(legacy, '2026-03-01T10:00:00Z')]))).resolves.toEqual({ status: 'unknown-cards', items: [0] });
        expect((await s.overrideRates({ serviceId: svc }))[0]).toMatchObject({ issued: 1, accepted: 0 });
      } finally {
        await s.close();
        await cleanup();
      }
    });

    it('purges issued cards after the retention, and then the feedback on them; feedback on a purged card is refused', async () => {
      const { options, cleanup } = await freshTarget();
      const days = 30;
      const s = await openStore({ ...options, logger, issuedCardRetentionDays: days, unknownCardGraceMs: 0 });
      try {
        const svc = serviceId();
        const day = 86_400_000;
        const now = Date.now();
        const old = card(svc, 'meld', new Date(now - (days + 1) * day));
        const recent = card(svc, 'meld', new Date(now - (days - 1) * day));
        s.recordIssuedCards([old, recent]);
        await s.flush();
        await s.recordFeedback(svc, ISS, items([overridden(old.uuid, 'x', '2026-03-01T10:00:00Z'), accepted(recent.uuid, '2026-03-01T10:00:00Z')]));
        expect((await s.overrideRates({ serviceId: svc }))[0]).toMatchObject({ issued: 2, accepted: 1, overridden: 1 });

        await expect(s.purgeExpiredIssuedCards(new Date(now))).resolves.toEqual({ issuedCards: 1, feedback: 0 });
        // The report covers the cards still on record; feedback on the purged card is refused.
        expect((await s.overrideRates({ serviceId: svc }))[0]).toMatchObject({ issued: 1, accepted: 1, overridden: 0 });
        await expect(s.recordFeedback(svc, ISS, items([accepted(old.uuid, '2026-03-02T10:00:00Z')]))).resolves.toEqual({ status: 'unknown-cards', items: [0] });
        // The feedback on the purged card goes once it is as old as the retention itself.
        await expect(s.purgeExpiredIssuedCards(new Date(now + (days + 1) * day))).resolves.toEqual({ issuedCards: 1, feedback: 2 });
      } finally {
        await s.close();
        await cleanup();
      }
    });
  });

  describe('feedback the database would refuse is refused by the schema first (issue 11)', () => {
    // Each case: a feedback item, and whether the request schema accepts it. Whatever the schema
    // accepts must be stored by this backend; the DB-refused values are shown to fail without it.
    const at = '2026-03-01T10:00:00Z';
    const cases: Array<[string, (uuid: string) => Record<string, unknown>, boolean]> = [
      ['year 0001', (u) => accepted(u, '0001-01-01T00:00:00Z'), true],
      ['year 0001 at +15:59 (1 BC in UTC)', (u) => accepted(u, '0001-01-01T00:00:00+15:59'), true],
      ['year 9999 at -15:59 (year 10000 in UTC)', (u) => accepted(u, '9999-12-31T23:59:59-15:59'), true],
      ['offset -15:59', (u) => accepted(u, '2026-03-01T10:00:00-15:59'), true],
      ['offset -00:00', (u) => accepted(u, '2026-03-01T10:00:00-00:00'), true],
      ['30 fractional digits', (u) => accepted(u, '2026-03-01T10:00:00.123456789012345678901234567890Z'), true],
      ['29 February of a leap year', (u) => accepted(u, '2024-02-29T10:00:00Z'), true],
      ['year 0000', (u) => accepted(u, '0000-01-01T00:00:00Z'), false],
      ['offset -23:59', (u) => accepted(u, '2026-03-01T10:00:00-23:59'), false],
      ['offset +16:00', (u) => accepted(u, '2026-03-01T10:00:00+16:00'), false],
      ['29 February of another year', (u) => accepted(u, '2026-02-29T10:00:00Z'), false],
      ['second 60', (u) => accepted(u, '2026-03-01T10:00:60Z'), false],
      ['hour 24', (u) => accepted(u, '2026-03-01T24:00:00Z'), false],
      ['a six-digit year', (u) => accepted(u, '+002026-03-01T10:00:00Z'), false],
      ['a number', (u) => ({ ...accepted(u, at), outcomeTimestamp: 1e308 }), false],
      ['NUL in a code', (u) => overridden(u, 'a\u0000b', at), false],
      ['NUL in a display', (u) => overridden(u, 'x', at, { display: 'a\u0000b' }), false],
      ['NUL in a system', (u) => ({ ...overridden(u, 'x', at), overrideReason: { reason: { system: 'urn:\u0000', code: 'x' } } }), false],
      ['NUL in a comment', (u) => ({ ...overridden(u, 'x', at), overrideReason: { userComment: 'a\u0000b' } }), false],
      ['a lone surrogate in a comment', (u) => ({ ...overridden(u, 'x', at), overrideReason: { userComment: 'a\ud800b' } }), false],
      ['an emoji (a surrogate pair) in a comment', (u) => ({ ...overridden(u, 'x', at), overrideReason: { userComment: 'ok \u{1F44D}' } }), true],
      ['NUL in a suggestion id', (u) => ({ ...accepted(u, at), acceptedSuggestions: [{ id: 'a\u0000' }] }), false],
      ['a lone surrogate in a suggestion id', (u) => ({ ...accepted(u, at), acceptedSuggestions: [{ id: '\udc00' }] }), false],
      ['NUL in the card uuid', () => accepted('abc\u0000', at), false],
      ['a 2000-character comment', (u) => ({ ...overridden(u, 'x', at), overrideReason: { userComment: 'é'.repeat(2000) } }), true],
      ['a 1024-character display of 4-byte characters', (u) => overridden(u, 'x', at, { display: '\u{1F600}'.repeat(512) }), true],
    ];

    it.each(cases)('%s', async (_name, make, schemaAccepts) => {
      const svc = serviceId();
      const c = card(svc, 'meld');
      store.recordIssuedCards([c]);
      const parsed = FeedbackRequestSchema.safeParse({ feedback: [make(c.uuid)] });
      expect(parsed.success).toBe(schemaAccepts);
      if (parsed.success) await expect(store.recordFeedback(svc, ISS, parsed.data.feedback)).resolves.toEqual(stored(1));
    });

    it.each([
      ['year 0000', '22008', '0000-01-01T00:00:00Z'],
      ['offset -23:59', '22009', '2026-03-01T10:00:00-23:59'],
    ])('without the schema, %s fails the INSERT on this backend (SQLSTATE %s)', async (_name, code, outcomeTimestamp) => {
      const svc = serviceId();
      const c = card(svc, 'meld');
      store.recordIssuedCards([c]);
      await store.flush();
      const raw = { card: c.uuid, outcome: 'accepted', outcomeTimestamp } as FeedbackItem;
      await expect(store.recordFeedback(svc, ISS, [raw])).rejects.toMatchObject({ code });
    });

    it('any ISO 8601 instant the schema accepts, this backend stores (property-based)', async () => {
      const svc = serviceId();
      const c = card(svc, 'meld');
      store.recordIssuedCards([c]);
      await store.flush();
      const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
      const timestamp = fc.tuple(
        fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')), two(13), two(32), two(24), two(60), two(60),
        fc.option(fc.stringMatching(/^\.[0-9]{1,12}$/), { nil: '' }),
        fc.oneof(fc.constant('Z'), fc.tuple(fc.constantFrom('+', '-'), two(23), two(59)).map(([s, h, m]) => `${s}${h}:${m}`)),
      ).map(([y, mo, d, h, mi, se, frac, off]) => `${y}-${mo}-${d}T${h}:${mi}:${se}${frac}${off}`);
      let storedCount = 0;
      await fc.assert(fc.asyncProperty(fc.uniqueArray(timestamp, { minLength: 1, maxLength: 50 }), async (stamps) => {
        const feedback = stamps.map((t) => accepted(c.uuid, t)).filter((i) => FeedbackRequestSchema.safeParse({ feedback: [i] }).success);
        if (feedback.length === 0) return;
        const result = await store.recordFeedback(svc, ISS, items(feedback));
        expect(result.status).toBe('stored');
        storedCount += feedback.length;
      }), { numRuns: 40 });
      expect(storedCount).toBeGreaterThan(100); // the property saw many accepted instants, not only refusals
    });
  });

  if (backend === 'postgres') {
    it('binds feedback through the database: a card issued moments ago by another instance is found', async () => {
      const url = await server!.createDatabase(`cds_pair_${randomUUID().slice(0, 8)}`);
      // Instance A issues the card and writes it 100 ms later; instance B receives the feedback at once.
      const a = await openStore({ databaseUrl: url, dataDir, logger, issuedCards: { flushIntervalMs: 100 } });
      const b = await openStore({ databaseUrl: url, dataDir, logger, unknownCardGraceMs: 400 });
      const impatient = await openStore({ databaseUrl: url, dataDir, logger, unknownCardGraceMs: 0 });
      try {
        const svc = serviceId();
        const first = card(svc, 'meld');
        a.recordIssuedCards([first]);
        await expect(impatient.recordFeedback(svc, ISS, items([accepted(first.uuid, '2026-03-01T10:00:00Z')]))).resolves.toEqual({ status: 'unknown-cards', items: [0] });
        const second = card(svc, 'meld');
        a.recordIssuedCards([second]);
        await expect(b.recordFeedback(svc, ISS, items([accepted(second.uuid, '2026-03-01T10:00:00Z')]))).resolves.toEqual(stored(1));
      } finally {
        await Promise.all([a.close(), b.close(), impatient.close()]);
      }
    });

    it('lets replicas that start together migrate a fresh database exactly once', async () => {
      const url = await server!.createDatabase(`cds_fresh_${randomUUID().slice(0, 8)}`);
      const stores = await Promise.all([1, 2, 3].map(() => openStore({ databaseUrl: url, dataDir, logger })));
      try {
        expect(stores.map((s) => s.migrationsApplied.length).sort()).toEqual([0, 0, MIGRATIONS.length]);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  }

  if (backend === 'pglite') {
    it('refuses a second handle on the same embedded database', async () => {
      await expect(openStore({ dataDir, logger })).rejects.toThrow(/already open in this process/);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('takes over a lock left by a process that died', async () => {
      await store.close();
      const lockPath = join(dataDir, 'pglite.lock');
      expect(existsSync(lockPath)).toBe(false); // close() released it
      // Above Linux's largest pid_max (2^22): no such process can exist.
      writeFileSync(lockPath, JSON.stringify({ pid: 4_194_305, host: hostname(), since: '2026-01-01T00:00:00Z' }));
      store = await open();
      expect(logger.lines.some((l) => l.msg === 'Taking over a stale embedded-database lock')).toBe(true);
      expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid });
    });
  }
});

describe('embedded database folder lock: one process only (issue 15)', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cds-lock-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('refuses a second process with a message saying what to do instead', async () => {
    const logger = memoryLogger();
    const store = await openStore({ dataDir: dir, logger });
    try {
      // What a second instance started on the same DATA_DIR sees (src/server.ts prints the message).
      const storeModule = new URL('../../src/store/store.ts', import.meta.url).href;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e',
        `import { openStore } from ${JSON.stringify(storeModule)}; await openStore({ dataDir: ${JSON.stringify(dir)} });`], { encoding: 'utf8', timeout: 60_000 });
      expect(child.status).not.toBe(0);
      expect(child.stderr).toContain(`is in use by process ${process.pid} since`);
      expect(child.stderr).toContain('serves one process only');
      expect(child.stderr).toContain('DATABASE_URL');
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('watches the heartbeat of a holder on another host: live while it moves, taken over once it stops', async () => {
    const logger = memoryLogger();
    const target = join(dir, 'pglite');
    const lockPath = `${target}.lock`;
    let beat = 0;
    const holder = (): string => JSON.stringify({ pid: 12345, host: 'another-host.example', since: '2026-01-01T00:00:00Z', heartbeat: `beat-${beat++}` });
    writeFileSync(lockPath, holder());
    const alive = setInterval(() => writeFileSync(lockPath, holder()), 20);
    try {
      await expect(lockDataDir(target, logger, { staleAfterMs: 400 })).rejects.toThrow(/in use by process 12345 on host another-host\.example/);
    } finally {
      clearInterval(alive);
    }
    const release = await lockDataDir(target, logger, { staleAfterMs: 400, heartbeatMs: 20 });
    try {
      expect(logger.lines.some((l) => l.msg === 'Taking over a stale embedded-database lock')).toBe(true);
      const first = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid: number; heartbeat: string };
      expect(first.pid).toBe(process.pid);
      // The new holder's own heartbeat moves, so another host would see it alive.
      await sleep(100);
      expect((JSON.parse(readFileSync(lockPath, 'utf8')) as { heartbeat: string }).heartbeat).not.toBe(first.heartbeat);
    } finally {
      await release();
    }
    expect(existsSync(lockPath)).toBe(false);
  });

  it('release leaves no lock behind even while a heartbeat refresh is in flight', async () => {
    const lockPath = join(dir, 'pglite.lock');
    // A 1 ms heartbeat keeps a refresh (read, write aside, rename) in flight most of the time;
    // a rename landing after release's rm used to put the lock back (seen once in CI).
    for (let round = 0; round < 40; round++) {
      const release = await lockDataDir(join(dir, 'pglite'), memoryLogger(), { heartbeatMs: 1 });
      await sleep(round % 7);
      await release();
      expect(existsSync(lockPath)).toBe(false);
    }
  });
});

describe('embedded database thread (PGlite driver)', () => {
  let dataDir: string;
  let driver: SqlDriver;
  const logger = memoryLogger();
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pglite-thread-'));
    driver = await openSqlDriver({ dataDir, logger });
    await driver.exec('CREATE TABLE t (n int PRIMARY KEY)');
  });
  afterAll(async () => {
    await driver.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('returns rows, and PostgreSQL errors with their SQLSTATE (the writer tells bad data from outages by it)', async () => {
    await expect(driver.query<{ x: number }>('SELECT $1::int + 1 AS x', [41])).resolves.toEqual([{ x: 42 }]);
    await expect(driver.query('SELECT 1 / 0')).rejects.toMatchObject({ name: 'SqlError', code: '22012', message: 'division by zero' });
    await expect(driver.query('SELECT 1')).resolves.toHaveLength(1); // the session survives an error
  });

  it('keeps other statements out of an open transaction, and rolls it back when its body throws', async () => {
    let inside!: () => void;
    const entered = new Promise<void>((r) => (inside = r));
    const tx = driver.transaction(async (t) => {
      await t.query('INSERT INTO t VALUES (1)');
      inside();
      await sleep(50); // a statement issued now must wait for the end of the transaction
      throw new Error('body failed');
    });
    await entered;
    const concurrent = driver.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
    await expect(tx).rejects.toThrow('body failed');
    await expect(concurrent).resolves.toEqual([{ n: 0 }]);
    await driver.transaction((t) => t.query('INSERT INTO t VALUES (2)'));
    await expect(driver.query('SELECT n FROM t')).resolves.toEqual([{ n: 2 }]);
  });

  it('writes what was queued before close, then refuses statements', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pglite-thread-close-'));
    const d = await openSqlDriver({ dataDir: dir, logger });
    await d.exec('CREATE TABLE u (n int)');
    const write = d.query('INSERT INTO u SELECT generate_series(1, 1000)');
    await d.close();
    await expect(write).resolves.toEqual([]);
    await expect(d.query('SELECT 1')).rejects.toThrow('The embedded database thread stopped');
    const again = await openSqlDriver({ dataDir: dir, logger });
    await expect(again.query('SELECT count(*)::int AS n FROM u')).resolves.toEqual([{ n: 1000 }]);
    await again.close();
    rmSync(dir, { recursive: true, force: true });
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('when the thread dies, fails fast, restarts it and keeps the data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pglite-thread-restart-'));
    const log = memoryLogger();
    // The real thread, plus a statement that makes it exit as a WASM abort would (support script).
    // Not the heap limit: Node enforces it best-effort, and a result past it once aborted this process.
    const d = await PgliteThread.start(dir, log, new URL('../support/exiting-pglite-thread.ts', import.meta.url));
    try {
      await d.exec('CREATE TABLE v (n int)');
      await d.query('INSERT INTO v SELECT generate_series(1, 10)');
      const dying = d.query("SELECT 'exit-thread'");
      const queued = d.query('SELECT 1');
      await expect(dying).rejects.toThrow('The embedded database thread stopped');
      await expect(queued).rejects.toThrow('The embedded database thread stopped');
      let rows: Array<{ n: number }> | undefined;
      for (let i = 0; i < 300 && !rows; i++) {
        rows = await d.query<{ n: number }>('SELECT count(*)::int AS n FROM v').catch(() => undefined);
        if (!rows) await sleep(100);
      }
      expect(rows).toEqual([{ n: 10 }]);
      expect(log.lines.map((l) => `${l.level} ${l.msg ?? ''}`)).toEqual([
        'error The embedded database thread stopped; restarting it',
        'warn The embedded database thread restarted',
      ]);
      await d.transaction((t) => t.query('INSERT INTO v VALUES (11)'));
      await expect(d.query('SELECT count(*)::int AS n FROM v')).resolves.toEqual([{ n: 11 }]);
    } finally {
      await d.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('feedback request schema', () => {
  const ok = { card: randomUUID(), outcome: 'accepted', acceptedSuggestions: [{ id: 'save' }], outcomeTimestamp: '2026-03-01T10:00:00Z' };
  const messages = (body: unknown): string[] => {
    const r = FeedbackRequestSchema.safeParse(body);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts CDS Hooks 2.0 items, null optionals and unknown properties', () => {
    const parsed = FeedbackRequestSchema.parse({
      feedback: [
        { ...ok, overrideReason: null, extension: { 'org.example': 1 } },
        { card: randomUUID(), outcome: 'overridden', overrideReason: { reason: { code: 'x', display: null }, userComment: 'later' }, outcomeTimestamp: '2026-03-01T10:00:00.123456+02:00' },
      ],
    });
    expect(parsed.feedback[0]).toEqual({ ...ok, overrideReason: undefined, acceptedSuggestions: [{ id: 'save' }] });
    expect(parsed.feedback[1]!.overrideReason).toEqual({ reason: { code: 'x', system: undefined, display: undefined }, userComment: 'later' });
  });

  it('rejects bad items with readable messages', () => {
    expect(messages(null)).toEqual([': the body must be a JSON object with a feedback array']);
    expect(messages({ feedback: [] })).toEqual(['feedback: feedback must contain at least one item']);
    expect(messages({ feedback: Array.from({ length: 101 }, () => ok) })).toEqual([
      'feedback: feedback may contain at most 100 items per request',
    ]);
    expect(messages({ feedback: [{ ...ok, card: undefined }] })).toEqual(['feedback.0.card: card is required']);
    expect(messages({ feedback: [{ ...ok, card: '<script>' }] })).toEqual([
      "feedback.0.card: card may contain only letters, digits, '.', '_', ':' and '-'",
    ]);
    expect(messages({ feedback: [{ ...ok, outcome: 'ignored' }] })).toEqual([
      "feedback.0.outcome: outcome must be 'accepted' or 'overridden'",
    ]);
    const tsMessage = 'outcomeTimestamp must be an ISO 8601 date-time with a time zone, e.g. 2026-01-31T09:30:00Z';
    for (const bad of ['2026-03-01T10:00:00', '2026-02-30T10:00:00Z', 'yesterday', '2026-03-01']) {
      expect(messages({ feedback: [{ ...ok, outcomeTimestamp: bad }] })).toEqual([`feedback.0.outcomeTimestamp: ${tsMessage}`]);
    }
    expect(
      messages({ feedback: [{ card: ok.card, outcome: 'overridden', overrideReason: { reason: { display: 'x' } }, outcomeTimestamp: ok.outcomeTimestamp }] }),
    ).toEqual(['feedback.0.overrideReason.reason.code: code is required']);
    expect(messages({ feedback: [{ ...ok, overrideReason: { userComment: 'x'.repeat(2001) } }] })).toEqual([
      'feedback.0.overrideReason.userComment: userComment must be at most 2000 characters',
      "feedback.0.overrideReason: overrideReason is only allowed when outcome is 'overridden'",
    ]);
    expect(messages({ feedback: [{ ...ok, outcome: 'overridden' }] })).toEqual([
      "feedback.0.acceptedSuggestions: acceptedSuggestions is only allowed when outcome is 'accepted'",
    ]);
  });

  it('refuses what PostgreSQL cannot store with a message that says why', () => {
    expect(messages({ feedback: [{ ...ok, outcomeTimestamp: '0000-06-01T10:00:00Z' }] })).toEqual(['feedback.0.outcomeTimestamp: outcomeTimestamp must be in year 0001 or later']);
    expect(messages({ feedback: [{ ...ok, outcomeTimestamp: '2026-03-01T10:00:00-23:59' }] })).toEqual(['feedback.0.outcomeTimestamp: outcomeTimestamp must have a UTC offset within ±15:59']);
    expect(messages({ feedback: [{ ...ok, acceptedSuggestions: [{ id: 'a\u0000' }] }] })).toEqual([
      'feedback.0.acceptedSuggestions.0.id: id must be valid Unicode text without NUL characters',
      "feedback.0.acceptedSuggestions.0.id: id may contain only letters, digits, '.', '_', ':' and '-'",
    ]);
    expect(messages({ feedback: [{ card: ok.card, outcome: 'overridden', outcomeTimestamp: ok.outcomeTimestamp, overrideReason: { userComment: 'x\ud83d' } }] })).toEqual([
      'feedback.0.overrideReason.userComment: userComment must be valid Unicode text without NUL characters',
    ]);
  });

  it('refuses an outcomeTimestamp in the future beyond the clock skew: it would be the card\'s latest outcome forever', () => {
    const now = new Date('2026-03-01T10:00:00Z');
    const schema = feedbackRequestSchema({ now: () => now, clockSkewS: 30 });
    const at = (t: string) => schema.safeParse({ feedback: [{ ...ok, outcomeTimestamp: t }] });
    expect(at('2026-03-01T10:00:30Z').success).toBe(true); // within the skew
    expect(at('2026-03-01T11:00:29+01:00').success).toBe(true); // the same instant, another offset
    expect(at('2026-03-01T09:00:00Z').success).toBe(true); // the past is fine
    const late = at('2026-03-01T10:00:31Z');
    expect(late.success).toBe(false);
    expect(late.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      "feedback.0.outcomeTimestamp: outcomeTimestamp is in the future (more than 30 s ahead of this server's clock)",
    ]);
    expect(at('2099-01-01T00:00:00Z').success).toBe(false);
    expect(at('9999-12-31T23:59:59-15:59').success).toBe(false);
  });
});

describe('issued-card writer', () => {
  const row = (n: number): IssuedCardRow => ({
    uuid: `c${n}`,
    serviceId: 's',
    cardKind: 'k',
    indicator: 'info',
    hookInstance: 'h',
    issuer: ISS,
    issuedAt: new Date(0),
  });
  const setup = (opts: Partial<IssuedCardWriterOptions>, insert: (rows: IssuedCardRow[]) => Promise<void>) => {
    const logger = memoryLogger();
    const writer = new IssuedCardWriter(insert, { batchSize: 3, flushIntervalMs: 20, maxBuffered: 6, maxBackoffMs: 40, logger, ...opts });
    return { writer, logger };
  };

  it('does no I/O on record and flushes on the interval in batches', async () => {
    const batches: string[][] = [];
    const { writer } = setup({ batchSize: 2, flushIntervalMs: 30 }, async (rows) => {
      batches.push(rows.map((r) => r.uuid));
    });
    writer.record([row(1)]);
    expect(batches).toEqual([]); // nothing happened synchronously
    await until(() => batches.length === 1);
    expect(batches).toEqual([['c1']]);
    writer.record([row(2), row(3), row(4)]);
    await until(() => writer.stats().buffered === 0);
    expect(batches.slice(1)).toEqual([['c2', 'c3'], ['c4']]);
    expect(writer.stats()).toEqual({ buffered: 0, written: 4, dropped: 0, failedFlushes: 0 });
    await writer.close();
  });

  it('keeps a bounded buffer while the database is down, drops the oldest, and recovers', async () => {
    let down = true;
    const written: string[] = [];
    const { writer, logger } = setup({ flushIntervalMs: 10_000 }, async (rows) => {
      if (down) throw new Error('connect ECONNREFUSED');
      written.push(...rows.map((r) => r.uuid));
    });
    writer.record([row(1), row(2), row(3)]); // a full batch: immediate attempt, which fails
    await until(() => writer.stats().failedFlushes === 1);
    writer.record([row(4), row(5), row(6), row(7), row(8)]); // capacity 6: c1 and c2 go
    expect(writer.stats()).toMatchObject({ buffered: 6, dropped: 2 });
    await expect(writer.flush()).rejects.toThrow('ECONNREFUSED');
    expect(logger.lines.map((l) => l.msg)).toEqual(['Issued-card write failed; keeping rows in memory', 'Issued-card rows dropped']);
    expect(JSON.stringify(logger.lines)).not.toContain('c3'); // rows are never logged

    down = false;
    // Retried on the back-off timer (max 40 ms here) without anyone calling flush().
    await until(() => writer.stats().buffered === 0);
    expect(written).toEqual(['c3', 'c4', 'c5', 'c6', 'c7', 'c8']);
    expect(writer.stats()).toMatchObject({ written: 6, dropped: 2 });
    expect(logger.lines.at(-1)?.msg).toBe('Issued-card writes recovered');
    await writer.close();
  });

  it('counts rows evicted during a failing insert as dropped, once', async () => {
    let release: (err?: Error) => void = () => undefined;
    const { writer } = setup({ batchSize: 3, maxBuffered: 3, flushIntervalMs: 10_000 }, () =>
      new Promise<void>((resolve, reject) => {
        release = (err) => (err ? reject(err) : resolve());
      }),
    );
    writer.record([row(1), row(2), row(3)]);
    await until(() => writer.stats().buffered === 3 && release.length === 1);
    await sleep(5);
    writer.record([row(4)]); // evicts c1, which is inside the in-flight insert: not lost yet
    expect(writer.stats().dropped).toBe(0);
    release(new Error('boom'));
    await until(() => writer.stats().failedFlushes === 1);
    expect(writer.stats()).toMatchObject({ dropped: 1, buffered: 3 });
    const closing = writer.close(); // flushes: one more insert, which fails; close never throws
    release(new Error('still down'));
    await closing;
    expect(writer.stats()).toMatchObject({ dropped: 4, buffered: 0 });
  });

  it('drops a batch the database rejects as bad data instead of retrying it forever', async () => {
    const written: string[] = [];
    const { writer, logger } = setup({ batchSize: 2, flushIntervalMs: 10_000, isPermanent: (e) => (e as { code?: string }).code === '22P02' }, async (rows) => {
      if (rows.some((r) => r.uuid === 'c1')) throw Object.assign(new Error('invalid input syntax'), { code: '22P02' });
      written.push(...rows.map((r) => r.uuid));
    });
    writer.record([row(1), row(2), row(3)]);
    await writer.flush();
    expect(written).toEqual(['c3']);
    expect(writer.stats()).toEqual({ buffered: 0, written: 1, dropped: 2, failedFlushes: 0 });
    expect(logger.lines.map((l) => l.level)).toContain('error');
    await writer.close();
  });

  it('writes what is left on close and ignores rows after it', async () => {
    const written: string[] = [];
    const { writer } = setup({ flushIntervalMs: 10_000 }, async (rows) => {
      written.push(...rows.map((r) => r.uuid));
    });
    writer.record([row(1)]);
    await writer.close();
    expect(written).toEqual(['c1']);
    writer.record([row(2)]);
    expect(writer.stats()).toMatchObject({ buffered: 0, written: 1, dropped: 1 });
  });

  it('records 10,000 rows without waiting on the database: the hot path does no I/O', () => {
    // Cost per row is a benchmark's business (bench/); here: no insert runs inside record().
    let inserts = 0;
    const { writer } = setup({ batchSize: 200, maxBuffered: 20_000, flushIntervalMs: 10_000 }, async () => {
      inserts++;
    });
    for (let i = 0; i < 10_000; i++) writer.record([row(i)]);
    expect(inserts).toBe(0);
    expect(writer.stats().buffered).toBe(10_000);
    void writer.close();
  });
});
