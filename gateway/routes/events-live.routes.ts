import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { WebSocket } from 'ws';
import type { Authorizer } from '../../domains/access/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import { AppError } from '../../kernel/errors.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { Principal } from '../../kernel/principal.ts';
import { credentialOf, type GatewayAuth } from '../auth/auth.plugin.ts';
import type { GatewayDeps } from '../deps.ts';
import { problem, redactedUrl } from '../error-mapping.ts';
import { type EventsFilter, eventReadableBy, liveEventsQuery } from './events.query.ts';
import { sseSink } from './live-events.sse.ts';
import {
  DEFAULT_LIVE_TIMING,
  followEvents,
  type LiveFeeds,
  type LiveSink,
  type LiveTiming,
  pumpLiveEvents,
} from './live-events.ts';
import { wsSink } from './live-events.ws.ts';
import { positionString } from './shared.ts';

const LIVE_DESCRIPTION =
  'Filters as on /events. Each event carries its global position as its id; to resume, pass the last id seen as `Last-Event-ID` (EventSource does) or as `after`. Only events the caller may read go out. The feed ends with an `end` message saying why (`shutdown`, `slow-consumer`, `unauthorized`, `error`) and the last id sent.';

/**
 * Where a feed starts: Last-Event-ID (what EventSource sends when it reconnects) wins over `after`,
 * so that a reconnect with the page's original URL resumes where it broke off; without either, the
 * start of the log or (`from=now`) its head as the feed opens.
 */
async function startOf(
  request: FastifyRequest,
  q: { after?: bigint | undefined; from?: 'start' | 'now' },
  store: Pick<EventStore, 'headPosition'>,
): Promise<bigint> {
  const header = request.headers['last-event-id'];
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') {
    if (q.after !== undefined) return q.after;
    return q.from === 'now' ? store.headPosition() : 0n;
  }
  const parsed = positionString.safeParse(value.trim());
  if (!parsed.success) {
    throw new AppError(
      'validation',
      'EVENTS.BAD_LAST_EVENT_ID',
      'Last-Event-ID must be an event id (a global position)',
    );
  }
  return parsed.data;
}

/** /events refuses `stream` with other filters; so do the feeds (`after` is their cursor). */
function checkFilter(q: EventsFilter): void {
  if (q.stream && (q.category || q.type)) {
    throw new AppError('validation', 'EVENTS.BAD_QUERY', 'stream cannot be combined with category or type');
  }
}

/**
 * Whether the credential a feed was opened with still holds and still allows reading events; the
 * feed follows the principal it resolves to now (its tenant or roles may have changed).
 */
function recheckOf(auth: GatewayAuth, request: FastifyRequest, reader: Reader) {
  const credential = credentialOf(request);
  return async (): Promise<boolean> => {
    if (auth.mode === 'off') return true;
    const now = await auth.resolver.resolve(credential);
    if (now.id !== reader.principal.id) return false;
    if (!mayRead(auth.authz, now)) return false;
    if (now !== reader.principal) {
      reader.principal = now;
      reader.readable = eventReadableBy(now);
    }
    return true;
  };
}

/** Who a feed is for, as of its last check. */
interface Reader {
  principal: Principal;
  readable: (event: RecordedEvent) => boolean;
}

function mayRead(authz: Authorizer, principal: Principal): boolean {
  return (
    authz.decide(principal, 'events.read', { kind: 'tenant', tenant: principal.tenant }).effect === 'allow'
  );
}

/**
 * /api/v1/events/stream (Server-Sent Events) and /api/v1/events/ws (WebSocket): the event log live,
 * with the filters, the scoping and the event shape of /events (events.query.ts). Every open feed
 * ends when the gateway closes, so that stopping is not held up by clients that never leave.
 */
export function eventsLiveRoutes(
  deps: GatewayDeps,
  feeds: LiveFeeds,
  timing: LiveTiming = DEFAULT_LIVE_TIMING,
): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('preClose', () => feeds.close());

    const run = (request: FastifyRequest, q: EventsFilter, after: bigint, sink: LiveSink) => {
      const reader: Reader = { principal: request.principal, readable: eventReadableBy(request.principal) };
      const pumped = pumpLiveEvents({
        events: (signal) => followEvents(deps.store, q, after, (e) => reader.readable(e), signal),
        sink,
        shutdown: feeds.shutdown,
        stillAllowed: recheckOf(deps.auth, request, reader),
        timing,
        after,
        onError: (e) => request.log.warn({ err: e }, 'live events feed failed'),
      });
      return feeds.track(pumped);
    };

    app.get(
      '/events/stream',
      {
        schema: {
          tags: ['events'],
          summary: 'Follow the event log live (Server-Sent Events)',
          description: LIVE_DESCRIPTION,
          querystring: liveEventsQuery,
        },
      },
      async (request, reply) => {
        const q = request.query;
        checkFilter(q);
        const after = await startOf(request, q, deps.store);
        const headers: Record<string, string | number | string[]> = {};
        for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v;
        reply.hijack();
        await run(request, q, after, sseSink(reply.raw, headers));
      },
    );

    app.route({
      method: 'GET',
      url: '/events/ws',
      schema: {
        tags: ['events'],
        summary: 'Follow the event log live (WebSocket)',
        description: `${LIVE_DESCRIPTION} Messages are JSON: {kind: "event", id, event} and a final {kind: "end", reason, lastEventId}.`,
        querystring: liveEventsQuery,
      },
      handler: async (request, reply) => {
        const body = problem(
          426,
          'EVENTS.UPGRADE_REQUIRED',
          '/api/v1/events/ws speaks WebSocket: send an upgrade request',
          {
            instance: redactedUrl(request.url),
            correlationId: String(request.id),
          },
        );
        return reply.status(426).header('upgrade', 'websocket').type('application/problem+json').send(body);
      },
      wsHandler: (socket: WebSocket, request) => {
        const q = request.query as EventsFilter & { from?: 'start' | 'now' };
        const refuse = (e: unknown) =>
          socket.close(1008, e instanceof Error ? e.message.slice(0, 120) : 'bad request');
        try {
          checkFilter(q);
          startOf(request, q, deps.store).then(
            (after) => void run(request, q, after, wsSink(socket)),
            refuse,
          );
        } catch (e) {
          refuse(e);
        }
      },
    });
  };
}
