import type { Permission } from '../../kernel/principal.ts';

/**
 * What each action needs, and on what. Every REST route, MCP method, platform tool and CLI command
 * names one of these (gateway/auth/route-actions.ts, gateway/mcp/method-actions.ts); `decide` reads
 * only this table, so no entry point can need something the others do not.
 *
 * `on` is what the permission must be held on:
 * - `tenant`: the caller's tenant (or, for an owned thing, that thing — owners manage what they own);
 * - `server` / `tool`: that server (or tool) of its tenant — a grant on the tenant covers it;
 * - `platform`: Switchyard itself (metrics, projections, tenants): administrators, or a platform grant;
 * - `self`: any authenticated principal, about itself.
 *
 * `policies`: whether per-server/per-tool policies apply. They govern the use of servers and the
 * catalog; access administration is governed by roles and grants only, so a policy can never lock
 * the administrators out of removing it.
 */
export interface ActionDef {
  permission: Permission;
  on: 'tenant' | 'server' | 'tool' | 'platform' | 'self';
  policies: boolean;
  summary: string;
}

const a = (permission: Permission, on: ActionDef['on'], summary: string, policies = false): ActionDef => ({
  permission,
  on,
  policies,
  summary,
});

export const ACTIONS = {
  // MCP and the registry
  'mcp.connect': a('mcp:read', 'self', 'open an MCP session (what it shows is filtered per item)'),
  'server.list': a('mcp:read', 'tenant', 'list servers (filtered to those the caller may read)', true),
  'server.read': a('mcp:read', 'server', 'read a server', true),
  'server.instances': a(
    'mcp:read',
    'server',
    "see a server's running instances on the runners (pid, uptime, restarts, last exit, state)",
    true,
  ),
  'server.logs': a(
    'mcp:manage',
    'server',
    "read a server's recent stderr (secrets redacted; it may still hold what callers sent)",
    true,
  ),
  'server.history': a(
    'mcp:read',
    'server',
    "read a server's configuration history from its stream (secrets redacted)",
    true,
  ),
  'server.register': a('mcp:write', 'tenant', 'register a streamable-http or sse server', true),
  'server.register-stdio': a(
    'mcp:manage',
    'tenant',
    'register a stdio server (runs a command on the host)',
    true,
  ),
  'server.update': a('mcp:write', 'server', 'change a server', true),
  'server.update-stdio': a('mcp:manage', 'server', 'change a stdio server, or make a server stdio', true),
  'server.pin': a(
    'mcp:manage',
    'server',
    'turn tool pinning on or off (what goes live without review)',
    true,
  ),
  'server.enable': a('mcp:write', 'server', 'enable a server', true),
  'server.disable': a('mcp:write', 'server', 'disable a server', true),
  'server.refresh': a('mcp:write', 'server', "rediscover a server's capabilities", true),
  'server.remove': a('mcp:manage', 'server', 'remove a server', true),
  'tool.approve': a(
    'mcp:manage',
    'server',
    'approve a changed tool definition of a server that pins its tools (it is served again)',
    true,
  ),
  'tool.call': a('mcp:execute', 'tool', 'call a tool (and see it listed)', true),
  'resource.read': a('mcp:read', 'server', "list, read and subscribe to a server's resources", true),
  'prompt.get': a('mcp:read', 'server', "list and get a server's prompts, and completions", true),
  'toolcall.read': a('mcp:read', 'tenant', 'read the audited tool-call log of the tenant'),
  'toolset.read': a('mcp:read', 'tenant', "list and read the tenant's toolsets"),
  'toolset.manage': a('mcp:write', 'tenant', 'define, replace and remove toolsets'),
  'events.read': a('mcp:manage', 'tenant', "read the tenant's events in the log"),
  // templates and projects
  'template.read': a('mcp:read', 'tenant', 'search and inspect templates', true),
  'template.validate': a('mcp:write', 'tenant', 'validate a template (renders it)', true),
  'templatesource.read': a('mcp:read', 'tenant', 'list template sources', true),
  'templatesource.manage': a('mcp:manage', 'tenant', 'add, sync and remove template sources', true),
  'templatesource.webhook': a(
    'mcp:manage',
    'platform',
    "sync a template source on a git host's push: the host's signature over the body (SWITCHYARD_WEBHOOK_SECRET) is the credential, no principal is involved",
  ),
  'project.read': a('mcp:read', 'tenant', 'read projects and analyses', true),
  'project.preview': a('mcp:read', 'tenant', 'preview a generation', true),
  'project.generate': a('mcp:write', 'tenant', 'generate a project into the workspace', true),
  'project.analyze': a('mcp:write', 'tenant', 'analyze code in the workspace', true),
  // deployments: a deployment builds and runs a command on the host, like a stdio server
  'deployment.read': a(
    'mcp:read',
    'tenant',
    "list and read the tenant's deployments (steps, logs, outcome)",
    true,
  ),
  'deployment.create': a(
    'mcp:manage',
    'tenant',
    'deploy a server: build and run a project, template, directory or npm package on the host',
    true,
  ),
  'deployment.stop': a('mcp:manage', 'tenant', 'stop a running deployment (what it did is undone)', true),
  'deployment.rollback': a(
    'mcp:manage',
    'tenant',
    'bring back the revision an earlier deployment put live (a new deployment)',
    true,
  ),
  // operations
  'docs.read': a('mcp:read', 'tenant', 'read the OpenAPI document and its UI'),
  'metrics.read': a('mcp:read', 'platform', 'scrape /metrics'),
  'projection.read': a('mcp:read', 'platform', 'read projection status'),
  'bus.read': a('mcp:read', 'platform', 'read the bus: stream, subjects, consumers, dead letters'),
  'system.read': a('mcp:read', 'platform', "read the process's version and configuration (secrets redacted)"),
  'audit.verify': a(
    'mcp:read',
    'platform',
    'verify the tamper-evident log (its hash chain and signed checkpoints), export the checkpoints',
  ),
  'audit.read': a(
    'mcp:read',
    'platform',
    "replay the log: a server as of a time, every tool call, who changed what (the caller's tenant; administrators: all)",
  ),
  'projection.rebuild': a('mcp:manage', 'platform', 'rebuild a projection'),
  'projection.quarantine': a(
    'mcp:manage',
    'platform',
    'quarantine an event a projection cannot apply (it skips it from then on), or release it',
  ),
  // identity and access
  'me.read': a('mcp:read', 'self', 'who am I, and what may I do'),
  'tenant.list': a('mcp:read', 'self', 'list tenants (one’s own; every tenant for administrators)'),
  'tenant.create': a('mcp:manage', 'platform', 'create a tenant'),
  'principal.read': a('mcp:manage', 'tenant', "list and read the tenant's principals"),
  'principal.manage': a('mcp:manage', 'tenant', 'create principals, change their roles, disable them'),
  'principal.erase': a(
    'mcp:manage',
    'tenant',
    "erase a principal's personal data (destroy its data keys: crypto-shredding) and disable it for good",
  ),
  'apikey.read': a('mcp:manage', 'tenant', "list a principal's API keys (one's own: always)"),
  'apikey.manage': a(
    'mcp:manage',
    'tenant',
    "issue, rotate and revoke a principal's API keys (one's own: always)",
  ),
  'grant.read': a('mcp:manage', 'tenant', 'list grants'),
  'grant.manage': a('mcp:manage', 'tenant', 'add and remove grants'),
  'policy.read': a('mcp:manage', 'tenant', 'list policies'),
  'policy.manage': a('mcp:manage', 'tenant', 'set and remove policies'),
  'ratelimit.read': a('mcp:manage', 'tenant', 'list rate limits'),
  'ratelimit.manage': a('mcp:manage', 'tenant', 'set and remove rate limits'),
  'authz.explain': a('mcp:manage', 'tenant', 'explain a decision (about oneself: always)'),
} as const satisfies Record<string, ActionDef>;

export type Action = keyof typeof ACTIONS;

export function isAction(name: string): name is Action {
  return Object.hasOwn(ACTIONS, name);
}

/** Action names and `prefix.*` / `*` patterns that a policy may target. */
export function policyActionMatches(pattern: string, action: Action): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return action.startsWith(pattern.slice(0, -1));
  return pattern === action;
}
