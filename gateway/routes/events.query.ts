import { z } from 'zod';
import { type RecordedEvent, type RecordedEventJson, toJson } from '../../kernel/envelope.ts';
import type { Principal } from '../../kernel/principal.ts';
import { tenantScopeOf } from '../request-context.ts';
import { positionString } from './shared.ts';

/*
 * What /events, /events/stream and /events/ws share, so that a page and a live feed cannot disagree:
 * the filters (one schema), who may read which event, and what an event looks like on the wire.
 */

const csv = z
  .string()
  .max(1000)
  .transform((s) =>
    s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  );

/** The filters of the event log, as every events route takes them. */
export const eventsFilter = z.object({
  stream: z.string().min(1).max(300).optional().describe('Read one stream, e.g. server-<uuid>'),
  category: csv.optional().describe('Comma-separated stream categories, e.g. server'),
  type: csv.optional().describe('Comma-separated event types, e.g. ServerRegistered'),
  after: positionString.optional().describe('Global log: return events strictly after this position'),
});

/** GET /events: the filters, plus paging within one stream or through the global log. */
export const eventsQuery = eventsFilter
  .extend({
    fromRevision: z.coerce.number().int().min(0).optional().describe('One stream: start at this revision'),
    direction: z.enum(['forwards', 'backwards']).default('forwards'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

/**
 * The live feeds: the same filters; `after` (or Last-Event-ID) is where the feed starts or resumes.
 * A browser's EventSource and WebSocket cannot set headers: `access_token` (RFC 6750 §2.3) is read
 * by the auth plugin on these routes only, and logs and problem documents show it redacted.
 */
export const liveEventsQuery = eventsFilter
  .extend({
    from: z
      .enum(['start', 'now'])
      .default('start')
      .describe(
        'Where a feed without a cursor (`after`, Last-Event-ID) starts: the beginning of the log, or its head now (only what is appended from then on)',
      ),
    access_token: z
      .string()
      .max(8192)
      .optional()
      .describe('Bearer credential, for clients that cannot send an Authorization header'),
  })
  .strict();

export type EventsFilter = z.infer<typeof eventsFilter>;

/**
 * Whether `principal` may read an event: a tenant's principals read the events their tenant's
 * principals caused; administrators, all.
 */
export function eventReadableBy(principal: Principal): (event: RecordedEvent) => boolean {
  const tenant = tenantScopeOf(principal).tenant;
  return (e) => tenant === undefined || e.metadata.tenant === tenant;
}

/** An event as the events routes show it. Secrets never reach an event in clear (DESIGN.md "Events"). */
export function eventView(event: RecordedEvent): RecordedEventJson {
  return toJson(event);
}
