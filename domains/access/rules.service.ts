import type { CommandMeta } from '../../kernel/decider.ts';
import { uuidV5 } from '../../kernel/ids.ts';
import type { Principal } from '../../kernel/principal.ts';
import { parseWith } from '../../kernel/validation.ts';
import { type Action, isAction } from './actions.ts';
import { AddGrantInput, ExplainInput, SetPolicyInput, SetRateLimitInput } from './commands.ts';
import { compileCondition } from './conditions.ts';
import { type AccessResource, type Decision, decide } from './decide.ts';
import {
  grantNotFound,
  invalidAccessInput,
  invalidCondition,
  policyNotFound,
  principalNotFound,
  rateLimitNotFound,
  tenantNotFound,
} from './errors.ts';
import {
  type AccessServiceDeps,
  type AccessWriteResult,
  invalid,
  targetTenant,
  written,
} from './service-deps.ts';
import type { GrantRecord, PolicyRecord, RateLimitRecord } from './state.ts';

const parse = <S extends Parameters<typeof parseWith>[0]>(schema: S, input: unknown) =>
  parseWith(schema, input, invalidAccessInput);

/** Grants, policies, rate limits and explain: the rules half of the access use cases. */
export function makeRulesService(deps: AccessServiceDeps) {
  const { authz } = deps;
  const now = () => deps.clock.now().toISOString();
  const isAdmin = (p: Principal) => p.roles.includes('admin');

  /** A rule of another tenant is as unknown as one that never existed. */
  function visibleTo<T extends { tenant: string | null }>(
    caller: Principal,
    rule: T | undefined,
  ): T | undefined {
    if (!rule) return undefined;
    return isAdmin(caller) || rule.tenant === caller.tenant ? rule : undefined;
  }

  function listIn<T extends { tenant: string | null }>(
    caller: Principal,
    rules: Iterable<T>,
    tenant?: string,
  ): T[] {
    const t = targetTenant(deps, caller, tenant);
    return [...rules].filter((r) => r.tenant === t || (r.tenant === null && isAdmin(caller)));
  }

  return {
    listGrants(caller: Principal, tenant?: string): GrantRecord[] {
      authz.require(caller, 'grant.read', { kind: 'tenant', tenant: targetTenant(deps, caller, tenant) });
      return listIn(caller, authz.state().grants.values(), tenant);
    },

    async addGrant(caller: Principal, input: unknown, meta: CommandMeta): Promise<AccessWriteResult> {
      const v = parse(AddGrantInput, input);
      const tenant = targetTenant(deps, caller, v.tenant);
      const state = authz.state();
      if (v.resource.type === 'platform') authz.require(caller, 'tenant.create', { kind: 'platform' });
      else authz.require(caller, 'grant.manage', { kind: 'tenant', tenant });
      if (v.subject.type === 'principal') {
        const p = state.principals.get(v.subject.id);
        if (!p || p.tenant !== tenant) throw principalNotFound(v.subject.id);
      } else if (v.subject.id !== tenant) {
        throw tenantNotFound(v.subject.id);
      }
      const grantId = uuidV5(`grant/${meta.commandId}`);
      const r = await deps.commands.addGrant(
        {
          grantId,
          tenant,
          subject: v.subject,
          permission: v.permission,
          resource: v.resource,
          addedAt: now(),
        },
        meta,
      );
      return written(deps, grantId, r);
    },

    async removeGrant(caller: Principal, grantId: string, meta: CommandMeta): Promise<AccessWriteResult> {
      const g = visibleTo(caller, authz.state().grants.get(grantId));
      if (!g) throw grantNotFound(grantId);
      authz.require(caller, 'grant.manage', { kind: 'tenant', tenant: g.tenant });
      return written(deps, grantId, await deps.commands.removeGrant({ grantId, at: now() }, meta));
    },

    listPolicies(caller: Principal, tenant?: string): PolicyRecord[] {
      authz.require(caller, 'policy.read', { kind: 'tenant', tenant: targetTenant(deps, caller, tenant) });
      return listIn(caller, authz.state().policies.values(), tenant);
    },

    /** Creates a policy, or (with `policyId`) replaces one: its new version applies from now on. */
    async setPolicy(
      caller: Principal,
      input: unknown,
      meta: CommandMeta,
      policyId?: string,
    ): Promise<AccessWriteResult> {
      const v = parse(SetPolicyInput, input);
      const existing =
        policyId === undefined ? undefined : visibleTo(caller, authz.state().policies.get(policyId));
      if (policyId !== undefined && !existing) throw policyNotFound(policyId);
      const tenant = existing?.tenant ?? targetTenant(deps, caller, v.tenant);
      authz.require(caller, 'policy.manage', { kind: 'tenant', tenant });
      for (const pattern of v.target.actions) {
        if (pattern !== '*' && !pattern.endsWith('.*') && !isAction(pattern))
          throw invalid(`unknown action ${pattern}`);
      }
      if (v.condition !== undefined) {
        const c = compileCondition(v.condition);
        if (!c.ok) throw invalidCondition(c.error);
      }
      const id = policyId ?? uuidV5(`policy/${meta.commandId}`);
      const r = await deps.commands.setPolicy(
        {
          policyId: id,
          tenant,
          name: v.name,
          ...(v.description !== undefined && { description: v.description }),
          effect: v.effect,
          target: v.target,
          ...(v.condition !== undefined && { condition: v.condition }),
          setAt: now(),
        },
        meta,
      );
      return written(deps, id, r);
    },

    async removePolicy(caller: Principal, policyId: string, meta: CommandMeta): Promise<AccessWriteResult> {
      const p = visibleTo(caller, authz.state().policies.get(policyId));
      if (!p) throw policyNotFound(policyId);
      authz.require(caller, 'policy.manage', { kind: 'tenant', tenant: p.tenant });
      return written(deps, policyId, await deps.commands.removePolicy({ policyId, at: now() }, meta));
    },

    listRateLimits(caller: Principal, tenant?: string): RateLimitRecord[] {
      authz.require(caller, 'ratelimit.read', { kind: 'tenant', tenant: targetTenant(deps, caller, tenant) });
      const t = targetTenant(deps, caller, tenant);
      // Global limits apply to everyone, so everyone who may read limits sees them.
      return [...authz.state().rateLimits.values()].filter((r) => r.tenant === t || r.tenant === null);
    },

    async setRateLimit(caller: Principal, input: unknown, meta: CommandMeta): Promise<AccessWriteResult> {
      const v = parse(SetRateLimitInput, input);
      const global = v.scope === 'address' || v.tenant === null;
      const tenant = global ? null : targetTenant(deps, caller, v.tenant ?? undefined);
      if (tenant === null) authz.require(caller, 'tenant.create', { kind: 'platform' });
      else authz.require(caller, 'ratelimit.manage', { kind: 'tenant', tenant });
      if (v.match.principal !== undefined) {
        const p = authz.state().principals.get(v.match.principal);
        if (!p || (tenant !== null && p.tenant !== tenant)) throw principalNotFound(v.match.principal);
      }
      const rateLimitId = uuidV5(`ratelimit/${meta.commandId}`);
      const r = await deps.commands.setRateLimit(
        {
          rateLimitId,
          tenant,
          name: v.name,
          scope: v.scope,
          points: v.points,
          windowSeconds: v.windowSeconds,
          match: v.match ?? {},
          setAt: now(),
        },
        meta,
      );
      return written(deps, rateLimitId, r);
    },

    async removeRateLimit(
      caller: Principal,
      rateLimitId: string,
      meta: CommandMeta,
    ): Promise<AccessWriteResult> {
      const rl = visibleTo(caller, authz.state().rateLimits.get(rateLimitId));
      if (!rl) throw rateLimitNotFound(rateLimitId);
      if (rl.tenant === null) authz.require(caller, 'tenant.create', { kind: 'platform' });
      else authz.require(caller, 'ratelimit.manage', { kind: 'tenant', tenant: rl.tenant });
      return written(
        deps,
        rateLimitId,
        await deps.commands.removeRateLimit({ rateLimitId, at: now() }, meta),
      );
    },

    /**
     * Why a principal may or may not do something — now, or as of `at` (the rules folded from the
     * log up to that instant). About oneself anyone may ask; about others, a manager of their tenant.
     */
    async explain(
      caller: Principal,
      input: unknown,
      serverOf: (name: string) => Promise<{ tenant: string; owner?: string } | undefined>,
    ) {
      const v = parse(ExplainInput, input);
      if (!isAction(v.action)) throw invalid(`unknown action ${v.action}`);
      const action: Action = v.action;
      const subjectId = v.principal ?? caller.id;
      const state = v.at ? await deps.stateAt(new Date(v.at)) : authz.state();
      let subject: Principal = caller;
      if (subjectId !== caller.id) {
        const p = authz.state().principals.get(subjectId);
        if (!p || (p.tenant !== caller.tenant && !isAdmin(caller))) throw principalNotFound(subjectId);
        authz.require(caller, 'authz.explain', { kind: 'tenant', tenant: p.tenant });
        subject = {
          id: p.id,
          tenant: p.tenant,
          name: p.name,
          kind: p.kind,
          roles: p.roles,
          scopes: undefined,
          credential: { type: 'system' },
          claims: {},
        };
      }
      // As of `at`, the principal had the roles recorded then (none if it did not exist or was disabled).
      if (v.at) {
        const then = state.principals.get(subject.id);
        subject = { ...subject, roles: then && !then.disabled ? then.roles : [], scopes: undefined };
      }
      const resource = await resourceFor(subject, action, v.server, v.tool, serverOf);
      const decision: Decision = decide(state, subject, action, resource, {
        args: v.args ?? {},
        phase: 'call',
      });
      return { principal: subject.id, action, resource, at: v.at ?? null, ...decision };
    },
  };
}

async function resourceFor(
  subject: Principal,
  action: Action,
  server: string | undefined,
  tool: string | undefined,
  serverOf: (name: string) => Promise<{ tenant: string; owner?: string } | undefined>,
): Promise<AccessResource> {
  if (
    action === 'metrics.read' ||
    action.startsWith('projection.') ||
    action === 'tenant.create' ||
    action === 'bus.read' ||
    action === 'system.read'
  )
    return { kind: 'platform' };
  if (server === undefined) return { kind: 'tenant', tenant: subject.tenant };
  const s = await serverOf(server);
  const tenant = s?.tenant ?? subject.tenant;
  const owner = s?.owner;
  if (tool !== undefined) return { kind: 'tool', tenant, server, tool, owner };
  return { kind: 'server', tenant, server, owner };
}

export type RulesService = ReturnType<typeof makeRulesService>;
