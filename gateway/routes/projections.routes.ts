import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GatewayDeps } from '../deps.ts';
import type { ProjectionDecision } from '../ports.ts';
import { commandMetaOf } from '../request-context.ts';
import { problemResponses, writeAccepted } from './shared.ts';

const nameParams = z.object({ name: z.string().min(1).max(100) });
const eventId = z.guid().describe('Id of the event in the log (GET /api/v1/events, or failedEvent.id)');
const reason = z.string().trim().min(1).max(500).describe('Why: recorded in the log with the decision');
const quarantineBody = z.object({ eventId, reason }).strict();
const releaseBody = z.object({ reason }).strict();

/** /api/v1/projections: read-model status (checkpoint, lag, quarantined events), rebuild, quarantine. */
export function projectionsRoutes(deps: GatewayDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const now = () => new Date();
    const accepted = (d: ProjectionDecision) => ({
      id: d.eventId,
      stream: d.stream,
      revision: d.revision,
      position: d.position,
      duplicate: d.duplicate,
    });

    app.get(
      '/projections',
      {
        schema: {
          tags: ['projections'],
          summary: 'Status of every projection: checkpoint, lag in events and ms, quarantined events',
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
          params: nameParams,
          response: {
            200: z.object({ name: z.string(), events: z.number(), durationMs: z.number() }).loose(),
            ...problemResponses([404, 409]),
          },
        },
      },
      async (request) => deps.projections.rebuild(request.params.name),
    );

    app.post(
      '/projections/:name/quarantine',
      {
        schema: {
          tags: ['projections'],
          summary: 'Quarantine an event the projection cannot apply: it skips that event from then on',
          description:
            'Appends ProjectionEventQuarantined to `projection-<name>`, the caller the actor. The event must be in the log and one the projection reads: the one it stopped on (`failedEvent` in the status), or any other, to let a rebuild through. A projection stopped on that event resumes by itself; every runner skips it, live and in rebuilds. An event already quarantined appends nothing (`position` null). 404 for an unknown projection or event.',
          params: nameParams,
          body: quarantineBody,
          response: problemResponses([400, 404]),
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        const d = await deps.projections.quarantine(
          name,
          request.body,
          commandMetaOf(request, `quarantine:${name}:${request.body.eventId}`, now()),
        );
        return writeAccepted(reply, accepted(d), '/api/v1/projections', undefined);
      },
    );

    app.post(
      '/projections/:name/quarantine/:eventId/release',
      {
        schema: {
          tags: ['projections'],
          summary: 'Release a quarantined event: the next rebuild applies it again',
          description:
            'Appends ProjectionEventReleased, the caller the actor. The live tables, which skipped the event, change only with the next rebuild. 404 when the event is not quarantined.',
          params: nameParams.extend({ eventId }),
          body: releaseBody,
          response: problemResponses([400, 404]),
        },
      },
      async (request, reply) => {
        const { name, eventId: id } = request.params;
        const d = await deps.projections.release(
          name,
          { eventId: id, reason: request.body.reason },
          commandMetaOf(request, `release:${name}:${id}`, now()),
        );
        return writeAccepted(reply, accepted(d), '/api/v1/projections', undefined);
      },
    );
  };
}
