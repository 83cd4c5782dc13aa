import type { Permission, Role } from '../../kernel/principal.ts';

/** What holding a permission gives: manage ⊇ write ⊇ read, execute ⊇ read. */
const GIVES: Record<Permission, readonly Permission[]> = {
  'mcp:read': ['mcp:read'],
  'mcp:execute': ['mcp:execute', 'mcp:read'],
  'mcp:write': ['mcp:write', 'mcp:read'],
  'mcp:manage': ['mcp:manage', 'mcp:write', 'mcp:read'],
};

export function implies(held: Permission, needed: Permission): boolean {
  return GIVES[held].includes(needed);
}

/**
 * Roles are bundles of permissions on the principal's own tenant. A writer registers servers and
 * calls them; a manager also administers the tenant's people, keys, grants and policies. `admin`
 * holds every permission on every tenant and on the platform itself.
 */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  reader: ['mcp:read'],
  executor: ['mcp:execute'],
  writer: ['mcp:write', 'mcp:execute'],
  manager: ['mcp:manage', 'mcp:execute'],
  admin: ['mcp:manage', 'mcp:execute'],
};

/** Parses a space- or comma-separated scope string (or list) into the permissions it names. */
export function scopesFrom(value: unknown): Permission[] | undefined {
  const parts =
    typeof value === 'string'
      ? value.split(/[\s,]+/)
      : Array.isArray(value)
        ? value.filter((v): v is string => typeof v === 'string')
        : [];
  const known = parts.filter((p): p is Permission => p in GIVES);
  return known.length > 0 ? [...new Set(known)] : undefined;
}

/** True when the name matches the pattern (`*` any run, `?` one character). */
export function matchesPattern(pattern: string, name: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === name;
  let re = patterns.get(pattern);
  if (!re) {
    let src = '^';
    for (const ch of pattern) {
      if (ch === '*') src += '.*';
      else if (ch === '?') src += '.';
      else src += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
    }
    re = new RegExp(`${src}$`, 's');
    if (patterns.size > 5_000) patterns.clear();
    patterns.set(pattern, re);
  }
  return re.test(name);
}

const patterns = new Map<string, RegExp>();
