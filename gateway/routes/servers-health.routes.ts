import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { summarizeHealth } from '../../projections/health/health-summary.ts';
import { listAllServers } from '../../projections/servers/servers.queries.ts';
import type { GatewayDeps } from '../deps.ts';
import { tenantScopeOf } from '../request-context.ts';

/**
 * `GET /api/v1/health/servers`: the health of every server the caller may read, counted (total,
 * enabled, healthy, unhealthy, by state) and listed, from the servers and health read models.
 */
export function serversHealthRoutes(deps: Pick<GatewayDeps, 'readDb' | 'auth'>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/health/servers',
      {
        schema: {
          tags: ['servers'],
          summary: 'Health summary of all servers',
          description:
            'Active servers the caller may read (as GET /servers lists them): `total`, `enabled`, `disabled`, `healthy`, `unhealthy` (UNHEALTHY or ERROR), `byState` (HEALTHY, UNHEALTHY, STARTING, STOPPED, ERROR, UNCHECKED — enabled, never checked — and DISABLED), and each server’s state with its last check.',
        },
      },
      async (request) => {
        const all = await listAllServers(deps.readDb, tenantScopeOf(request.principal));
        const authz = deps.auth.authz;
        const readable = all.filter(
          (s) =>
            authz.decide(request.principal, 'server.read', {
              kind: 'server',
              tenant: s.tenant,
              server: s.name,
              owner: s.owner,
            }).effect === 'allow',
        );
        return summarizeHealth(readable);
      },
    );
  };
}
