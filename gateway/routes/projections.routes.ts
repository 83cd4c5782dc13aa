import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GatewayDeps } from '../deps.ts';
import { problemResponses } from './shared.ts';

/** /api/v1/projections: read-model status (checkpoint, lag) and rebuild. */
export function projectionsRoutes(deps: GatewayDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/projections',
      {
        schema: {
          tags: ['projections'],
          summary: 'Status of every projection: checkpoint, lag in events and ms',
        },
      },
      async () => ({ projections: await deps.projections.status() }),
    );

    app.post(
      '/projections/:name/rebuild',
      {
        schema: {
          tags: ['projections'],
          summary: 'Rebuild a projection from the event store into fresh tables, then swap them in',
          params: z.object({ name: z.string().min(1).max(100) }),
          response: {
            200: z.object({ name: z.string(), events: z.number(), durationMs: z.number() }).loose(),
            ...problemResponses([404, 409]),
          },
        },
      },
      async (request) => deps.projections.rebuild(request.params.name),
    );
  };
}
