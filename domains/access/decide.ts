import type { Permission, Principal } from '../../kernel/principal.ts';
import { ACTIONS, type Action, policyActionMatches } from './actions.ts';
import { type ConditionContext, compileCondition } from './conditions.ts';
import { implies, matchesPattern, ROLE_PERMISSIONS } from './permissions.ts';
import { type AccessState, type GrantRecord, grantsOf, type PolicyRecord } from './state.ts';

/** What an action is about: a tenant, one of its servers or tools, or the platform. */
export type AccessResource =
  | { kind: 'tenant'; tenant: string; owner?: string | undefined }
  | { kind: 'server'; tenant: string; server: string; owner?: string | undefined }
  | { kind: 'tool'; tenant: string; server: string; tool: string; owner?: string | undefined }
  | { kind: 'platform' };

export interface DecisionContext {
  /** A tool call's arguments (policy conditions may read them). */
  args?: Readonly<Record<string, unknown>> | undefined;
  /**
   * `list`: is the item to be shown? Conditions on arguments cannot be known yet, so a deny that
   * depends on them does not hide the tool and an allow that depends on them may still match — the
   * call itself is then decided with its arguments.
   */
  phase?: 'call' | 'list';
}

export interface Decision {
  effect: 'allow' | 'deny';
  /** Why, in order: what gave (or did not give) the permission, then each policy that mattered. */
  reasons: string[];
  /** The access state's version the decision was made against (global position of its last event). */
  policyVersion: string;
  /** The permission needed, and — when the credential's scopes were what fell short — the scopes to ask for. */
  permission: Permission;
  missingScopes?: Permission[];
  /**
   * Whether the principal has any right on the resource at all. A denied caller that cannot see a
   * thing is answered as if it did not exist (404, unknown tool); one that can, with 403.
   */
  visible: boolean;
}

/**
 * The one decision function: default deny; the permission must come from a role on the principal's
 * own tenant, ownership, or a grant covering the resource, AND from the credential's scopes (a token
 * can only narrow); then every applicable policy: any deny wins, and where allow policies apply one
 * of them must match. A condition that fails to evaluate counts against the caller (a deny's error
 * denies, an allow's error does not allow). Pure: no I/O, no clock.
 */
export function decide(
  state: AccessState,
  principal: Principal,
  action: Action,
  resource: AccessResource,
  context: DecisionContext = {},
): Decision {
  const def = ACTIONS[action];
  const needed = def.permission;
  const policyVersion = state.version.toString();
  const deny = (reasons: string[], visible: boolean, extra: Partial<Decision> = {}): Decision => ({
    effect: 'deny',
    reasons,
    policyVersion,
    permission: needed,
    visible,
    ...extra,
  });

  const { rights, sees } = rightsOn(state, principal, resource);
  const source = rights.find((r) => implies(r.permission, needed));
  const visible = def.on === 'self' || rights.length > 0 || sees;
  if (!source && def.on !== 'self') {
    return deny([`nothing gives ${needed} on ${describe(resource)} (roles, ownership, grants)`], visible);
  }
  const reasons = [source ? `${source.why} gives ${source.permission}` : 'any authenticated principal'];

  if (principal.scopes !== undefined) {
    if (!principal.scopes.some((s) => implies(s, needed))) {
      return deny(
        [
          ...reasons,
          `the credential's scopes (${principal.scopes.join(' ') || 'none'}) do not include ${needed}`,
        ],
        visible,
        {
          missingScopes: [needed],
        },
      );
    }
    reasons.push(`scope ${principal.scopes.find((s) => implies(s, needed))} allows it`);
  }

  if (def.policies && resource.kind !== 'platform') {
    const verdict = applyPolicies(state, principal, action, resource, context);
    reasons.push(...verdict.reasons);
    if (!verdict.allowed) return deny(reasons, visible);
  }
  return { effect: 'allow', reasons, policyVersion, permission: needed, visible };
}

interface Right {
  permission: Permission;
  why: string;
}

/**
 * Every permission the principal holds on the resource, with where it comes from; `sees` when a
 * grant on some of a server's tools makes the server itself visible (to list those tools).
 */
function rightsOn(
  state: AccessState,
  principal: Principal,
  resource: AccessResource,
): { rights: Right[]; sees: boolean } {
  const out: Right[] = [];
  if (principal.roles.includes('admin')) {
    for (const p of ROLE_PERMISSIONS.admin) out.push({ permission: p, why: 'role admin' });
    return { rights: out, sees: true };
  }
  if (resource.kind === 'platform') {
    for (const g of grantsOf(state, principal.id, principal.tenant)) {
      if (g.resource.type === 'platform') out.push({ permission: g.permission, why: `grant ${g.grantId}` });
    }
    return { rights: out, sees: false };
  }
  // Nothing crosses tenants: another tenant's things are invisible to roles, grants and ownership.
  if (resource.tenant !== principal.tenant) return { rights: out, sees: false };
  let sees = false;
  for (const role of principal.roles) {
    for (const p of ROLE_PERMISSIONS[role]) out.push({ permission: p, why: `role ${role}` });
  }
  if (resource.owner !== undefined && resource.owner === principal.id) {
    out.push({ permission: 'mcp:manage', why: 'ownership' });
  }
  for (const g of grantsOf(state, principal.id, principal.tenant)) {
    if (g.tenant !== resource.tenant) continue;
    if (covers(g, resource)) out.push({ permission: g.permission, why: `grant ${g.grantId}` });
    else if (
      resource.kind === 'server' &&
      g.resource.type === 'tool' &&
      matchesPattern(g.resource.server, resource.server)
    )
      sees = true;
  }
  return { rights: out, sees };
}

function covers(g: GrantRecord, resource: Exclude<AccessResource, { kind: 'platform' }>): boolean {
  const r = g.resource;
  switch (r.type) {
    case 'tenant':
      return true;
    case 'platform':
      return false;
    case 'server':
      return resource.kind !== 'tenant' && matchesPattern(r.server, resource.server);
    case 'tool':
      return (
        resource.kind === 'tool' &&
        matchesPattern(r.server, resource.server) &&
        matchesPattern(r.tool, resource.tool)
      );
    default: {
      const _: never = r;
      return _;
    }
  }
}

function applyPolicies(
  state: AccessState,
  principal: Principal,
  action: Action,
  resource: Exclude<AccessResource, { kind: 'platform' }>,
  context: DecisionContext,
): { allowed: boolean; reasons: string[] } {
  const server = resource.kind === 'tenant' ? '' : resource.server;
  const tool = resource.kind === 'tool' ? resource.tool : '';
  const applicable: PolicyRecord[] = [];
  for (const p of state.policies.values()) {
    if (p.tenant !== resource.tenant) continue;
    if (!p.target.actions.some((pattern) => policyActionMatches(pattern, action))) continue;
    if (p.target.server !== undefined && (server === '' || !matchesPattern(p.target.server, server)))
      continue;
    if (p.target.tool !== undefined && (tool === '' || !matchesPattern(p.target.tool, tool))) continue;
    applicable.push(p);
  }
  if (applicable.length === 0) return { allowed: true, reasons: [] };

  const ctx: ConditionContext = {
    principal: {
      id: principal.id,
      tenant: principal.tenant,
      name: principal.name,
      kind: principal.kind,
      roles: principal.roles,
      scopes: principal.scopes ?? [],
    },
    claims: principal.claims,
    action,
    server,
    tool,
    args: context.args ?? {},
  };
  const listing = context.phase === 'list';
  const reasons: string[] = [];
  let allows = 0;
  let allowMatched = false;
  for (const p of applicable) {
    const outcome = evaluate(p, ctx, listing);
    if (p.effect === 'deny') {
      if (outcome === 'true' || outcome === 'error') {
        reasons.push(
          `policy "${p.name}" denies${outcome === 'error' ? ' (its condition could not be evaluated)' : ''}`,
        );
        return { allowed: false, reasons };
      }
      continue;
    }
    allows++;
    if (outcome === 'true') {
      allowMatched = true;
      reasons.push(`policy "${p.name}" allows`);
    }
  }
  if (allows > 0 && !allowMatched) {
    reasons.push(
      `no allow policy matched (${applicable
        .filter((p) => p.effect === 'allow')
        .map((p) => `"${p.name}"`)
        .join(', ')})`,
    );
    return { allowed: false, reasons };
  }
  return { allowed: true, reasons };
}

/** `true`, `false`, `error`; while listing, a condition on the arguments counts as "could match". */
function evaluate(p: PolicyRecord, ctx: ConditionContext, listing: boolean): 'true' | 'false' | 'error' {
  if (p.condition === undefined) return 'true';
  const compiled = compileCondition(p.condition);
  if (!compiled.ok) return 'error';
  if (listing && compiled.usesArgs) return p.effect === 'deny' ? 'false' : 'true';
  try {
    return compiled.evaluate(ctx) ? 'true' : 'false';
  } catch {
    return 'error';
  }
}

function describe(r: AccessResource): string {
  switch (r.kind) {
    case 'platform':
      return 'the platform';
    case 'tenant':
      return `tenant ${r.tenant}`;
    case 'server':
      return `server ${r.server}`;
    case 'tool':
      return `tool ${r.server}/${r.tool}`;
    default: {
      const _: never = r;
      return _;
    }
  }
}
