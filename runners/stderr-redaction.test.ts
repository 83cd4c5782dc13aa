import { describe, expect, it } from 'vitest';
import { stderrRedactor } from './stderr-redaction.ts';

describe('stderr redaction', () => {
  const redact = stderrRedactor(['s3cr3t-value-1', 'dev', 'longer-s3cr3t-value-1-and-more']);

  it("takes out the server's environment values long enough to be secrets, the longest first", () => {
    expect(redact('using s3cr3t-value-1 and longer-s3cr3t-value-1-and-more in dev')).toBe(
      'using [redacted] and [redacted] in dev',
    );
  });

  it.each([
    ['Authorization: Bearer abc.def-ghi', 'Authorization: Bearer [redacted]'],
    ['curl -H "Authorization: Basic dXNlcjpwYXNz"', 'curl -H "Authorization: Basic [redacted]"'],
    ['key sy_ab12cd34_SeCrEt-part here', 'key [redacted] here'],
    ['jwt eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl', 'jwt [redacted]'],
    ['gh ghp_0123456789abcdefABCDEF', 'gh [redacted]'],
    ['openai sk-abcdefghijklmnopqrstu', 'openai [redacted]'],
    ['DB_PASSWORD=hunter2 next', 'DB_PASSWORD=[redacted] next'],
    ['{"api_key": "k-123"}', '{"api_key": "[redacted]"}'],
    ['?access_token=abc&x=1', '?access_token=[redacted]&x=1'],
    ['nothing to see: 42 ms', 'nothing to see: 42 ms'],
  ])('%s', (line, want) => {
    expect(redact(line)).toBe(want);
  });
});
