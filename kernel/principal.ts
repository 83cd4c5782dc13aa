/**
 * Who is asking, as every layer sees it once the edge has authenticated a request. The gateway's
 * credential resolver makes one from an API key or an OIDC bearer token; use cases take it and ask
 * the access domain's `decide` whether it may act; its id becomes the `actor` of every event it
 * causes, its tenant and credential travel in the event metadata beside it.
 */

/** Permissions, from narrow to wide: manage ⊇ write ⊇ read, execute ⊇ read. */
export const PERMISSIONS = ['mcp:read', 'mcp:execute', 'mcp:write', 'mcp:manage'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Roles a principal holds on its own tenant. `admin` is the platform administrator: every
 * permission on every tenant, and the only role that may create tenants.
 */
export const ROLES = ['reader', 'executor', 'writer', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A tenant (team) id: lower-case, URL-safe. */
export const TENANT_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** The tenant of everything recorded before tenants existed, and of the first start's admin. */
export const DEFAULT_TENANT = 'default';

/** How the caller proved who it is. */
export type Credential =
  | { type: 'api-key'; keyId: string }
  | { type: 'oidc'; issuer: string; subject: string; tokenId?: string | undefined }
  /** SWITCHYARD_AUTH=off on loopback: the development principal. */
  | { type: 'dev' }
  /** Switchyard's own components (sagas, recovery, discovery). */
  | { type: 'system' };

export interface Principal {
  /** uuid for users and service accounts; `system:<component>` for Switchyard itself. */
  id: string;
  tenant: string;
  /** Display name (a user's email or name, a service account's name). */
  name: string;
  kind: 'user' | 'service' | 'system';
  roles: readonly Role[];
  /**
   * What the credential allows at most (an API key's scopes, a token's `scope`): effective rights
   * are the grants intersected with these. Undefined: the credential does not narrow.
   */
  scopes: readonly Permission[] | undefined;
  credential: Credential;
  /** Token claims (OIDC), for policy conditions; empty for API keys. */
  claims: Readonly<Record<string, unknown>>;
}

/** One line naming a credential in event metadata and logs: never a secret, only an id. */
export function credentialLabel(c: Credential): string {
  switch (c.type) {
    case 'api-key':
      return `api-key:${c.keyId}`;
    case 'oidc':
      return `oidc:${c.issuer}#${c.tokenId ?? c.subject}`;
    case 'dev':
      return 'dev';
    case 'system':
      return 'system';
    default: {
      const _: never = c;
      return String(_);
    }
  }
}

/** Switchyard acting on its own (a saga, recovery): every permission, on every tenant. */
export function systemPrincipal(component: string, tenant = DEFAULT_TENANT): Principal {
  return {
    id: `system:${component}`,
    tenant,
    name: `system:${component}`,
    kind: 'system',
    roles: ['admin'],
    scopes: undefined,
    credential: { type: 'system' },
    claims: {},
  };
}
