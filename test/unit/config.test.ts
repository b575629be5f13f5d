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
