import type { FastifyRequest } from 'fastify';
import type { Action } from '../../domains/access/index.ts';

/**
 * The authorization table of the HTTP surface: every route names its action (domains/access/
 * actions.ts says what the action needs) and what the permission is held on. A route missing here
 * stops the gateway from starting (auth.plugin.ts); the authorization matrix test is generated from
 * this table.
 *
 * - `tenant`, `platform`, `self`: decided before the handler runs.
 * - `server`: the server named by `:id` or `:name`, looked up in the read model (another tenant's
 *   server, or one the caller may not see, answers 404 like a server that does not exist).
 * - `use-case`: the handler's use case decides (it knows what the request is about: a tool and its
 *   arguments, a key and its owner); lists are filtered item by item with the same function.
 * - `signature`: no bearer credential (a git host's webhook has none); the handler checks the
 *   request's signature over its raw body before anything else and refuses it with 401/403.
 */
export type RouteResource = 'tenant' | 'platform' | 'self' | 'server' | 'use-case' | 'signature';

export interface RouteRule {
  action: Action;
  resource: RouteResource;
  /** When the action depends on the request (a stdio transport needs more than an HTTP one). */
  refine?: (request: FastifyRequest, server: { transportType: string } | undefined) => Action;
}

const isStdioBody = (request: FastifyRequest) =>
  (request.body as { transport?: { type?: unknown } } | undefined)?.transport?.type === 'stdio';

/** Turning tool pinning on or off decides what definitions go live unreviewed: a manager's call. */
const changesPinning = (request: FastifyRequest) =>
  (request.body as { settings?: { pinTools?: unknown } } | undefined)?.settings?.pinTools !== undefined;

const r = (action: Action, resource: RouteResource, refine?: RouteRule['refine']): RouteRule => ({
  action,
  resource,
  ...(refine && { refine }),
});

export const ROUTE_ACTIONS: Readonly<Record<string, RouteRule>> = {
  // registry
  'GET /api/v1/servers': r('server.list', 'use-case'),
  'GET /api/v1/servers/:id': r('server.read', 'server'),
  'POST /api/v1/servers': r('server.register', 'tenant', (req) =>
    isStdioBody(req) ? 'server.register-stdio' : 'server.register',
  ),
  'PATCH /api/v1/servers/:id': r('server.update', 'server', (req, server) =>
    isStdioBody(req) || server?.transportType === 'stdio'
      ? 'server.update-stdio'
      : changesPinning(req)
        ? 'server.pin'
        : 'server.update',
  ),
  'POST /api/v1/servers/:id/enable': r('server.enable', 'server'),
  'POST /api/v1/servers/:id/disable': r('server.disable', 'server'),
  'POST /api/v1/servers/:id/refresh': r('server.refresh', 'server'),
  'DELETE /api/v1/servers/:id': r('server.remove', 'server'),
  'GET /api/v1/servers/:id/tools/pending': r('server.read', 'server'),
  // runtime views: what the runners hold now, what the server offers, its history and stats
  'GET /api/v1/servers/:id/instances': r('server.instances', 'server'),
  'GET /api/v1/servers/:id/logs': r('server.logs', 'server'),
  'GET /api/v1/servers/:id/tools': r('server.read', 'server'),
  'GET /api/v1/servers/:id/resources': r('resource.read', 'server'),
  'GET /api/v1/servers/:id/prompts': r('prompt.get', 'server'),
  'GET /api/v1/servers/:id/history': r('server.history', 'server'),
  'GET /api/v1/servers/:id/stats': r('server.read', 'server'),
  'GET /api/v1/health/servers': r('server.list', 'use-case'),
  'POST /api/v1/servers/:id/tools/:tool/approve': r('tool.approve', 'server'),
  'POST /api/v1/servers/:name/tools/:tool': r('tool.call', 'use-case'),
  'GET /api/v1/tool-calls': r('toolcall.read', 'tenant'),
  'GET /api/v1/tool-calls/stats': r('toolcall.read', 'tenant'),
  'GET /api/v1/tool-calls/:id': r('toolcall.read', 'tenant'),
  'GET /api/v1/events': r('events.read', 'tenant'),
  'GET /api/v1/events/stream': r('events.read', 'tenant'),
  'GET /api/v1/events/ws': r('events.read', 'tenant'),
  'GET /api/v1/toolsets': r('toolset.read', 'tenant'),
  'GET /api/v1/toolsets/:name': r('toolset.read', 'tenant'),
  'PUT /api/v1/toolsets/:name': r('toolset.manage', 'tenant'),
  'DELETE /api/v1/toolsets/:name': r('toolset.manage', 'tenant'),
  // templates and projects
  'GET /api/v1/templates': r('template.read', 'tenant'),
  'GET /api/v1/templates/:name': r('template.read', 'tenant'),
  'GET /api/v1/template-stacks': r('template.read', 'tenant'),
  'POST /api/v1/templates/:name/validate': r('template.validate', 'tenant'),
  'POST /api/v1/templates/validate': r('template.validate', 'tenant'),
  'POST /api/v1/templates/sync': r('templatesource.manage', 'tenant'),
  'GET /api/v1/template-sources': r('templatesource.read', 'tenant'),
  'GET /api/v1/template-sources/:name': r('templatesource.read', 'tenant'),
  'POST /api/v1/template-sources': r('templatesource.manage', 'tenant'),
  'POST /api/v1/template-sources/:name/sync': r('templatesource.manage', 'tenant'),
  'DELETE /api/v1/template-sources/:name': r('templatesource.manage', 'tenant'),
  'POST /api/v1/template-sources/:name/webhook': r('templatesource.webhook', 'signature'),
  'POST /api/v1/projects': r('project.generate', 'tenant'),
  'POST /api/v1/projects/preview': r('project.preview', 'tenant'),
  'GET /api/v1/projects': r('project.read', 'tenant'),
  'GET /api/v1/projects/:id': r('project.read', 'tenant'),
  'POST /api/v1/analyses': r('project.analyze', 'tenant'),
  'GET /api/v1/analyses': r('project.read', 'tenant'),
  'GET /api/v1/analyses/:id': r('project.read', 'tenant'),
  // deployments
  'POST /api/v1/deployments': r('deployment.create', 'tenant'),
  'GET /api/v1/deployments': r('deployment.read', 'tenant'),
  'GET /api/v1/deployments/:id': r('deployment.read', 'tenant'),
  'DELETE /api/v1/deployments/:id': r('deployment.stop', 'tenant'),
  'POST /api/v1/deployments/:id/rollback': r('deployment.rollback', 'tenant'),
  // operations
  'GET /metrics': r('metrics.read', 'platform'),
  'GET /openapi.json': r('docs.read', 'tenant'),
  'GET /api/v1/projections': r('projection.read', 'platform'),
  'GET /api/v1/bus': r('bus.read', 'platform'),
  'GET /api/v1/system': r('system.read', 'platform'),
  'GET /api/v1/audit/verify': r('audit.verify', 'platform'),
  'GET /api/v1/audit/checkpoints': r('audit.verify', 'platform'),
  'GET /api/v1/audit/servers/:name': r('audit.read', 'platform'),
  'GET /api/v1/audit/calls': r('audit.read', 'platform'),
  'GET /api/v1/audit/changes': r('audit.read', 'platform'),
  'POST /api/v1/projections/:name/rebuild': r('projection.rebuild', 'platform'),
  'POST /api/v1/projections/:name/quarantine': r('projection.quarantine', 'platform'),
  'POST /api/v1/projections/:name/quarantine/:eventId/release': r('projection.quarantine', 'platform'),
  // MCP endpoints: the session decides per method and per item (gateway/mcp/method-actions.ts)
  'GET /mcp': r('mcp.connect', 'self'),
  'POST /mcp': r('mcp.connect', 'self'),
  'DELETE /mcp': r('mcp.connect', 'self'),
  'GET /servers/:name/mcp': r('mcp.connect', 'self'),
  'POST /servers/:name/mcp': r('mcp.connect', 'self'),
  'DELETE /servers/:name/mcp': r('mcp.connect', 'self'),
  'GET /platform/mcp': r('mcp.connect', 'self'),
  'POST /platform/mcp': r('mcp.connect', 'self'),
  'DELETE /platform/mcp': r('mcp.connect', 'self'),
  'GET /toolsets/:toolset/mcp': r('mcp.connect', 'self'),
  'GET /ws': r('mcp.connect', 'self'),
  'POST /toolsets/:toolset/mcp': r('mcp.connect', 'self'),
  'DELETE /toolsets/:toolset/mcp': r('mcp.connect', 'self'),
  // identity and access: the use cases know whose key, grant or principal it is
  'GET /api/v1/me': r('me.read', 'self'),
  'GET /api/v1/tenants': r('tenant.list', 'self'),
  'POST /api/v1/tenants': r('tenant.create', 'platform'),
  'GET /api/v1/principals': r('principal.read', 'use-case'),
  'POST /api/v1/principals': r('principal.manage', 'use-case'),
  'GET /api/v1/principals/:id': r('principal.read', 'use-case'),
  'PATCH /api/v1/principals/:id': r('principal.manage', 'use-case'),
  'POST /api/v1/principals/:id/erase': r('principal.erase', 'use-case'),
  'GET /api/v1/api-keys': r('apikey.read', 'use-case'),
  'POST /api/v1/api-keys': r('apikey.manage', 'use-case'),
  'POST /api/v1/api-keys/:keyId/rotate': r('apikey.manage', 'use-case'),
  'DELETE /api/v1/api-keys/:keyId': r('apikey.manage', 'use-case'),
  'GET /api/v1/grants': r('grant.read', 'use-case'),
  'POST /api/v1/grants': r('grant.manage', 'use-case'),
  'DELETE /api/v1/grants/:id': r('grant.manage', 'use-case'),
  'GET /api/v1/policies': r('policy.read', 'use-case'),
  'POST /api/v1/policies': r('policy.manage', 'use-case'),
  'PUT /api/v1/policies/:id': r('policy.manage', 'use-case'),
  'DELETE /api/v1/policies/:id': r('policy.manage', 'use-case'),
  'GET /api/v1/rate-limits': r('ratelimit.read', 'use-case'),
  'POST /api/v1/rate-limits': r('ratelimit.manage', 'use-case'),
  'DELETE /api/v1/rate-limits/:id': r('ratelimit.manage', 'use-case'),
  'GET /api/v1/authz/explain': r('authz.explain', 'use-case'),
};

/** Open to anyone: liveness, readiness, the resource metadata a client needs to find the issuer, the console's code. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  'GET /health',
  'GET /ready',
  'GET /.well-known/oauth-protected-resource',
  'GET /.well-known/oauth-protected-resource/mcp',
  'GET /.well-known/oauth-protected-resource/servers/:name/mcp',
  'GET /.well-known/oauth-protected-resource/platform/mcp',
  // the web console's page, code and sign-in settings: no data (that comes from the API, signed in)
  'GET /console',
  'GET /console/',
  'GET /console/config.json',
  'GET /console/assets/:file',
]);

/** Swagger UI's own routes (its page, assets, the document it shows) read the docs. */
const DOCS_RULE = r('docs.read', 'tenant');

/** The rule of a route (HEAD follows GET); undefined for a route nobody declared. */
export function ruleFor(method: string, url: string): RouteRule | 'public' | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  const key = `${m} ${url}`;
  if (PUBLIC_ROUTES.has(key)) return 'public';
  if (url === '/docs' || url.startsWith('/docs/')) return m === 'GET' ? DOCS_RULE : undefined;
  return ROUTE_ACTIONS[key];
}
