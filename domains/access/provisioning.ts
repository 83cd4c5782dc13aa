import type { ApiKeyHasher, ParsedApiKey } from '../../kernel/api-keys.ts';
import { apiKeyHint } from '../../kernel/api-keys.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { uuidV5 } from '../../kernel/ids.ts';
import { DEFAULT_TENANT, type Role } from '../../kernel/principal.ts';
import type { AccessCommands } from './handlers.ts';
import type { AccessState } from './state.ts';

/**
 * What Switchyard records about people on its own: the first start's administrator, and users of an
 * OpenID provider the first time one of their tokens is seen. Ids and command ids are derived from
 * what they are about, so several gateways doing the same thing at once append it once.
 */

export const BOOTSTRAP_ADMIN_ID = uuidV5('switchyard/bootstrap/admin');

/** The principal id of an OIDC subject: the same on every gateway, for ever. */
export function oidcPrincipalId(issuer: string, subject: string): string {
  return uuidV5(`oidc\n${issuer}\n${subject}`);
}

export interface BootstrapDeps {
  commands: AccessCommands;
  hasher: ApiKeyHasher;
  now: () => Date;
  meta: (purpose: string) => CommandMeta;
}

/**
 * Makes sure the default tenant and an administrator exist, and that `key` (when given) is one of
 * the administrator's keys. Returns whether a key was issued now (so the caller writes it down).
 */
export async function ensureBootstrapAdmin(
  deps: BootstrapDeps,
  state: AccessState,
  key: ParsedApiKey | undefined,
): Promise<{ issued: boolean }> {
  const at = deps.now().toISOString();
  if (!state.tenants.has(DEFAULT_TENANT)) {
    await deps.commands
      .createTenant({ tenantId: DEFAULT_TENANT, name: 'Default', createdAt: at }, deps.meta('tenant'))
      .catch(ignoreConflict);
  }
  if (!state.principals.has(BOOTSTRAP_ADMIN_ID)) {
    await deps.commands
      .principal(
        {
          type: 'CreatePrincipal',
          data: {
            principalId: BOOTSTRAP_ADMIN_ID,
            tenant: DEFAULT_TENANT,
            name: 'admin',
            kind: 'service',
            roles: ['admin'],
            source: { type: 'local' },
            createdAt: at,
          },
        },
        deps.meta('admin'),
      )
      .catch(ignoreConflict);
  }
  if (!key || state.keys.has(key.keyId)) return { issued: false };
  const r = await deps.commands
    .issueKey(
      {
        keyId: key.keyId,
        principalId: BOOTSTRAP_ADMIN_ID,
        tenant: DEFAULT_TENANT,
        name: 'bootstrap admin key',
        scopes: null,
        hash: deps.hasher.hash(key),
        last4: apiKeyHint(key),
        expiresAt: null,
        issuedAt: at,
      },
      deps.meta(`key/${key.keyId}`),
    )
    .catch((e: unknown) => {
      ignoreConflict(e);
      return undefined;
    });
  return { issued: r !== undefined && !r.duplicate };
}

export interface OidcIdentity {
  issuer: string;
  subject: string;
  name: string;
  tenant: string;
  /** Roles recorded with the principal; roles from claims are mapped per token, not recorded. */
  roles?: Role[];
}

/** Records a first-time OIDC user (just-in-time provisioning); a no-op when already known. */
export async function provisionOidcPrincipal(
  deps: Pick<BootstrapDeps, 'commands' | 'now'>,
  identity: OidcIdentity,
  meta: CommandMeta,
): Promise<{ principalId: string; position: bigint | undefined }> {
  const principalId = oidcPrincipalId(identity.issuer, identity.subject);
  const r = await deps.commands
    .principal(
      {
        type: 'CreatePrincipal',
        data: {
          principalId,
          tenant: identity.tenant,
          name: identity.name,
          kind: 'user',
          roles: identity.roles ?? [],
          source: { type: 'oidc', issuer: identity.issuer, subject: identity.subject },
          createdAt: deps.now().toISOString(),
        },
      },
      meta,
    )
    .catch((e: unknown) => {
      ignoreConflict(e);
      return undefined;
    });
  return { principalId, position: r?.position };
}

/** Another gateway got there first: what we wanted exists. */
function ignoreConflict(e: unknown): void {
  if ((e as { kind?: string }).kind === 'conflict') return;
  throw e;
}
