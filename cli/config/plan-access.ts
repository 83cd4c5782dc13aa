import { canonical, sameConfig } from './canonical.ts';
import type { GrantEntry, RateLimitEntry } from './document.ts';
import { type ApiCall, differing, type PlanBuilder } from './plan-builder.ts';

/**
 * A principal the document names by name is this environment's principal of that name (ids differ
 * between environments); none, or several, is a problem.
 */
function principalId(b: PlanBuilder, name: string, where: string): string | undefined {
  const found = b.current.principals.get(name) ?? [];
  if (found.length === 1) return found[0];
  b.problem(
    found.length === 0
      ? `${where}: no principal named "${name}" in this tenant — create it first`
      : `${where}: ${found.length} principals are named "${name}" in this tenant — name one by id`,
  );
  return undefined;
}

/**
 * A grant has no name: it is what it grants (its principal by id, as the API has it). Changing
 * one is adding another and (with --prune) removing the old one.
 */
export function planGrants(b: PlanBuilder): void {
  const wanted = new Set<string>();
  for (const g of b.desired.grants) {
    const subject =
      'name' in g.subject ? principalId(b, g.subject.name, `grant ${grantLabel(g)}`) : g.subject.id;
    if (subject === undefined) continue;
    const asApi = { ...g, subject: { type: g.subject.type, id: subject } };
    wanted.add(canonical(asApi));
    if (!b.current.ids.grants.has(canonical(asApi))) {
      b.create('grant', grantLabel(g), [{ method: 'POST', path: '/api/v1/grants', body: asApi }]);
    }
  }
  for (const [key, { id, entry }] of b.current.ids.grants) {
    if (!wanted.has(key))
      b.remove('grant', grantLabel(entry), [{ method: 'DELETE', path: `/api/v1/grants/${id}` }]);
  }
}

/** Policies by name; a change is a new version of the same policy (PUT). */
export function planPolicies(b: PlanBuilder): void {
  const ids = b.current.ids.policies;
  for (const p of b.desired.policies) {
    const now = b.have.policies.find((h) => h.name === p.name);
    if (!now) {
      b.create('policy', p.name, [{ method: 'POST', path: '/api/v1/policies', body: p }]);
      continue;
    }
    const fields = differing(now, p, ['description', 'effect', 'target', 'condition'], sameConfig);
    if (fields.length > 0) {
      b.change('policy', p.name, fields, [
        { method: 'PUT', path: `/api/v1/policies/${ids.get(p.name)}`, body: p },
      ]);
    }
  }
  for (const h of b.have.policies.filter((h) => !b.desired.policies.some((d) => d.name === h.name))) {
    b.remove('policy', h.name, [{ method: 'DELETE', path: `/api/v1/policies/${ids.get(h.name)}` }]);
  }
}

/** Rate limits by name, compared and sent with their principal by id. */
export function planRateLimits(b: PlanBuilder): void {
  const ids = b.current.ids.rateLimits;
  for (const wanted of b.desired.rateLimits) {
    const { principalName, ...match } = wanted.match;
    const principal =
      principalName === undefined
        ? match.principal
        : principalId(b, principalName, `rate limit ${wanted.name}`);
    if (principalName !== undefined && principal === undefined) continue;
    const r = { ...wanted, match: { ...match, ...(principal !== undefined && { principal }) } };
    const stored = b.have.rateLimits.find((h) => h.name === r.name);
    if (!stored) {
      b.create('rate limit', r.name, [setRateLimit(r)]);
      continue;
    }
    const now = { ...stored, match: b.current.ids.rateLimitMatches.get(r.name) ?? {} };
    const fields = differing(now, r, ['scope', 'points', 'windowSeconds', 'match', 'global'], sameConfig);
    if (fields.length > 0) {
      // A limit is set, not edited: the new one first, so the tenant is never without it.
      b.change('rate limit', r.name, fields, [
        setRateLimit(r),
        { method: 'DELETE', path: `/api/v1/rate-limits/${ids.get(r.name)}` },
      ]);
    }
  }
  for (const h of b.have.rateLimits.filter((h) => !b.desired.rateLimits.some((d) => d.name === h.name))) {
    b.remove('rate limit', h.name, [{ method: 'DELETE', path: `/api/v1/rate-limits/${ids.get(h.name)}` }]);
  }
}

function setRateLimit(r: RateLimitEntry): ApiCall {
  const { global, ...rest } = r;
  // Address limits are global by nature; the API refuses a tenant for them.
  return {
    method: 'POST',
    path: '/api/v1/rate-limits',
    body: global && r.scope !== 'address' ? { ...rest, tenant: null } : rest,
  };
}

function grantLabel(g: GrantEntry): string {
  const subject = `${g.subject.type} ${'name' in g.subject ? g.subject.name : g.subject.id}`;
  const r = g.resource;
  const on =
    r.type === 'server' ? `server ${r.server}` : r.type === 'tool' ? `tool ${r.server}/${r.tool}` : r.type;
  return `${g.permission} to ${subject} on ${on}`;
}
