import { Counter, type Registry } from 'prom-client';
import { isAppError } from '../../kernel/errors.ts';
import type { PolicyLimits } from '../rate-limit/policy-limits.ts';

/**
 * The same limits, counting their refusals (429) by where they apply: `address` (before
 * authentication), `failed_authentication` (an address that failed too often), `principal`, and
 * `tool` (per principal and tool, inside a call).
 */
export function countRateLimits(limits: PolicyLimits, metrics: Registry): PolicyLimits {
  const hits = new Counter({
    name: 'switchyard_rate_limit_hits_total',
    help: 'Requests and tool calls refused by a rate limit, by scope',
    labelNames: ['scope'] as const,
    registers: [metrics],
  });
  for (const scope of ['address', 'failed_authentication', 'principal', 'tool']) hits.inc({ scope }, 0);
  const counted =
    <A extends unknown[], R>(scope: string, f: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await f(...args);
      } catch (e) {
        if (isAppError(e) && e.kind === 'rate_limited') hits.inc({ scope });
        throw e;
      }
    };
  return {
    address: counted('address', limits.address),
    failedAuthentication: counted('failed_authentication', limits.failedAuthentication),
    principal: counted('principal', limits.principal),
    tool: counted('tool', limits.tool),
  };
}
