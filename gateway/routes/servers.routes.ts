import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RegisterServerInput, UpdateServerInput } from '../../domains/servers/index.ts';
import { AppError } from '../../kernel/errors.ts';
import { isUuid } from '../../kernel/ids.ts';
import { listPendingTools } from '../../projections/catalog/catalog.queries.ts';
import { getServer, getServerByName, listServers } from '../../projections/servers/servers.queries.ts';
import type { GatewayDeps } from '../deps.ts';
import type { WriteResult } from '../ports.ts';
import { commandMetaOf, etagOf, tenantScopeOf } from '../request-context.ts';
import { consistencyQuery, problemResponses, writeAccepted } from './shared.ts';

const PROJECTION = 'servers';

const IF_MATCH =
  'Optimistic concurrency: with `If-Match: "<revision>"` (the `ETag` of GET /servers/:id or of an earlier write) the write is refused with 412 and appends nothing if the server stream is at another revision. The answer’s `ETag` is the revision after the write.';

const idParams = z.object({
  id: z.string().min(1).max(128).describe('Server id (uuid) or name'),
});

const toolParams = idParams.extend({
  tool: z.string().min(1).max(1000).describe('Tool name, as the server lists it'),
});

const approveBody = z
  .object({
    hash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be the sha256 (hex) of the definition reviewed')
      .describe('proposed.hash of the pending change: exactly that definition is approved'),
  })
  .strict();

const toolDefinitionSchema = z
  .object({
    name: z.string(),
    title: z.string().optional(),
    description: z.string().optional(),
    inputSchema: z.record(z.string(), z.unknown()),
    outputSchema: z.record(z.string(), z.unknown()).optional(),
    annotations: z.record(z.string(), z.unknown()).optional(),
  })
  .describe('What a definition hash covers');

const pendingToolsSchema = z.object({
  serverId: z.string(),
  pinTools: z.boolean().describe('Whether the server pins its tools (settings.pinTools)'),
  items: z.array(
    z.object({
      tool: z.string(),
      previous: z
        .object({
          hash: z.string(),
          definition: toolDefinitionSchema.nullable(),
          approvedAt: z.string().nullable(),
          approvedBy: z.string().nullable(),
        })
        .nullable()
        .describe('The approved definition; null for a tool never approved'),
      proposed: z
        .object({ hash: z.string(), definition: toolDefinitionSchema })
        .describe('The definition the server lists now, withheld from clients'),
      detectedAt: z.string().nullable(),
    }),
  ),
});

const listQuery = z
  .object({
    enabled: z.enum(['true', 'false']).optional().describe('Only enabled (true) or disabled (false) servers'),
    tag: z.string().max(64).optional(),
    includeRemoved: z.enum(['true', 'false']).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(200).optional(),
  })
  .extend(consistencyQuery.shape);

/** /api/v1/servers: the registry of upstream MCP servers. Writes are commands; reads hit the projection. */
export function serversRoutes(deps: GatewayDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const now = () => new Date();

    async function resolveId(idOrName: string): Promise<string> {
      if (isUuid(idOrName)) return idOrName;
      const s = await getServerByName(deps.readDb, idOrName);
      if (!s) throw new AppError('not_found', 'SERVER.NOT_FOUND', `no server named ${idOrName}`);
      return s.id;
    }

    async function awaitPosition(q: { minPosition?: bigint | undefined; waitMs?: number | undefined }) {
      if (q.minPosition === undefined) return;
      await deps.projections.waitForPosition(
        PROJECTION,
        q.minPosition,
        q.waitMs ?? deps.consistencyTimeoutMs,
      );
    }

    async function accepted(reply: FastifyReply, result: WriteResult, wait: boolean): Promise<FastifyReply> {
      const projected =
        wait && result.position !== undefined
          ? await deps.projections.waitForPosition(PROJECTION, result.position, deps.consistencyTimeoutMs)
          : undefined;
      // The server stream's revision after the write: the If-Match of the next one.
      reply.header('etag', etagOf(result.revision));
      return writeAccepted(reply, result, `/api/v1/servers/${result.id}`, projected);
    }

    app.post(
      '/servers',
      {
        schema: {
          tags: ['servers'],
          summary: 'Register an MCP server',
          description:
            'Appends RegisterServer. Answers 202 with the server id and stream revision; add `?wait=true` to answer only once the read model shows the server. Env and header values are encrypted in the event log and never returned.',
          body: RegisterServerInput,
          querystring: z.object({ wait: z.enum(['true', 'false']).optional() }),
          response: problemResponses([400, 409, 413]),
        },
      },
      async (request, reply) => {
        const result = await deps.servers.register(request.body, commandMetaOf(request, 'register', now()));
        return accepted(reply, result, request.query.wait === 'true');
      },
    );

    app.get(
      '/servers',
      {
        schema: { tags: ['servers'], summary: 'List servers', querystring: listQuery },
      },
      async (request) => {
        const q = request.query;
        await awaitPosition(q);
        const page = await listServers(deps.readDb, {
          ...tenantScopeOf(request.principal),
          enabled: q.enabled === undefined ? undefined : q.enabled === 'true',
          tag: q.tag,
          includeRemoved: q.includeRemoved === 'true',
          limit: q.limit,
          cursor: q.cursor,
        });
        // Listed = readable: the same decision GET /servers/:id makes, item by item.
        const authz = deps.auth.authz;
        const items = page.items.filter(
          (s) =>
            authz.decide(request.principal, 'server.read', {
              kind: 'server',
              tenant: s.tenant,
              server: s.name,
              owner: s.owner,
            }).effect === 'allow',
        );
        return { ...page, items };
      },
    );

    app.get(
      '/servers/:id',
      {
        schema: {
          tags: ['servers'],
          summary: 'Get one server by id or name',
          description:
            'The `ETag` header is the server stream’s revision as the read model shows it: send it as `If-Match` on a write to have the write refused (412) if the server changed meanwhile.',
          params: idParams,
          querystring: consistencyQuery,
        },
      },
      async (request, reply) => {
        await awaitPosition(request.query);
        const { id } = request.params;
        const scope = tenantScopeOf(request.principal);
        const server = isUuid(id)
          ? await getServer(deps.readDb, id, scope)
          : await getServerByName(deps.readDb, id, scope);
        if (!server) throw new AppError('not_found', 'SERVER.NOT_FOUND', `no server ${id}`);
        reply.header('etag', etagOf(server.revision));
        return server;
      },
    );

    app.patch(
      '/servers/:id',
      {
        schema: {
          tags: ['servers'],
          summary: 'Update a server',
          description: IF_MATCH,
          params: idParams,
          body: UpdateServerInput,
          querystring: z.object({ wait: z.enum(['true', 'false']).optional() }),
          response: problemResponses([400, 404, 409, 412]),
        },
        config: { conditional: true },
      },
      async (request, reply) => {
        const id = await resolveId(request.params.id);
        const result = await deps.servers.update(
          id,
          request.body,
          commandMetaOf(request, `update:${id}`, now()),
        );
        return accepted(reply, result, request.query.wait === 'true');
      },
    );

    for (const action of ['enable', 'disable', 'refresh'] as const) {
      app.post(
        `/servers/:id/${action}`,
        {
          schema: {
            tags: ['servers'],
            summary:
              action === 'refresh'
                ? 'Discover the server’s tools, resources and prompts again'
                : `${action[0]!.toUpperCase()}${action.slice(1)} a server`,
            description: IF_MATCH,
            params: idParams,
            querystring: z.object({ wait: z.enum(['true', 'false']).optional() }),
            response: problemResponses([404, 409, 412]),
          },
          config: { conditional: true },
        },
        async (request, reply) => {
          const id = await resolveId(request.params.id);
          const result = await deps.servers[action](id, commandMetaOf(request, `${action}:${id}`, now()));
          return accepted(reply, result, request.query.wait === 'true');
        },
      );
    }

    // Tool pinning: what is withheld, and approving it (catalog domain; the catalog read model).
    app.get(
      '/servers/:id/tools/pending',
      {
        schema: {
          tags: ['servers'],
          summary: 'Tool definition changes waiting for approval',
          description:
            'For a server with `settings.pinTools`: each tool withheld from clients because its definition (name, title, description, inputSchema, outputSchema, annotations) is not the approved one — the approved definition and hash (`previous`, null for a new tool), and the one the server lists now (`proposed`). Empty for a server that does not pin its tools.',
          params: idParams,
          querystring: consistencyQuery,
          response: { 200: pendingToolsSchema, ...problemResponses([404]) },
        },
      },
      async (request) => {
        const q = request.query;
        if (q.minPosition !== undefined)
          await deps.projections.waitForPosition(
            'catalog',
            q.minPosition,
            q.waitMs ?? deps.consistencyTimeoutMs,
          );
        const id = await resolveId(request.params.id);
        const pending = await listPendingTools(deps.readDb, id, tenantScopeOf(request.principal));
        if (!pending) throw new AppError('not_found', 'SERVER.NOT_FOUND', `no server ${request.params.id}`);
        return pending;
      },
    );

    app.post(
      '/servers/:id/tools/:tool/approve',
      {
        schema: {
          tags: ['servers'],
          summary: 'Approve a tool definition (the tool is served again)',
          description:
            'Appends ToolDefinitionApproved for the definition with `hash`, the caller the actor. 404 when the server lists no such tool; 409 when the server does not pin its tools, or when `hash` is not the definition the server lists now (it changed since it was reviewed). `?wait=true` answers once the catalog read model shows it.',
          params: toolParams,
          body: approveBody,
          querystring: z.object({ wait: z.enum(['true', 'false']).optional() }),
          response: problemResponses([400, 404, 409]),
        },
      },
      async (request, reply) => {
        const id = await resolveId(request.params.id);
        const server = await getServer(deps.readDb, id, tenantScopeOf(request.principal));
        if (!server) throw new AppError('not_found', 'SERVER.NOT_FOUND', `no server ${request.params.id}`);
        const { tool } = request.params;
        const r = await deps.toolApprovals.approveTool(
          { serverId: id, tool, hash: request.body.hash, pinned: server.settings.pinTools === true },
          commandMetaOf(request, `approve-tool:${id}:${tool}:${request.body.hash}`, now()),
        );
        const projected =
          request.query.wait === 'true' && r.position !== undefined
            ? await deps.projections.waitForPosition('catalog', r.position, deps.consistencyTimeoutMs)
            : undefined;
        return writeAccepted(
          reply,
          {
            id: r.serverId,
            stream: r.stream,
            revision: r.revision,
            position: r.position,
            duplicate: r.duplicate,
          },
          `/api/v1/servers/${id}/tools/pending`,
          projected,
        );
      },
    );

    app.delete(
      '/servers/:id',
      {
        schema: {
          tags: ['servers'],
          summary: 'Remove a server (soft: its history stays in the log, its name becomes free)',
          description: IF_MATCH,
          params: idParams,
          querystring: z.object({ wait: z.enum(['true', 'false']).optional() }),
          response: problemResponses([404, 412]),
        },
        config: { conditional: true },
      },
      async (request, reply) => {
        const id = await resolveId(request.params.id);
        const result = await deps.servers.remove(id, commandMetaOf(request, `remove:${id}`, now()));
        return accepted(reply, result, request.query.wait === 'true');
      },
    );
  };
}
