import {
  type AccessState,
  matchesPattern,
  type RateLimitRecord,
  rateLimited,
} from '../../domains/access/index.ts';
import type { Principal } from '../../kernel/principal.ts';
import { rateLimitHeaders } from './headers.ts';
import type { RateLimiter, RateLimitRule, RateLimitVerdict } from './limiter.ts';

export interface PolicyLimitsDeps {
  /** Shared counters (PostgreSQL in distributed mode, memory embedded): exact across gateways. */
  shared: RateLimiter;
  /** This gateway's own counters, for failed authentications per address. */
  local: RateLimiter;
  state: () => AccessState;
  /** Failed authentications one address may make per window before it is refused (brute force). */
  failedAuth: RateLimitRule;
}

/** The verdicts of one request; `headers` for the answer, `error` (429) when any refused. */
export interface LimitOutcome {
  verdicts: RateLimitVerdict[];
  headers: Record<string, string>;
}

/**
 * Rate limits as the access rules configure them (RateLimitSet events): per client address before
 * authentication, per principal after it, per principal and tool inside a call. Only the limits that
 * apply are counted, so a gateway without limits pays nothing per request. A refusal is AppError
 * `rate_limited` carrying the RateLimit/RateLimit-Policy/Retry-After headers.
 */
export function createPolicyLimits(deps: PolicyLimitsDeps) {
  const ruleOf = (r: RateLimitRecord): RateLimitRule => ({
    id: `rl-${r.rateLimitId}`,
    points: r.points,
    windowSeconds: r.windowSeconds,
  });

  async function consume(
    rules: Array<{ rule: RateLimitRule; key: string }>,
    limiter: RateLimiter,
  ): Promise<LimitOutcome> {
    if (rules.length === 0) return { verdicts: [], headers: {} };
    const verdicts = await Promise.all(rules.map(({ rule, key }) => limiter.consume(rule, key)));
    const headers = rateLimitHeaders(verdicts);
    const refused = verdicts.find((v) => !v.allowed);
    if (refused) throw rateLimited(refused.rule.id, Number(headers['Retry-After'] ?? '1'), headers);
    return { verdicts, headers };
  }

  function applicable(scope: RateLimitRecord['scope'], principal?: Principal): RateLimitRecord[] {
    const out: RateLimitRecord[] = [];
    for (const r of deps.state().rateLimits.values()) {
      if (r.scope !== scope) continue;
      if (principal) {
        if (r.tenant !== null && r.tenant !== principal.tenant) continue;
        if (r.match.principal !== undefined && r.match.principal !== principal.id) continue;
      }
      out.push(r);
    }
    return out;
  }

  return {
    /** Before authentication: the address limits configured for everyone. */
    address: (address: string) =>
      consume(
        applicable('address').map((r) => ({ rule: ruleOf(r), key: address })),
        deps.shared,
      ),

    /** Counts a failed authentication of an address; refuses (429) once it has failed too often. */
    failedAuthentication: (address: string) => consume([{ rule: deps.failedAuth, key: address }], deps.local),

    /** After authentication: this principal's limits. */
    principal: (principal: Principal) =>
      consume(
        applicable('principal', principal).map((r) => ({ rule: ruleOf(r), key: principal.id })),
        deps.shared,
      ),

    /** Inside a tool call: the principal × tool limits that match the tool. */
    tool: (principal: Principal, server: string, tool: string) =>
      consume(
        applicable('principal-tool', principal)
          .filter(
            (r) =>
              (r.match.server === undefined || matchesPattern(r.match.server, server)) &&
              (r.match.tool === undefined || matchesPattern(r.match.tool, tool)),
          )
          .map((r) => ({ rule: ruleOf(r), key: `${principal.id}\n${server}/${tool}` })),
        deps.shared,
      ),
  };
}

export type PolicyLimits = ReturnType<typeof createPolicyLimits>;
