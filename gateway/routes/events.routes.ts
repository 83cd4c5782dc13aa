import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError } from '../../kernel/errors.ts';
import type { GatewayDeps } from '../deps.ts';
import { eventReadableBy, eventsQuery, eventView } from './events.query.ts';

/** /api/v1/events: the audit log, straight from the event store. */
export function eventsRoutes(deps: GatewayDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/events',
      {
        schema: {
          tags: ['events'],
          summary: 'Read the event log: one stream, a category, or the whole log from a position',
          description:
            'Without `stream`, pages through the global log in order: pass the returned `next` as `after` to continue. With `stream`, reads that stream by revision.',
          querystring: eventsQuery,
        },
      },
      async (request) => {
        const q = request.query;
        const visible = eventReadableBy(request.principal);
        if (q.stream) {
          if (q.after !== undefined || q.category || q.type) {
            throw new AppError(
              'validation',
              'EVENTS.BAD_QUERY',
              'stream cannot be combined with after, category or type',
            );
          }
          const events = await deps.store.readStream(q.stream, {
            direction: q.direction,
            fromRevision: q.fromRevision === undefined ? undefined : BigInt(q.fromRevision),
            maxCount: q.limit,
          });
          const last = events.at(-1);
          const next =
            events.length < q.limit || !last
              ? null
              : (q.direction === 'forwards' ? last.revision + 1n : last.revision - 1n).toString();
          return { stream: q.stream, events: events.filter(visible).map(eventView), nextRevision: next };
        }
        if (q.fromRevision !== undefined || q.direction !== 'forwards') {
          throw new AppError(
            'validation',
            'EVENTS.BAD_QUERY',
            'fromRevision and direction apply to a single stream only',
          );
        }
        const events = await deps.store.readAll({
          after: q.after ?? 0n,
          maxCount: q.limit,
          filter: { categories: q.category, types: q.type },
        });
        const last = events.at(-1);
        return {
          // Paging follows the whole log, so a page may hold fewer events than `limit`.
          events: events.filter(visible).map(eventView),
          next: last ? last.position.toString() : (q.after ?? 0n).toString(),
          hasMore: events.length === q.limit,
        };
      },
    );
  };
}
