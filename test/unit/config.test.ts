import { ConfigError, loadConfig, withArchiveShare } from '../../src/config.ts';

describe('FEEDBACK_COMMENT_RETENTION_DAYS', () => {
  it('is unset by default: comments are kept', () => {
    expect(loadConfig({ DEMO: 'true' }).feedbackCommentRetentionDays).toBeUndefined();
  });

  it('takes a whole number of days', () => {
    expect(loadConfig({ DEMO: 'true', FEEDBACK_COMMENT_RETENTION_DAYS: '90' }).feedbackCommentRetentionDays).toBe(90);
  });

  it.each(['0', '-5', '1.5', 'ninety'])('refuses %s, naming the variable', (value) => {
    expect(() => loadConfig({ DEMO: 'true', FEEDBACK_COMMENT_RETENTION_DAYS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ DEMO: 'true', FEEDBACK_COMMENT_RETENTION_DAYS: value })).toThrow(/FEEDBACK_COMMENT_RETENTION_DAYS/);
  });
});

describe('ISSUED_CARD_RETENTION_DAYS', () => {
  it('is a year by default, so the issued-card table is bounded', () => {
    expect(loadConfig({ DEMO: 'true' }).issuedCardRetentionDays).toBe(365);
    expect(loadConfig({ DEMO: 'true', ISSUED_CARD_RETENTION_DAYS: '730' }).issuedCardRetentionDays).toBe(730);
  });

  it.each(['0', '-1', '2.5', 'forever'])('refuses %s, naming the variable', (value) => {
    expect(() => loadConfig({ DEMO: 'true', ISSUED_CARD_RETENTION_DAYS: value })).toThrow(/ISSUED_CARD_RETENTION_DAYS/);
  });
});

describe('FHIR_RESPONSE_MAX_BYTES', () => {
  it('is 4 MiB by default and takes a byte count', () => {
    expect(loadConfig({ DEMO: 'true' }).fhirResponseMaxBytes).toBe(4 * 1024 * 1024);
    expect(loadConfig({ DEMO: 'true', FHIR_RESPONSE_MAX_BYTES: '1048576' }).fhirResponseMaxBytes).toBe(1048576);
  });

  it.each(['0', '1023', '1mb', '-5'])('refuses %s, naming the variable', (value) => {
    expect(() => loadConfig({ DEMO: 'true', FHIR_RESPONSE_MAX_BYTES: value })).toThrow(/FHIR_RESPONSE_MAX_BYTES/);
  });
});

describe('imaging configuration', () => {
  it('is off without DICOMWEB_URL, with the documented defaults', () => {
    expect(loadConfig({ DEMO: 'true' }).imaging).toEqual({
      qidoCacheTtlS: 60, requestTimeoutMs: 2500, maxResponseBytes: 64 * 1024 * 1024, callConcurrency: 6, processConcurrency: 32,
      muscleSegmentLabels: ['skeletal_muscle'], l3SegmentLabels: ['vertebrae_L3'],
    });
  });

  it('reads the archive, its credentials, the identifier system and the viewer template', () => {
    const imaging = loadConfig({
      DEMO: 'true', DICOMWEB_URL: 'https://pacs.example.org/dicom-web', DICOMWEB_AUTHORIZATION: 'Bearer abc',
      DICOMWEB_PATIENT_ID_SYSTEM: 'urn:oid:1.2.3', IMAGING_VIEWER_URL: 'https://ohif.example.org/viewer?StudyInstanceUIDs={StudyInstanceUID}',
      DICOMWEB_QIDO_CACHE_TTL_S: '0', IMAGING_MUSCLE_SEGMENT_LABELS: 'skeletal_muscle, muscle',
    }).imaging;
    expect(imaging).toMatchObject({
      dicomWebUrl: 'https://pacs.example.org/dicom-web', authorization: 'Bearer abc', patientIdSystem: 'urn:oid:1.2.3',
      viewerUrlTemplate: 'https://ohif.example.org/viewer?StudyInstanceUIDs={StudyInstanceUID}', qidoCacheTtlS: 0,
      muscleSegmentLabels: ['skeletal_muscle', 'muscle'],
    });
  });

  it.each([
    ['DICOMWEB_URL', 'ftp://pacs.example.org'],
    ['IMAGING_VIEWER_URL', 'https://ohif.example.org/viewer'],
    ['DICOMWEB_TIMEOUT_MS', '10'],
    ['DICOMWEB_MAX_RESPONSE_BYTES', 'lots'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ DEMO: 'true', [name]: value })).toThrow(new RegExp(name));
  });
});

describe('METRICS_TOKEN', () => {
  test('optional; a short token is refused with the variable named, and the value never in the message', () => {
    expect(loadConfig({ DEMO: 'true' }).metricsToken).toBeUndefined();
    expect(loadConfig({ DEMO: 'true', METRICS_TOKEN: 'a-long-enough-token' }).metricsToken).toBe('a-long-enough-token');
    let message = '';
    try { loadConfig({ DEMO: 'true', METRICS_TOKEN: 'short-secret' }); } catch (err) { message = (err as Error).message; }
    expect(message).toMatch(/METRICS_TOKEN must be at least 16 characters/);
    expect(message).not.toContain('short-secret');
  });
});

describe('withArchiveShare (DICOMWEB_PROCESS_CONCURRENCY split among the threads that read the archive)', () => {
  const config = loadConfig({ DEMO: 'true', DICOMWEB_PROCESS_CONCURRENCY: '32' });
  test.each([[1, 32], [2, 16], [3, 10], [9, 3], [64, 1]])('%i threads: %i each, never more than the limit in all unless 1 each', (threads, each) => {
    const shared = withArchiveShare(config, threads);
    expect(shared.imaging.processConcurrency).toBe(each);
    expect(each * threads <= 32 || each === 1).toBe(true);
    // Nothing else changes, and the original is left as it was.
    expect({ ...shared, imaging: { ...shared.imaging, processConcurrency: 32 } }).toEqual(config);
    expect(config.imaging.processConcurrency).toBe(32);
  });
});
