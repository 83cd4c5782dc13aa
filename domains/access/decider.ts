import type { Decider } from '../../kernel/decider.ts';
import {
  apiKeyExists,
  apiKeyNotFound,
  grantNotFound,
  policyNotFound,
  principalErased,
  principalExists,
  principalNotFound,
  rateLimitNotFound,
  tenantExists,
} from './errors.ts';
import type {
  ApiKeyEvent,
  ApiKeyIssued,
  AuthorizationDenied,
  GrantAdded,
  GrantEvent,
  PolicyEvent,
  PolicySet,
  PrincipalCreated,
  PrincipalEvent,
  RateLimitEvent,
  RateLimitSet,
  TenantCreated,
} from './events.ts';

/**
 * One decider per kind of access stream. Each keeps the invariants of its own stream (a key is
 * issued once and revoked once, a removed grant stays removed); what spans streams — a key's
 * principal exists, a grant's tenant exists — the use cases check against the access state.
 */

type Cmd<T extends string, D> = { type: T; data: D };

// --- tenants -------------------------------------------------------------------------------------
export type CreateTenant = Cmd<'CreateTenant', TenantCreated['data']>;
export type TenantState = { status: 'absent' } | { status: 'created' };

export const tenantDecider: Decider<CreateTenant, TenantCreated, TenantState> = {
  initialState: { status: 'absent' },
  decide(command, state) {
    if (state.status === 'created') throw tenantExists(command.data.tenantId);
    return [{ type: 'TenantCreated', data: command.data }];
  },
  evolve: () => ({ status: 'created' }),
};

// --- principals ----------------------------------------------------------------------------------
export type PrincipalCommand =
  | Cmd<'CreatePrincipal', PrincipalCreated['data']>
  | Cmd<'ChangeRoles', { principalId: string; roles: PrincipalCreated['data']['roles']; at: string }>
  | Cmd<'DisablePrincipal', { principalId: string; reason?: string | undefined; at: string }>
  | Cmd<'EnablePrincipal', { principalId: string; at: string }>
  | Cmd<'ErasePrincipal', { principalId: string; keysDestroyed: number; at: string }>;
export type PrincipalState =
  | { status: 'absent' }
  | { status: 'active' | 'disabled' | 'erased'; roles: PrincipalCreated['data']['roles'] };

export const principalDecider: Decider<PrincipalCommand, PrincipalEvent, PrincipalState> = {
  initialState: { status: 'absent' },
  decide(command, state) {
    if (command.type === 'CreatePrincipal') {
      if (state.status !== 'absent') throw principalExists(command.data.principalId);
      return [{ type: 'PrincipalCreated', data: command.data }];
    }
    if (state.status === 'absent') throw principalNotFound(command.data.principalId);
    const principalId = command.data.principalId;
    switch (command.type) {
      case 'ChangeRoles':
        if (sameSet(state.roles, command.data.roles)) return [];
        return [
          {
            type: 'PrincipalRolesChanged',
            data: { principalId, roles: command.data.roles, changedAt: command.data.at },
          },
        ];
      case 'DisablePrincipal':
        if (state.status !== 'active') return [];
        return [
          {
            type: 'PrincipalDisabled',
            data: {
              principalId,
              ...(command.data.reason !== undefined && { reason: command.data.reason }),
              disabledAt: command.data.at,
            },
          },
        ];
      case 'EnablePrincipal':
        if (state.status === 'active') return [];
        if (state.status === 'erased') throw principalErased(principalId);
        return [{ type: 'PrincipalEnabled', data: { principalId, enabledAt: command.data.at } }];
      case 'ErasePrincipal':
        // Recorded every time it is asked for, erased before or not: each request is an act to audit.
        return [
          {
            type: 'PrincipalErased',
            data: { principalId, keysDestroyed: command.data.keysDestroyed, erasedAt: command.data.at },
          },
        ];
      default: {
        const _: never = command;
        return _;
      }
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'PrincipalCreated':
        return { status: 'active', roles: event.data.roles };
      case 'PrincipalRolesChanged':
        return state.status === 'absent' ? state : { ...state, roles: event.data.roles };
      case 'PrincipalDisabled':
        return state.status === 'absent' || state.status === 'erased'
          ? state
          : { ...state, status: 'disabled' };
      case 'PrincipalEnabled':
        return state.status === 'absent' || state.status === 'erased'
          ? state
          : { ...state, status: 'active' };
      case 'PrincipalErased':
        return state.status === 'absent' ? state : { ...state, status: 'erased' };
      default: {
        const _: never = event;
        return state;
      }
    }
  },
};

// --- API keys ------------------------------------------------------------------------------------
export type ApiKeyCommand =
  | Cmd<'IssueApiKey', ApiKeyIssued['data']>
  | Cmd<
      'RevokeApiKey',
      { keyId: string; reason?: string | undefined; replacedBy?: string | undefined; at: string }
    >;
export type ApiKeyState = { status: 'absent' } | { status: 'active' | 'revoked' };

export const apiKeyDecider: Decider<ApiKeyCommand, ApiKeyEvent, ApiKeyState> = {
  initialState: { status: 'absent' },
  decide(command, state) {
    if (command.type === 'IssueApiKey') {
      // A key id is 16 random characters: a collision means a retried command, which the command
      // id already answers; anything else is refused rather than overwriting a key.
      if (state.status !== 'absent') throw apiKeyExists(command.data.keyId);
      return [{ type: 'ApiKeyIssued', data: command.data }];
    }
    if (state.status === 'absent') throw apiKeyNotFound(command.data.keyId);
    if (state.status === 'revoked') return [];
    const { keyId, reason, replacedBy, at } = command.data;
    return [
      {
        type: 'ApiKeyRevoked',
        data: {
          keyId,
          ...(reason !== undefined && { reason }),
          ...(replacedBy !== undefined && { replacedBy }),
          revokedAt: at,
        },
      },
    ];
  },
  evolve: (_state, event) => ({ status: event.type === 'ApiKeyIssued' ? 'active' : 'revoked' }),
};

// --- grants, policies, rate limits: set, maybe replace, remove -----------------------------------
export type GrantCommand =
  | Cmd<'AddGrant', GrantAdded['data']>
  | Cmd<'RemoveGrant', { grantId: string; at: string }>;
export type LifecycleState = { status: 'absent' } | { status: 'present' } | { status: 'removed' };

export const grantDecider: Decider<GrantCommand, GrantEvent, LifecycleState> = {
  initialState: { status: 'absent' },
  decide(command, state) {
    if (command.type === 'AddGrant') {
      if (state.status !== 'absent') return [];
      return [{ type: 'GrantAdded', data: command.data }];
    }
    if (state.status === 'absent') throw grantNotFound(command.data.grantId);
    if (state.status === 'removed') return [];
    return [{ type: 'GrantRemoved', data: { grantId: command.data.grantId, removedAt: command.data.at } }];
  },
  evolve: (_state, event) => ({ status: event.type === 'GrantAdded' ? 'present' : 'removed' }),
};

export type PolicyCommand =
  | Cmd<'SetPolicy', PolicySet['data']>
  | Cmd<'RemovePolicy', { policyId: string; at: string }>;

/** A policy may be replaced while it exists (a new version of its rule); removed is final. */
export const policyDecider: Decider<PolicyCommand, PolicyEvent, LifecycleState> = {
  initialState: { status: 'absent' },
  decide(command, state) {
    if (command.type === 'SetPolicy') {
      if (state.status === 'removed') throw policyNotFound(command.data.policyId);
      return [{ type: 'PolicySet', data: command.data }];
    }
    if (state.status === 'absent') throw policyNotFound(command.data.policyId);
    if (state.status === 'removed') return [];
    return [{ type: 'PolicyRemoved', data: { policyId: command.data.policyId, removedAt: command.data.at } }];
  },
  evolve: (_state, event) => ({ status: event.type === 'PolicySet' ? 'present' : 'removed' }),
};

export type RateLimitCommand =
  | Cmd<'SetRateLimit', RateLimitSet['data']>
  | Cmd<'RemoveRateLimit', { rateLimitId: string; at: string }>;

export const rateLimitDecider: Decider<RateLimitCommand, RateLimitEvent, LifecycleState> = {
  initialState: { status: 'absent' },
  decide(command, state) {
    if (command.type === 'SetRateLimit') {
      if (state.status === 'removed') throw rateLimitNotFound(command.data.rateLimitId);
      return [{ type: 'RateLimitSet', data: command.data }];
    }
    if (state.status === 'absent') throw rateLimitNotFound(command.data.rateLimitId);
    if (state.status === 'removed') return [];
    return [
      {
        type: 'RateLimitRemoved',
        data: { rateLimitId: command.data.rateLimitId, removedAt: command.data.at },
      },
    ];
  },
  evolve: (_state, event) => ({ status: event.type === 'RateLimitSet' ? 'present' : 'removed' }),
};

// --- denials -------------------------------------------------------------------------------------
export type RecordDenial = Cmd<'RecordDenial', AuthorizationDenied['data']>;

/** A denial is a fact recorded once, on a stream of its own. */
export const denialDecider: Decider<RecordDenial, AuthorizationDenied, { status: 'absent' | 'recorded' }> = {
  initialState: { status: 'absent' },
  decide: (command, state) =>
    state.status === 'absent' ? [{ type: 'AuthorizationDenied', data: command.data }] : [],
  evolve: () => ({ status: 'recorded' }),
};

function sameSet<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
