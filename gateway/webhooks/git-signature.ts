import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Which git host signed a webhook call, by the header it used. */
export type GitHost = 'github' | 'gitlab';

export type SignatureVerdict =
  | { ok: true; host: GitHost }
  | { ok: false; reason: 'missing' | 'invalid' | 'not-configured' };

type Headers = Record<string, string | string[] | undefined>;

const GITHUB_HEADER = 'x-hub-signature-256';
const GITLAB_HEADER = 'x-gitlab-token';
const GITHUB_SIGNATURE_RE = /^sha256=([0-9a-f]{64})$/i;

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * Checks a git host's webhook signature against the shared secret:
 * - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` — the body exactly as
 *   sent, so it must be read before any parser touches it;
 * - GitLab: `X-Gitlab-Token: <the secret itself>`.
 * Both comparisons take the same time whatever the input (timingSafeEqual over equal-length digests),
 * so a caller cannot find the secret byte by byte. With both headers, GitHub's HMAC decides: it
 * also proves the body was not changed on the way.
 */
export function verifyGitSignature(
  headers: Headers,
  rawBody: Buffer,
  secret: string | undefined,
): SignatureVerdict {
  const github = one(headers[GITHUB_HEADER]);
  const gitlab = one(headers[GITLAB_HEADER]);
  if (github === undefined && gitlab === undefined) return { ok: false, reason: 'missing' };
  if (secret === undefined) return { ok: false, reason: 'not-configured' };
  if (github !== undefined) {
    const m = GITHUB_SIGNATURE_RE.exec(github.trim());
    if (!m) return { ok: false, reason: 'invalid' };
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    const given = Buffer.from(m[1]!, 'hex');
    return timingSafeEqual(expected, given) ? { ok: true, host: 'github' } : { ok: false, reason: 'invalid' };
  }
  // Digests of both: equal lengths whatever was sent, so the comparison leaks not even the length.
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(gitlab!), digest(secret))
    ? { ok: true, host: 'gitlab' }
    : { ok: false, reason: 'invalid' };
}

/** `sha256=<hex>` as GitHub sends it: what a test (or a proxy re-signing calls) puts in the header. */
export function githubSignature(secret: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
