import type { RateLimitVerdict } from './limiter.ts';

/**
 * Response header fields for the verdicts of one request, per draft-ietf-httpapi-ratelimit-headers
 * (-11, Structured Field Lists): `RateLimit-Policy` lists every rule applied (`"id";q=<points>;w=<window>`),
 * `RateLimit` reports the most restrictive one (`"id";r=<remaining>;t=<reset>`), and `Retry-After`
 * (delay-seconds, >= 1) is present when any verdict refused the request. No verdicts, no fields.
 */
export function rateLimitHeaders(verdicts: readonly RateLimitVerdict[]): Record<string, string> {
  const binding = mostRestrictive(verdicts);
  if (!binding) return {};
  const headers: Record<string, string> = {
    'RateLimit-Policy': verdicts
      .map(({ rule }) => `${sfString(rule.id)};q=${rule.points};w=${rule.windowSeconds}`)
      .join(', '),
    RateLimit: `${sfString(binding.rule.id)};r=${binding.remaining};t=${binding.resetSeconds}`,
  };
  const refused = verdicts.filter((v) => !v.allowed);
  if (refused.length > 0) {
    // The request can succeed only once every refusing rule has freed capacity; the draft asks that
    // Retry-After not point before the end of the effective window reported in RateLimit.
    headers['Retry-After'] = String(Math.max(1, ...refused.map((v) => v.resetSeconds)));
  }
  return headers;
}

/** A refusal first (the longest wait among them), else the fewest points left, then the longest wait. */
function mostRestrictive(verdicts: readonly RateLimitVerdict[]): RateLimitVerdict | undefined {
  let best: RateLimitVerdict | undefined;
  for (const v of verdicts) {
    if (
      !best ||
      (!v.allowed && best.allowed) ||
      (v.allowed === best.allowed &&
        (v.remaining < best.remaining ||
          (v.remaining === best.remaining && v.resetSeconds > best.resetSeconds)))
    ) {
      best = v;
    }
  }
  return best;
}

// sf-string (RFC 9651 §4.1.6): DQUOTE, with '\' and '"' escaped. Rule ids are printable ASCII already.
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}
