import { describe, expect, it } from 'vitest';
import { githubSignature, verifyGitSignature } from './git-signature.ts';

const SECRET = 'a-shared-webhook-secret';
const BODY = Buffer.from('{"ref":"refs/heads/main"}');

describe('verifyGitSignature', () => {
  it("accepts GitHub's HMAC of the exact body (hex in either case), refuses it over other bytes or with another key", () => {
    const sig = githubSignature(SECRET, BODY);
    expect(verifyGitSignature({ 'x-hub-signature-256': sig }, BODY, SECRET)).toEqual({
      ok: true,
      host: 'github',
    });
    expect(
      verifyGitSignature(
        { 'x-hub-signature-256': sig.toUpperCase().replace('SHA256=', 'sha256=') },
        BODY,
        SECRET,
      ).ok,
    ).toBe(true);
    expect(verifyGitSignature({ 'x-hub-signature-256': sig }, Buffer.from(`${BODY} `), SECRET)).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(
      verifyGitSignature({ 'x-hub-signature-256': githubSignature('another', BODY) }, BODY, SECRET).ok,
    ).toBe(false);
  });

  it('refuses malformed GitHub signatures (sha1, short, not hex) without comparing', () => {
    for (const bad of ['sha1=abc', `sha256=${'0'.repeat(63)}`, `sha256=${'g'.repeat(64)}`, '', 'sha256=']) {
      expect(verifyGitSignature({ 'x-hub-signature-256': bad }, BODY, SECRET), bad).toEqual({
        ok: false,
        reason: 'invalid',
      });
    }
  });

  it("accepts GitLab's token only when it is the secret", () => {
    expect(verifyGitSignature({ 'x-gitlab-token': SECRET }, BODY, SECRET)).toEqual({
      ok: true,
      host: 'gitlab',
    });
    for (const bad of ['', SECRET.slice(1), `${SECRET} `, SECRET.toUpperCase()]) {
      expect(verifyGitSignature({ 'x-gitlab-token': bad }, BODY, SECRET), bad).toEqual({
        ok: false,
        reason: 'invalid',
      });
    }
  });

  it("with both headers GitHub's HMAC decides; with neither the call is unsigned; with no secret nothing passes", () => {
    const both = { 'x-hub-signature-256': githubSignature('wrong', BODY), 'x-gitlab-token': SECRET };
    expect(verifyGitSignature(both, BODY, SECRET)).toEqual({ ok: false, reason: 'invalid' });
    expect(verifyGitSignature({}, BODY, SECRET)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyGitSignature({ 'x-gitlab-token': SECRET }, BODY, undefined)).toEqual({
      ok: false,
      reason: 'not-configured',
    });
  });
});
