import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  DefineToolsetInput,
  type ToolsetCommandResult,
  toolsetNotFound,
} from '../../domains/toolsets/index.ts';
import { getToolset, listToolsets } from '../../projections/toolsets/index.ts';
import type { GatewayDeps } from '../deps.ts';
import { commandMetaOf, tenantScopeOf } from '../request-context.ts';
import { problemResponses, writeAccepted } from './shared.ts';

const nameParams = z.object({ name: z.string().min(1).max(63) });
const waitQuery = z.object({ wait: z.enum(['true', 'false']).optional() });
const PROJECTION = 'toolsets';
const toolsetView = z.object({
  name: z.string(),
  tenant: z.string(),
  description: z.string().nullable(),
  tools: z.array(z.object({ server: z.string(), tool: z.string() })),
  revision: z.string().describe('The toolset stream revision (If-Match of the next write)'),
  updatedAt: z.string(),
});

/**
 * /api/v1/toolsets: named sets of tools, each served on its own MCP endpoint
 * (`/toolsets/<name>/mcp`), of the caller's tenant. Defining one again replaces it.
 */
export function toolsetsRoutes(deps: GatewayDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const accepted = async (
      reply: Parameters<typeof writeAccepted>[0],
      result: ToolsetCommandResult,
      wait: boolean,
    ) => {
      const projected =
        wait && result.position !== undefined
          ? await deps.projections.waitForPosition(PROJECTION, result.position, deps.consistencyTimeoutMs)
          : undefined;
      return writeAccepted(
        reply,
        { ...result, id: result.toolsetId },
        `/api/v1/toolsets/${result.name}`,
        projected,
      );
    };

    app.get(
      '/toolsets',
      {
        schema: {
          tags: ['toolsets'],
          summary: 'List the toolsets of your tenant',
          response: { 200: z.object({ toolsets: z.array(toolsetView) }) },
        },
      },
      async (request) => ({ toolsets: await listToolsets(deps.readDb, tenantScopeOf(request.principal)) }),
    );

    app.get(
      '/toolsets/:name',
      {
        schema: {
          tags: ['toolsets'],
          summary: 'Get a toolset',
          params: nameParams,
          response: { 200: toolsetView, ...problemResponses([404]) },
        },
      },
      async (request) => {
        const found = await getToolset(deps.readDb, request.principal.tenant, request.params.name);
        if (!found) throw toolsetNotFound(request.params.name);
        return found;
      },
    );

    app.put(
      '/toolsets/:name',
      {
        schema: {
          tags: ['toolsets'],
          summary: 'Define (or replace) a toolset',
          description:
            'Appends ToolsetDefined (nothing when it is already defined so). `tools` lists `{server, tool}` by the names the servers serve them under. Its MCP endpoint is `/toolsets/<name>/mcp`; add `?wait=true` to answer once it serves the new definition.',
          params: nameParams,
          body: DefineToolsetInput,
          querystring: waitQuery,
          response: problemResponses([400]),
        },
      },
      async (request, reply) => {
        const meta = commandMetaOf(request, `toolset:${request.params.name}`, new Date());
        const result = await deps.toolsets.define(request.params.name, request.body, meta);
        return accepted(reply, result, request.query.wait === 'true');
      },
    );

    app.delete(
      '/toolsets/:name',
      {
        schema: {
          tags: ['toolsets'],
          summary: 'Remove a toolset',
          params: nameParams,
          querystring: waitQuery,
          response: problemResponses([404]),
        },
      },
      async (request, reply) => {
        const meta = commandMetaOf(request, `toolset-remove:${request.params.name}`, new Date());
        const result = await deps.toolsets.remove(request.params.name, meta);
        return accepted(reply, result, request.query.wait === 'true');
      },
    );
  };
}
