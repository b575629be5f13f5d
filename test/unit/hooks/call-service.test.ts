// The use case of a CDS service call (src/hooks/call-service.ts) with a stand-in service: every
// outcome is a value (it never throws), failures keep the observations made before them, and an
// unexpected error is a 500 whose log line holds no request data.
import { Writable } from 'node:stream';
import type { Card } from '../../../src/hooks/types.ts';
import type { CdsService } from '../../../src/services/types.ts';
import { testConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/logger.ts';
import { testRuntime } from '../../support/runtime.ts';
import { callService, type CallResult, type CallServiceDeps } from '../../../src/hooks/call-service.ts';

const PATIENT = 'patient-secret-42';
const NOW = new Date('2026-03-01T10:00:00Z');
const card: Card = {
  uuid: 'card-1', summary: 'A summary', indicator: 'warning',
  source: { label: 'Test', topic: { system: 'https://example.org/topics', code: 'test-topic' } },
};

function service(evaluate: CdsService['evaluate']): CdsService {
  return {
    description: {
      hook: 'patient-view', id: 'test-service', title: 'Test', description: 'A stand-in service',
      prefetch: { patient: 'Patient/{{context.patientId}}', labs: 'Observation?patient={{context.patientId}}' },
    },
    requiredPrefetch: ['patient'],
    evaluate,
  };
}

function deps(s: CdsService, logLines: string[] = []): CallServiceDeps {
  const sink = new Writable({ write(chunk, _enc, done) { logLines.push(String(chunk)); done(); } });
  return { runtime: testRuntime(), services: new Map([[s.description.id, s]]), config: testConfig(), logger: createLogger('debug', sink), now: () => NOW };
}

const body = (extra: Record<string, unknown> = {}): Uint8Array => Buffer.from(JSON.stringify({
  hook: 'patient-view', hookInstance: 'hook-instance-1', context: { userId: 'Practitioner/1', patientId: PATIENT }, ...extra,
}));
const caller = { iss: 'https://ehr.test', fhirServers: [] };
const prefetch = { patient: { resourceType: 'Patient', id: PATIENT }, labs: null };

test('an answer: the response bytes, the issued-card rows and the evaluation context', async () => {
  let seen: Parameters<CdsService['evaluate']> | undefined;
  const s = service((...args) => { seen = args; return [card]; });
  const result = await callService({ serviceId: 'test-service', body: body({ prefetch }), caller }, deps(s));
  expect(result.ok).toBe(true);
  if (!result.ok) return;
  expect(JSON.parse(Buffer.from(result.body).toString('utf8'))).toEqual({ cards: [card] });
  expect(result.issuedCards).toEqual([{
    uuid: 'card-1', serviceId: 'test-service', cardKind: 'test-topic', indicator: 'warning',
    hookInstance: 'hook-instance-1', issuer: 'https://ehr.test', issuedAt: NOW,
  }]);
  expect(seen?.[0]).toEqual({ patient: prefetch.patient, labs: [] });
  expect(seen?.[1].call).toMatchObject({ hookInstance: 'hook-instance-1', patientId: PATIENT, userId: 'Practitioner/1', now: NOW, unavailable: [] });
});

test.each<[string, Uint8Array, string, number, string, RegExp]>([
  ['an unknown service', body(), 'no-such-service', 404, 'not-found', /Unknown CDS service 'no-such-service'/],
  ['bytes that are not JSON', Buffer.from('{"hook":'), 'test-service', 400, 'structure', /not valid JSON/],
  ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'test-service', 400, 'structure', /not valid JSON/],
  ['a request the schema refuses', Buffer.from('{"hook":"patient-view"}'), 'test-service', 400, 'invalid', /Invalid CDS Hooks request: hookInstance/],
  ['another hook', body({ hook: 'order-sign' }), 'test-service', 400, 'invalid', /answers the 'patient-view' hook, not 'order-sign'/],
])('refused as a value: %s', async (_name, bytes, serviceId, status, code, message) => {
  const result: CallResult = await callService({ serviceId, body: bytes, caller }, deps(service(() => [card])));
  expect(result).toMatchObject({ ok: false, error: { status, code }, observations: [] });
  if (!result.ok) expect(result.error.message).toMatch(message);
  // Plain data: it crosses threads by structured clone unchanged (an Error's own fields would not).
  expect(structuredClone(result)).toEqual(result);
});

test('required data unavailable: 412, with the observations made before it', async () => {
  const result = await callService({ serviceId: 'test-service', body: body(), caller }, deps(service(() => [card])));
  expect(result).toEqual({
    ok: false,
    error: { status: 412, code: 'incomplete', message: expect.stringMatching(/^Required data could not be obtained \(patient\)/) },
    observations: [
      { kind: 'prefetch-unavailable', service: 'test-service', key: 'patient' },
      { kind: 'prefetch-unavailable', service: 'test-service', key: 'labs' },
    ],
  });
});

test('a service that throws: a 500 value, and a log line with the error but no request data', async () => {
  const lines: string[] = [];
  const s = service(() => { throw new TypeError(`cannot read a value`); });
  const result = await callService({ serviceId: 'test-service', body: body({ prefetch }), caller }, deps(s, lines));
  expect(result).toEqual({ ok: false, error: { status: 500, code: 'exception', message: 'Internal error' }, observations: [] });
  const logged = lines.map((l) => JSON.parse(l) as { msg: string; err?: unknown });
  expect(logged.find((l) => l.msg === 'unhandled error')?.err).toMatchObject({ message: 'cannot read a value' });
  expect(lines.join('\n')).not.toContain(PATIENT);
});
