import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getServerCatalog } from '../../projections/catalog/catalog.queries.ts';
import { serverHistory } from '../../projections/servers/server-history.ts';
import { serverSeries, serverStats } from '../../projections/tool-stats/tool-stats.queries.ts';
import type { GatewayDeps } from '../deps.ts';
import { tenantScopeOf } from '../request-context.ts';
import { serverOf } from './server-lookup.ts';

const idParams = z.object({ id: z.string().min(1).max(128).describe('Server id (uuid) or name') });

const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], {
    error: 'must be an ISO 8601 date-time with offset (2026-01-02T03:04:05Z) or a date (2026-01-02)',
  })
  .transform((s) => new Date(s));

const historyQuery = z.object({
  fromRevision: z.coerce.number().int().min(0).optional().describe('Start at this revision of the stream'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** What every catalog answer says about when it was discovered. */
function discovery(c: Awaited<ReturnType<typeof getServerCatalog>>) {
  return {
    discoveredAt: c?.discoveredAt ?? null,
    lastError: c?.lastError ?? null,
  };
}

/**
 * Per server, from the read models and its stream: what it offers (`/tools`, `/resources`,
 * `/prompts`, from the catalog read model, as the gateway serves them), its configuration history
 * (`/history`, from `server-<id>`, secrets redacted) and its call statistics (`/stats`).
 */
export function serverDetailsRoutes(
  deps: Pick<GatewayDeps, 'readDb' | 'store' | 'auth'>,
): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/servers/:id/tools',
      {
        schema: {
          tags: ['servers'],
          summary: "A server's tools, as the gateway serves them",
          description:
            'From the catalog read model: overrides applied, hidden and withheld tools left out (withheld: a pinned server’s changed definitions, see /tools/pending). Listed = callable: only the tools the caller may call.',
          params: idParams,
        },
      },
      async (request) => {
        const server = await serverOf(deps, request, request.params.id);
        const catalog = await getServerCatalog(deps.readDb, server.id, tenantScopeOf(request.principal));
        const tools = (catalog?.tools ?? []).filter((t) => {
          const served = String(t.name);
          return (
            deps.auth.authz.decide(request.principal, 'tool.call', {
              kind: 'tool',
              tenant: server.tenant,
              server: server.name,
              tool: catalog?.toolOrigins[served] ?? served,
              owner: server.owner,
            }).effect === 'allow'
          );
        });
        return {
          serverId: server.id,
          name: server.name,
          ...discovery(catalog),
          tools,
          withheldTools: catalog?.withheldTools ?? [],
        };
      },
    );

    app.get(
      '/servers/:id/resources',
      {
        schema: {
          tags: ['servers'],
          summary: "A server's resources and resource templates",
          params: idParams,
        },
      },
      async (request) => {
        const server = await serverOf(deps, request, request.params.id);
        const catalog = await getServerCatalog(deps.readDb, server.id, tenantScopeOf(request.principal));
        return {
          serverId: server.id,
          name: server.name,
          ...discovery(catalog),
          resources: catalog?.resources ?? [],
          resourceTemplates: catalog?.resourceTemplates ?? [],
        };
      },
    );

    app.get(
      '/servers/:id/prompts',
      {
        schema: {
          tags: ['servers'],
          summary: "A server's prompts",
          params: idParams,
        },
      },
      async (request) => {
        const server = await serverOf(deps, request, request.params.id);
        const catalog = await getServerCatalog(deps.readDb, server.id, tenantScopeOf(request.principal));
        return {
          serverId: server.id,
          name: server.name,
          ...discovery(catalog),
          prompts: catalog?.prompts ?? [],
        };
      },
    );

    app.get(
      '/servers/:id/history',
      {
        schema: {
          tags: ['servers'],
          summary: "A server's configuration history",
          description:
            'Every event of the server’s stream, oldest first: who registered, changed, enabled, disabled, refreshed or removed it, when, and what the event recorded. Env, header and query values are `[redacted]` (references named), as in the read model.',
          params: idParams,
          querystring: historyQuery,
        },
      },
      async (request) => {
        const server = await serverOf(deps, request, request.params.id);
        const q = request.query;
        const page = await serverHistory(deps.store, server.id, {
          limit: q.limit,
          ...(q.fromRevision !== undefined && { fromRevision: BigInt(q.fromRevision) }),
        });
        return { serverId: server.id, name: server.name, ...page };
      },
    );

    app.get(
      '/servers/:id/stats',
      {
        schema: {
          tags: ['servers'],
          summary: "A server's tool-call statistics, whole and per tool",
          description:
            'From the tool-call log: finished calls, errors (failed, abandoned, or isError results) and error rate, calls running, mean, p50 and p95 duration (ms), last use. Of the caller’s tenant’s calls (every tenant’s for administrators). `since` bounds it to a window. `series=hour|minute` adds the calls over time (buckets with calls only).',
          params: idParams,
          querystring: z
            .object({
              since: instant
                .optional()
                .describe('Only calls started at or after (with `series`: default a day ago)'),
              series: z
                .enum(['hour', 'minute'])
                .optional()
                .describe('Also the calls over time: per hour or minute since `since`, with errors and p95'),
            })
            .strict(),
        },
      },
      async (request) => {
        const server = await serverOf(deps, request, request.params.id);
        const scope = tenantScopeOf(request.principal);
        const { since, series } = request.query;
        const stats = await serverStats(deps.readDb, server.id, { ...scope, since });
        if (!series) return { serverId: server.id, name: server.name, ...stats };
        const from = since ?? new Date(Date.now() - 86_400_000);
        const points = await serverSeries(deps.readDb, server.id, { ...scope, since: from, bucket: series });
        return { serverId: server.id, name: server.name, ...stats, series: points };
      },
    );
  };
}
