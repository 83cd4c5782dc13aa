import { ACTIONS, type Action, implies } from '../../domains/access/index.ts';
import type { Permission, Principal } from '../../kernel/principal.ts';

/**
 * The authorization table of the MCP surface: what each method is. The session decides each
 * message against the item it names (gateway/mcp/session-server.ts); this table serves the edge,
 * which refuses a message whose method the credential's scopes cannot allow at all — 403 with an
 * `insufficient_scope` challenge, so an MCP client can step up to a wider token (MCP authorization,
 * 2025-11-25) — before the message reaches a session.
 */
export const MCP_METHOD_ACTIONS: Readonly<Record<string, Action>> = {
  initialize: 'mcp.connect',
  // 2026-07-28: what an endpoint offers, asked by a stateless client instead of initialize.
  'server/discover': 'mcp.connect',
  // 2026-07-28: a stream of the list changes and resource updates the client opts in to.
  'subscriptions/listen': 'mcp.connect',
  ping: 'mcp.connect',
  'logging/setLevel': 'mcp.connect',
  'tools/list': 'mcp.connect',
  'tools/call': 'tool.call',
  'resources/list': 'resource.read',
  'resources/templates/list': 'resource.read',
  'resources/read': 'resource.read',
  'resources/subscribe': 'resource.read',
  'resources/unsubscribe': 'resource.read',
  'prompts/list': 'prompt.get',
  'prompts/get': 'prompt.get',
  'completion/complete': 'prompt.get',
};

/** A platform tool's action when `name` (as sent on this endpoint) is one, else undefined. */
export type PlatformActionOf = (name: string, args: Record<string, unknown>) => Action | undefined;

interface JsonRpcLike {
  method?: unknown;
  params?: { name?: unknown; arguments?: unknown };
}

/**
 * The scopes a body's messages need that the principal's credential does not carry (empty when it
 * carries them, or is not narrowed by scopes). Responses and notifications need nothing.
 */
export function missingScopes(
  body: unknown,
  principal: Principal,
  platformActionOf: PlatformActionOf,
): Permission[] {
  if (principal.scopes === undefined) return [];
  const scopes = principal.scopes;
  const messages = (Array.isArray(body) ? body : [body]) as JsonRpcLike[];
  const missing = new Set<Permission>();
  for (const m of messages) {
    if (!m || typeof m.method !== 'string' || m.method.startsWith('notifications/')) continue;
    let action = MCP_METHOD_ACTIONS[m.method] ?? 'mcp.connect';
    if (m.method === 'tools/call' && typeof m.params?.name === 'string') {
      const args = (m.params.arguments ?? {}) as Record<string, unknown>;
      action = platformActionOf(m.params.name, args) ?? action;
    }
    const needed = ACTIONS[action].permission;
    if (!scopes.some((s) => implies(s, needed))) missing.add(needed);
  }
  return [...missing];
}
