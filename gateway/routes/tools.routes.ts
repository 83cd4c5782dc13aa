import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CallTool } from '../../application/toolcalls/call-tool.ts';
import type { Authorizer } from '../../domains/access/index.ts';
import { AppError } from '../../kernel/errors.ts';
import { validTraceparent } from '../../kernel/tracing.ts';
import type { CatalogServer, CatalogSource } from '../mcp/catalog-source.ts';

export interface ToolRoutesDeps {
  catalog: CatalogSource;
  authz: Authorizer;
  callTool: CallTool;
}

const params = z.object({
  name: z.string().min(1).max(63).describe('Server name'),
  tool: z.string().min(1).max(256).describe('Tool name as the server names it'),
});

/**
 * MCP to REST: `POST /api/v1/servers/:name/tools/:tool` runs a tool with a JSON object of arguments
 * and answers its MCP result. The call is an ExecuteTool like any other (audited); a tool that ran
 * and reported an error answers 200 with `isError: true`; the gateway's own failures are problems
 * (404 unknown, 502 upstream failed, 503 unavailable, 504 timeout).
 */
export function toolsRoutes(deps: ToolRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/servers/:name/tools/:tool',
      {
        schema: {
          tags: ['tools'],
          summary: 'Call a tool of a registered server',
          description: 'Each discovered tool is also listed under its own path with its input schema.',
          params,
          body: z.record(z.string(), z.unknown()).default({}).describe('The tool arguments'),
        },
      },
      async (request) => {
        const { name, tool } = request.params;
        const noServer = () =>
          new AppError('not_found', 'SERVER.NOT_FOUND', `no enabled server named ${name}`);
        const server = await deps.catalog.serverByName(name);
        if (!server) throw noServer();
        // Whether the server exists is no one's business but those who may see it.
        const sees = deps.authz.decide(request.principal, 'server.read', {
          kind: 'server',
          tenant: server.tenant,
          server: server.name,
          owner: server.owner,
        }).visible;
        if (!sees) throw noServer();
        const unknownTool = () =>
          new AppError('not_found', 'TOOL.NOT_FOUND', `server ${name} has no tool ${tool}`);
        const { callId, result } = await deps.callTool({
          server,
          tool,
          args: request.body ?? {},
          principal: request.principal,
          unknownTool,
          via: 'rest',
          correlationId: String(request.id),
          traceparent: validTraceparent(request.headers.traceparent),
          options: { signal: abortOnClose(request.raw) },
        });
        return { callId, ...result };
      },
    );
  };
}

/** Aborts when the client goes away, so the upstream call is cancelled too. */
function abortOnClose(raw: import('node:http').IncomingMessage): AbortSignal {
  const controller = new AbortController();
  raw.on('close', () => {
    if (!raw.complete) controller.abort();
  });
  return controller.signal;
}

/** OpenAPI paths for every discovered tool the caller may call, added to the document on each request. */
export async function toolPaths(
  catalog: CatalogSource,
  mayCall: (server: CatalogServer, tool: string) => boolean,
): Promise<Record<string, unknown>> {
  const paths: Record<string, unknown> = {};
  for (const server of await catalog.enabledServers()) {
    for (const tool of server.tools) {
      if (!mayCall(server, tool.name)) continue;
      paths[`/api/v1/servers/${server.name}/tools/${encodeURIComponent(tool.name)}`] = {
        post: {
          tags: [`tools: ${server.name}`],
          summary: tool.title ?? tool.name,
          description: tool.description ?? '',
          operationId: `${server.name}__${tool.name}`,
          requestBody: { required: true, content: { 'application/json': { schema: tool.inputSchema } } },
          responses: {
            200: { description: 'The MCP tool result (`isError: true` when the tool reported a failure)' },
            404: { description: 'Unknown server or tool' },
            502: { description: 'The upstream failed' },
            503: { description: 'No healthy upstream instance' },
            504: { description: 'The upstream timed out' },
          },
        },
      };
    }
  }
  return paths;
}
