import { newApiKey, parseApiKey } from '../../kernel/api-keys.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { uuidV5 } from '../../kernel/ids.ts';
import { type Permission, type Principal, ROLES } from '../../kernel/principal.ts';
import { parseWith } from '../../kernel/validation.ts';
import {
  CreatePrincipalInput,
  CreateTenantInput,
  IssueApiKeyInput,
  UpdatePrincipalInput,
} from './commands.ts';
import { apiKeyNotFound, apiKeyRevoked, invalidAccessInput } from './errors.ts';
import { implies } from './permissions.ts';
import {
  type AccessServiceDeps,
  type AccessWriteResult,
  hiddenAs,
  invalid,
  subMeta,
  targetTenant,
  visiblePrincipal,
  written,
} from './service-deps.ts';
import type { ApiKeyRecord, PrincipalRecord } from './state.ts';

/** An API key as the API shows it: never the key, never its hash. */
export interface ApiKeyView {
  keyId: string;
  name: string;
  principalId: string;
  tenant: string;
  scopes: Permission[] | null;
  last4: string;
  expiresAt: string | null;
  issuedAt: string;
  revokedAt: string | null;
  rotatedFrom: string | null;
  replacedBy: string | null;
}

export function apiKeyView(k: ApiKeyRecord): ApiKeyView {
  return {
    keyId: k.keyId,
    name: k.name,
    principalId: k.principalId,
    tenant: k.tenant,
    scopes: k.scopes,
    last4: k.last4,
    expiresAt: k.expiresAt,
    issuedAt: k.issuedAt,
    revokedAt: k.revokedAt,
    rotatedFrom: k.rotatedFrom ?? null,
    replacedBy: k.replacedBy ?? null,
  };
}

export interface IssuedKey extends AccessWriteResult {
  /** The whole key: shown once, in this answer only. */
  key: string;
  view: ApiKeyView;
}

const parse = <S extends Parameters<typeof parseWith>[0]>(schema: S, input: unknown) =>
  parseWith(schema, input, invalidAccessInput);

/** Tenants, principals and API keys: the identity half of the access use cases. */
export function makeIdentityService(deps: AccessServiceDeps) {
  const { authz } = deps;
  const now = () => deps.clock.now().toISOString();

  function keyRecord(
    caller: Principal,
    keyId: string,
    action: 'apikey.read' | 'apikey.manage',
  ): ApiKeyRecord {
    const k = authz.state().keys.get(keyId);
    if (!k) throw apiKeyNotFound(keyId);
    authz.require(
      caller,
      action,
      { kind: 'tenant', tenant: k.tenant, owner: k.principalId },
      hiddenAs(() => apiKeyNotFound(keyId)),
    );
    return k;
  }

  /** A credential narrowed by scopes can only make keys narrowed at least as much. */
  function scopesFor(caller: Principal, requested: Permission[] | undefined): Permission[] | null {
    if (caller.scopes === undefined) return requested ?? null;
    const scopes = requested ?? [...caller.scopes];
    const beyond = scopes.filter((s) => !caller.scopes!.some((c) => implies(c, s)));
    if (beyond.length > 0)
      throw invalid(`a key made with this credential cannot have scopes beyond it: ${beyond.join(' ')}`);
    return scopes;
  }

  async function issue(
    owner: PrincipalRecord,
    fields: { name: string; scopes: Permission[] | null; expiresAt: string | null; rotatedFrom?: string },
    meta: CommandMeta,
  ): Promise<IssuedKey> {
    const fresh = newApiKey();
    const parsed = parseApiKey(fresh.key)!;
    const data = {
      keyId: fresh.keyId,
      principalId: owner.id,
      tenant: owner.tenant,
      name: fields.name,
      scopes: fields.scopes,
      hash: deps.hasher.hash(parsed),
      last4: fresh.last4,
      expiresAt: fields.expiresAt,
      ...(fields.rotatedFrom !== undefined && { rotatedFrom: fields.rotatedFrom }),
      issuedAt: now(),
    };
    const r = await deps.commands.issueKey(data, meta);
    const w = await written(deps, fresh.keyId, r);
    return {
      ...w,
      key: fresh.key,
      view: apiKeyView({ ...data, revokedAt: null, rotatedFrom: fields.rotatedFrom, replacedBy: undefined }),
    };
  }

  return {
    /** Who the caller is and what it may do on its own tenant. */
    me(caller: Principal) {
      authz.require(caller, 'me.read', { kind: 'tenant', tenant: caller.tenant });
      const state = authz.state();
      const can = (permission: Permission) =>
        authz.decide(caller, permissionProbe[permission], { kind: 'tenant', tenant: caller.tenant })
          .effect === 'allow';
      return {
        id: caller.id,
        name: caller.name,
        kind: caller.kind,
        tenant: caller.tenant,
        roles: [...caller.roles],
        scopes: caller.scopes ? [...caller.scopes] : null,
        credential: caller.credential,
        permissions: (['mcp:read', 'mcp:execute', 'mcp:write', 'mcp:manage'] as const).filter(can),
        policyVersion: state.version.toString(),
      };
    },

    listTenants(caller: Principal) {
      authz.require(caller, 'tenant.list', { kind: 'tenant', tenant: caller.tenant });
      const all = [...authz.state().tenants.values()];
      return caller.roles.includes('admin') ? all : all.filter((t) => t.tenantId === caller.tenant);
    },

    async createTenant(caller: Principal, input: unknown, meta: CommandMeta): Promise<AccessWriteResult> {
      authz.require(caller, 'tenant.create', { kind: 'platform' });
      const { id, name } = parse(CreateTenantInput, input);
      const r = await deps.commands.createTenant({ tenantId: id, name, createdAt: now() }, meta);
      return written(deps, id, r);
    },

    listPrincipals(caller: Principal, tenant?: string) {
      const t = targetTenant(deps, caller, tenant);
      authz.require(caller, 'principal.read', { kind: 'tenant', tenant: t });
      return [...authz.state().principals.values()].filter((p) => p.tenant === t);
    },

    getPrincipal(caller: Principal, id: string): PrincipalRecord {
      const p = visiblePrincipal(deps, caller, id);
      if (p.id !== caller.id) authz.require(caller, 'principal.read', { kind: 'tenant', tenant: p.tenant });
      return p;
    },

    async createPrincipal(caller: Principal, input: unknown, meta: CommandMeta): Promise<AccessWriteResult> {
      const v = parse(CreatePrincipalInput, input);
      const tenant = targetTenant(deps, caller, v.tenant);
      authz.require(caller, 'principal.manage', { kind: 'tenant', tenant });
      assertMayAssign(caller, v.roles);
      const principalId = uuidV5(`principal/${meta.commandId}`);
      const r = await deps.commands.principal(
        {
          type: 'CreatePrincipal',
          data: {
            principalId,
            tenant,
            name: v.name,
            kind: v.kind,
            roles: v.roles,
            source: { type: 'local' },
            createdAt: now(),
          },
        },
        meta,
      );
      return written(deps, principalId, r);
    },

    async updatePrincipal(
      caller: Principal,
      id: string,
      input: unknown,
      meta: CommandMeta,
    ): Promise<AccessWriteResult> {
      const p = visiblePrincipal(deps, caller, id);
      authz.require(caller, 'principal.manage', { kind: 'tenant', tenant: p.tenant });
      const v = parse(UpdatePrincipalInput, input);
      if (v.roles) {
        assertMayAssign(caller, v.roles);
        // Taking admin away is an administrator's act too.
        if (p.roles.includes('admin') && !v.roles.includes('admin')) assertMayAssign(caller, ['admin']);
      }
      let last: AccessWriteResult | undefined;
      if (v.roles) {
        const r = await deps.commands.principal(
          { type: 'ChangeRoles', data: { principalId: id, roles: v.roles, at: now() } },
          subMeta(meta, 'roles'),
        );
        last = await written(deps, id, r);
      }
      if (v.disabled !== undefined) {
        const command = v.disabled
          ? ({ type: 'DisablePrincipal', data: { principalId: id, at: now() } } as const)
          : ({ type: 'EnablePrincipal', data: { principalId: id, at: now() } } as const);
        last = await written(deps, id, await deps.commands.principal(command, subMeta(meta, 'status')));
      }
      return last!;
    },

    /** The keys the caller may read (its own; a manager's tenant's; an administrator's all), of one principal or all. */
    listKeys(caller: Principal, principalId?: string): ApiKeyView[] {
      const readable = (k: ApiKeyRecord) =>
        authz.decide(caller, 'apikey.read', { kind: 'tenant', tenant: k.tenant, owner: k.principalId })
          .effect === 'allow';
      return [...authz.state().keys.values()]
        .filter((k) => (principalId === undefined || k.principalId === principalId) && readable(k))
        .map(apiKeyView);
    },

    async issueKey(caller: Principal, input: unknown, meta: CommandMeta): Promise<IssuedKey> {
      const v = parse(IssueApiKeyInput, input);
      const owner = visiblePrincipal(deps, caller, v.principalId ?? caller.id);
      authz.require(caller, 'apikey.manage', { kind: 'tenant', tenant: owner.tenant, owner: owner.id });
      const expiresAt =
        v.expiresAt ??
        (v.expiresInDays !== undefined
          ? new Date(deps.clock.now().getTime() + v.expiresInDays * 86_400_000).toISOString()
          : null);
      if (expiresAt !== null && new Date(expiresAt) <= deps.clock.now())
        throw invalid('expiresAt is in the past');
      return issue(owner, { name: v.name, scopes: scopesFor(caller, v.scopes), expiresAt }, meta);
    },

    /** A new key with the same name, principal, scopes and expiry; the old one revoked by the same request. */
    async rotateKey(caller: Principal, keyId: string, meta: CommandMeta): Promise<IssuedKey> {
      const old = keyRecord(caller, keyId, 'apikey.manage');
      if (old.revokedAt !== null) throw apiKeyRevoked(keyId);
      const owner = visiblePrincipal(deps, caller, old.principalId);
      const issued = await issue(
        owner,
        {
          name: old.name,
          scopes: old.scopes ?? scopesFor(caller, undefined),
          expiresAt: old.expiresAt,
          rotatedFrom: keyId,
        },
        subMeta(meta, 'issue'),
      );
      const r = await deps.commands.revokeKey(
        { keyId, reason: 'rotated', replacedBy: issued.id, at: now() },
        subMeta(meta, 'revoke'),
      );
      await written(deps, keyId, r);
      return issued;
    },

    async revokeKey(caller: Principal, keyId: string, meta: CommandMeta): Promise<AccessWriteResult> {
      keyRecord(caller, keyId, 'apikey.manage');
      const r = await deps.commands.revokeKey({ keyId, reason: 'revoked', at: now() }, meta);
      return written(deps, keyId, r);
    },
  };
}

export type IdentityService = ReturnType<typeof makeIdentityService>;

/** An action needing exactly each permission on the tenant, to report what the caller holds. */
const permissionProbe = {
  'mcp:read': 'toolcall.read',
  'mcp:execute': 'tool.call',
  'mcp:write': 'project.generate',
  'mcp:manage': 'principal.manage',
} as const;

/** Roles above one's own cannot be handed out: only an administrator makes administrators. */
function assertMayAssign(caller: Principal, roles: readonly string[]): void {
  if (roles.includes('admin') && !caller.roles.includes('admin')) {
    throw invalid(`only an administrator can assign the admin role (roles: ${ROLES.join(', ')})`);
  }
}
