import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RegisterServerInput, UpdateServerInput } from '../../domains/servers/index.ts';
import { AppError } from '../../kernel/errors.ts';
import { isUuid } from '../../kernel/ids.ts';
import { getServer, getServerByName, listServers } from '../../projections/servers/servers.queries.ts';
import type { GatewayDeps, WriteResult } from '../deps.ts';
import { commandMetaOf, tenantScopeOf } from '../request-context.ts';
import { consistencyQuery, problemResponses, writeAccepted } from './shared.ts';

const PROJECTION = 'servers';

const idParams = z.object({
  id: z.string().min(1).max(128).describe('Server id (uuid) or name'),
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
          params: idParams,
          querystring: consistencyQuery,
        },
      },
      async (request) => {
        await awaitPosition(request.query);
        const { id } = request.params;
        const scope = tenantScopeOf(request.principal);
        const server = isUuid(id)
          ? await getServer(deps.readDb, id, scope)
          : await getServerByName(deps.readDb, id, scope);
        if (!server) throw new AppError('not_found', 'SERVER.NOT_FOUND', `no server ${id}`);
        return server;
      },
    );

    app.patch(
      '/servers/:id',
      {
        schema: {
          tags: ['servers'],
          summary: 'Update a server',
          params: idParams,
          body: UpdateServerInput,
          querystring: z.object({ wait: z.enum(['true', 'false']).optional() }),
          response: problemResponses([400, 404, 409, 412]),
        },
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
            params: idParams,
            querystring: z.object({ wait: z.enum(['true', 'false']).optional() }),
            response: problemResponses([404, 409]),
          },
        },
        async (request, reply) => {
          const id = await resolveId(request.params.id);
          const result = await deps.servers[action](id, commandMetaOf(request, `${action}:${id}`, now()));
          return accepted(reply, result, request.query.wait === 'true');
        },
      );
    }

    app.delete(
      '/servers/:id',
      {
        schema: {
          tags: ['servers'],
          summary: 'Remove a server (soft: its history stays in the log, its name becomes free)',
          params: idParams,
          querystring: z.object({ wait: z.enum(['true', 'false']).optional() }),
          response: problemResponses([404]),
        },
      },
      async (request, reply) => {
        const id = await resolveId(request.params.id);
        const result = await deps.servers.remove(id, commandMetaOf(request, `remove:${id}`, now()));
        return accepted(reply, result, request.query.wait === 'true');
      },
    );
  };
}
