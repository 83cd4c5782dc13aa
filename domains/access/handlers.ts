import { type CommandResult, handleCommand } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import type { SealedValue } from '../../kernel/personal-data.ts';
import { streamName } from '../../kernel/streams.ts';
import {
  apiKeyDecider,
  denialDecider,
  grantDecider,
  type PrincipalCommand,
  policyDecider,
  principalDecider,
  rateLimitDecider,
  tenantDecider,
} from './decider.ts';
import {
  ACCESS_CATEGORIES,
  type ApiKeyIssued,
  type AuthorizationDenied,
  DENIAL_CATEGORY,
  type GrantAdded,
  type PolicySet,
  type RateLimitSet,
  type TenantCreated,
} from './events.ts';

export interface AccessCommandDeps {
  store: EventStore;
  registry: EventTypeRegistry;
  /**
   * Seals a principal's personal data (its display name) with its data key before it is recorded
   * (PersonalDataVault.seal): erasing the principal makes it unreadable. Without it: in clear.
   */
  seal?: ((principalId: string, value: string) => Promise<SealedValue>) | undefined;
}

export const tenantStream = (id: string) => streamName(ACCESS_CATEGORIES.tenant, id);
export const principalStream = (id: string) => streamName(ACCESS_CATEGORIES.principal, id);
export const apiKeyStream = (keyId: string) => streamName(ACCESS_CATEGORIES.apiKey, keyId);
export const grantStream = (id: string) => streamName(ACCESS_CATEGORIES.grant, id);
export const policyStream = (id: string) => streamName(ACCESS_CATEGORIES.policy, id);
export const rateLimitStream = (id: string) => streamName(ACCESS_CATEGORIES.rateLimit, id);
export const denialStream = (id: string) => streamName(DENIAL_CATEGORY, id);

/** The access streams' commands, each one decider over one stream through the command handler. */
export interface AccessCommands {
  createTenant(data: TenantCreated['data'], meta: CommandMeta): Promise<CommandResult>;
  principal(command: PrincipalCommand, meta: CommandMeta): Promise<CommandResult>;
  issueKey(data: ApiKeyIssued['data'], meta: CommandMeta): Promise<CommandResult>;
  revokeKey(
    data: { keyId: string; reason?: string | undefined; replacedBy?: string | undefined; at: string },
    meta: CommandMeta,
  ): Promise<CommandResult>;
  addGrant(data: GrantAdded['data'], meta: CommandMeta): Promise<CommandResult>;
  removeGrant(data: { grantId: string; at: string }, meta: CommandMeta): Promise<CommandResult>;
  setPolicy(data: PolicySet['data'], meta: CommandMeta): Promise<CommandResult>;
  removePolicy(data: { policyId: string; at: string }, meta: CommandMeta): Promise<CommandResult>;
  setRateLimit(data: RateLimitSet['data'], meta: CommandMeta): Promise<CommandResult>;
  removeRateLimit(data: { rateLimitId: string; at: string }, meta: CommandMeta): Promise<CommandResult>;
  recordDenial(data: AuthorizationDenied['data'], meta: CommandMeta): Promise<CommandResult>;
}

export function makeAccessCommands(deps: AccessCommandDeps): AccessCommands {
  /** A new principal's name sealed with its own key, whoever creates it (a manager, OIDC, bootstrap). */
  async function sealName(command: PrincipalCommand): Promise<PrincipalCommand> {
    if (command.type !== 'CreatePrincipal' || !deps.seal || typeof command.data.name !== 'string')
      return command;
    return {
      ...command,
      data: { ...command.data, name: await deps.seal(command.data.principalId, command.data.name) },
    };
  }
  return {
    createTenant: (data, meta) =>
      handleCommand(deps, tenantDecider, tenantStream(data.tenantId), { type: 'CreateTenant', data }, meta),
    principal: async (command, meta) =>
      handleCommand(
        deps,
        principalDecider,
        principalStream(command.data.principalId),
        await sealName(command),
        meta,
        { assumeNew: command.type === 'CreatePrincipal' },
      ),
    issueKey: (data, meta) =>
      handleCommand(deps, apiKeyDecider, apiKeyStream(data.keyId), { type: 'IssueApiKey', data }, meta, {
        assumeNew: true,
      }),
    revokeKey: (data, meta) =>
      handleCommand(deps, apiKeyDecider, apiKeyStream(data.keyId), { type: 'RevokeApiKey', data }, meta),
    addGrant: (data, meta) =>
      handleCommand(deps, grantDecider, grantStream(data.grantId), { type: 'AddGrant', data }, meta, {
        assumeNew: true,
      }),
    removeGrant: (data, meta) =>
      handleCommand(deps, grantDecider, grantStream(data.grantId), { type: 'RemoveGrant', data }, meta),
    setPolicy: (data, meta) =>
      handleCommand(deps, policyDecider, policyStream(data.policyId), { type: 'SetPolicy', data }, meta),
    removePolicy: (data, meta) =>
      handleCommand(deps, policyDecider, policyStream(data.policyId), { type: 'RemovePolicy', data }, meta),
    setRateLimit: (data, meta) =>
      handleCommand(
        deps,
        rateLimitDecider,
        rateLimitStream(data.rateLimitId),
        { type: 'SetRateLimit', data },
        meta,
      ),
    removeRateLimit: (data, meta) =>
      handleCommand(
        deps,
        rateLimitDecider,
        rateLimitStream(data.rateLimitId),
        { type: 'RemoveRateLimit', data },
        meta,
      ),
    recordDenial: (data, meta) =>
      handleCommand(deps, denialDecider, denialStream(data.denialId), { type: 'RecordDenial', data }, meta, {
        assumeNew: true,
      }),
  };
}
