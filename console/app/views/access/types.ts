import { holds, useSession } from '../../context.ts';
import { useResource } from '../../hooks.ts';

/** What the access routes answer (gateway/routes/access.routes.ts), as the console reads it. */

export const PERMISSIONS = ['mcp:read', 'mcp:execute', 'mcp:write', 'mcp:manage'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface Principal {
  id: string;
  tenant: string;
  name: string;
  kind: 'user' | 'service';
  roles: string[];
  disabled: boolean;
  erased?: boolean;
  source: { type: 'local' } | { type: 'oidc'; issuer: string; subject: string };
  createdAt: string;
}

export interface ApiKey {
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

/** POST /api-keys and /api-keys/:keyId/rotate (201): the key view and, this once, the key. */
export interface IssuedKey extends ApiKey {
  key: string;
}

export type GrantSubject = { type: 'principal'; id: string } | { type: 'tenant'; id: string };
export type GrantResource =
  | { type: 'tenant' }
  | { type: 'server'; server: string }
  | { type: 'tool'; server: string; tool: string }
  | { type: 'platform' };

export interface Grant {
  grantId: string;
  tenant: string;
  subject: GrantSubject;
  permission: Permission;
  resource: GrantResource;
  addedAt: string;
}

export interface Policy {
  policyId: string;
  tenant: string;
  name: string;
  description?: string;
  effect: 'allow' | 'deny';
  target: { actions: string[]; server?: string; tool?: string };
  condition?: string;
  setAt: string;
}

export interface RateLimit {
  rateLimitId: string;
  tenant: string | null;
  name: string;
  scope: 'address' | 'principal' | 'principal-tool';
  points: number;
  windowSeconds: number;
  match: { principal?: string; server?: string; tool?: string };
  setAt: string;
}

export interface Explanation {
  principal: string;
  action: string;
  resource: Record<string, unknown>;
  at: string | null;
  effect: 'allow' | 'deny';
  reasons: string[];
  permission?: string;
  policyVersion?: string;
  visible?: boolean;
}

/**
 * The tenant's principals by id, to show names instead of ids — when the caller may list them
 * (mcp:manage); otherwise an empty map and ids are shown.
 */
export function usePrincipals(): { list: Principal[]; nameOf: (id: string) => string } {
  const { me } = useSession();
  const principals = useResource<{ items: Principal[] }>(holds(me, 'mcp:manage') ? '/principals' : null);
  const list = principals.data?.items ?? [];
  const names = new Map(list.map((p) => [p.id, p.name]));
  names.set(me.id, me.name);
  return { list, nameOf: (id) => names.get(id) ?? id };
}

/** The key the console itself is signed in with (GET /me names it), if it is an API key. */
export function ownKeyId(me: unknown): string | undefined {
  const credential = (me as { credential?: { type?: string; keyId?: string } }).credential;
  return credential?.type === 'api-key' ? credential.keyId : undefined;
}
