import { ConfigError, loadConfig } from '../../src/config.ts';

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
