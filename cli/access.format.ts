import type {
  ApiKeyView,
  GrantRecord,
  GrantResource,
  GrantSubject,
  IdentityService,
} from '../domains/access/index.ts';
import { credentialLabel } from '../kernel/principal.ts';
import { formatTable } from './table.ts';

/**
 * What `switchyard whoami`, `keys …` and `grants …` print for people. Pure functions from the
 * gateway's answers to text; `--json` prints the answers as they came.
 */

/** GET /api/v1/me. */
export type MeView = ReturnType<IdentityService['me']>;
/** POST /api/v1/api-keys and …/rotate: the key's view and, this once, the key itself. */
export type IssuedKeyAnswer = ApiKeyView & { key: string };

/** `2026-01-02T03:04:05.000Z` → `2026-01-02 03:04Z`: minutes are enough in a table. */
export function shortTime(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : iso;
}

const scopesText = (scopes: readonly string[] | null) =>
  scopes === null ? "not narrowed (the principal's rights)" : scopes.join(', ');

/** Label and value, one pair a line, values aligned. */
function fields(pairs: Array<[string, string]>): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${value}`.trimEnd()).join('\n') + '\n';
}

export function formatMe(me: MeView): string {
  return fields([
    ['principal', me.id],
    ['name', `${me.name} (${me.kind})`],
    ['tenant', me.tenant],
    ['roles', me.roles.length > 0 ? me.roles.join(', ') : 'none'],
    ['scopes', scopesText(me.scopes)],
    ['credential', credentialLabel(me.credential)],
    [
      'permissions',
      me.permissions.length > 0 ? `${me.permissions.join(', ')} (on tenant ${me.tenant})` : 'none',
    ],
  ]);
}

/** `keys list`: one row a key; `now` decides which have expired. */
export function formatKeys(keys: readonly ApiKeyView[], now: Date): string {
  if (keys.length === 0) return 'no API keys\n';
  return formatTable(
    ['KEY ID', 'NAME', 'PRINCIPAL', 'SCOPES', 'LAST4', 'EXPIRES', 'REVOKED'],
    keys.map((k) => [
      k.keyId,
      k.name,
      k.principalId,
      k.scopes === null ? '(all)' : k.scopes.join(','),
      k.last4,
      k.expiresAt === null
        ? 'never'
        : `${shortTime(k.expiresAt)}${new Date(k.expiresAt) <= now ? ' (expired)' : ''}`,
      k.revokedAt === null
        ? ''
        : `${shortTime(k.revokedAt)}${k.replacedBy ? ` (rotated to ${k.replacedBy})` : ''}`,
    ]),
  );
}

/**
 * The key itself, for stdout: one line saying it will not be shown again, then the key alone on its
 * line (so `tail -n 1` gets it).
 */
export function formatShownOnce(issued: IssuedKeyAnswer): string {
  return `API key ${issued.keyId} (shown this once: store it now, it cannot be shown again):\n${issued.key}\n`;
}

/** What was made (or what a rotation replaced), for stderr: never the key. */
export function formatKeyDetails(issued: ApiKeyView): string {
  const head =
    issued.rotatedFrom === null
      ? `created API key ${issued.keyId} "${issued.name}"`
      : `rotated API key ${issued.rotatedFrom} to ${issued.keyId} "${issued.name}"; ${issued.rotatedFrom} is revoked`;
  return (
    `${head}\n` +
    fields([
      ['principal', `${issued.principalId} (tenant ${issued.tenant})`],
      ['scopes', scopesText(issued.scopes)],
      ['expires', issued.expiresAt === null ? 'never' : shortTime(issued.expiresAt)],
    ])
  );
}

/** A grant's subject in prose (`to …`). */
export function describeSubject(subject: GrantSubject): string {
  return subject.type === 'principal' ? `principal ${subject.id}` : `everyone in tenant ${subject.id}`;
}

/** A grant's resource in prose (`on …`); the tenant is the caller's when not given. */
export function describeResource(resource: GrantResource, tenant: string | undefined): string {
  switch (resource.type) {
    case 'tenant':
      return tenant === undefined ? 'everything of the tenant' : `everything of tenant ${tenant}`;
    case 'server':
      return `servers ${resource.server}`;
    case 'tool':
      return `tools ${resource.tool} on servers ${resource.server}`;
    case 'platform':
      return 'the platform';
    default: {
      const _: never = resource;
      return String(_);
    }
  }
}

/** A resource in a table cell. */
function resourceCell(resource: GrantResource): string {
  switch (resource.type) {
    case 'tenant':
      return 'tenant';
    case 'server':
      return `server:${resource.server}`;
    case 'tool':
      return `tool:${resource.server}/${resource.tool}`;
    case 'platform':
      return 'platform';
    default: {
      const _: never = resource;
      return String(_);
    }
  }
}

export function formatGrants(grants: readonly GrantRecord[]): string {
  if (grants.length === 0) return 'no grants\n';
  return formatTable(
    ['GRANT ID', 'SUBJECT', 'PERMISSION', 'RESOURCE', 'TENANT', 'ADDED'],
    grants.map((g) => [
      g.grantId,
      `${g.subject.type}:${g.subject.id}`,
      g.permission,
      resourceCell(g.resource),
      g.tenant,
      shortTime(g.addedAt),
    ]),
  );
}

export function formatGrantAdded(
  grant: { permission: string; subject: GrantSubject; resource: GrantResource },
  tenant: string | undefined,
  grantId: string,
): string {
  return (
    `granted ${grant.permission} on ${describeResource(grant.resource, tenant)} ` +
    `to ${describeSubject(grant.subject)} (grant ${grantId})\n`
  );
}
