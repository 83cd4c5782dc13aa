import type { ApiKeyHasher } from '../../kernel/api-keys.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { CommandResult } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import type { AppError } from '../../kernel/errors.ts';
import type { IdGenerator } from '../../kernel/ids.ts';
import { type Principal, TENANT_RE } from '../../kernel/principal.ts';
import type { Authorizer } from './authorize.ts';
import { invalidAccessInput, principalNotFound, tenantNotFound } from './errors.ts';
import type { AccessCommands } from './handlers.ts';
import type { AccessState, PrincipalRecord } from './state.ts';

/** What the access use cases need; the composition root supplies it. */
export interface AccessServiceDeps {
  commands: AccessCommands;
  authz: Authorizer;
  hasher: ApiKeyHasher;
  clock: Clock;
  ids: IdGenerator;
  /** Resolves once this process's access state has applied `position`: a write is effective when answered. */
  caughtUp(position: bigint | undefined): Promise<void>;
  /** The access state as it was at an instant, folded from the log (for explain?at=). */
  stateAt(at: Date): Promise<AccessState>;
}

/** The answer of every access write. */
export interface AccessWriteResult {
  id: string;
  stream: string;
  revision: bigint;
  position: bigint | undefined;
  duplicate: boolean;
}

export async function written(
  deps: AccessServiceDeps,
  id: string,
  r: CommandResult,
): Promise<AccessWriteResult> {
  await deps.caughtUp(r.position);
  return { id, stream: r.stream, revision: r.revision, position: r.position, duplicate: r.duplicate };
}

/**
 * The tenant a request is about: the caller's own unless it names another, which only an
 * administrator may (to anyone else another tenant does not exist).
 */
export function targetTenant(
  deps: AccessServiceDeps,
  principal: Principal,
  requested: string | undefined,
): string {
  const tenant = requested ?? principal.tenant;
  if (tenant === principal.tenant) return tenant;
  if (!principal.roles.includes('admin')) throw tenantNotFound(tenant);
  if (!TENANT_RE.test(tenant) || !deps.authz.state().tenants.has(tenant)) throw tenantNotFound(tenant);
  return tenant;
}

/** A principal the caller may know of: another tenant's exists for an administrator only. */
export function visiblePrincipal(deps: AccessServiceDeps, caller: Principal, id: string): PrincipalRecord {
  const p = deps.authz.state().principals.get(id);
  if (!p || (p.tenant !== caller.tenant && !caller.roles.includes('admin'))) throw principalNotFound(id);
  return p;
}

export const hiddenAs = (error: () => Error) => ({ hidden: error });

export function invalid(message: string): AppError {
  return invalidAccessInput(message, [{ path: '', message }]);
}

/** Derives a sub-command's metadata: its own deterministic id, the same who and why. */
export function subMeta(meta: CommandMeta, purpose: string): CommandMeta {
  return { ...meta, commandId: `${meta.commandId}/${purpose}` };
}
