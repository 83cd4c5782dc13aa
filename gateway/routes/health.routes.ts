import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { GatewayDeps } from '../deps.ts';

/** Liveness, readiness and Prometheus metrics: on the gateway, and on other roles' management port. */
export function healthRoutes(
  deps: Pick<GatewayDeps, 'version' | 'readiness' | 'metrics'>,
): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/health', { schema: { tags: ['operations'], summary: 'Alive' } }, async () => ({
      status: 'ok',
      version: deps.version,
    }));

    app.get(
      '/ready',
      { schema: { tags: ['operations'], summary: 'Every dependency reachable (503 otherwise)' } },
      async (_request, reply) => {
        const checks = await deps.readiness();
        const ready = Object.values(checks).every((c) => c.ok);
        return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks });
      },
    );

    app.get(
      '/metrics',
      { schema: { tags: ['operations'], summary: 'Prometheus metrics' } },
      async (_request, reply) => {
        return reply.type(deps.metrics.contentType).send(await deps.metrics.metrics());
      },
    );
  };
}
