/** An event of the log as the events routes show it (kernel RecordedEventJson). */
export interface LoggedEvent {
  id: string;
  type: string;
  stream: string;
  revision: string;
  position: string;
  data: unknown;
  metadata: {
    correlationId: string;
    causationId: string;
    actor: string;
    tenant?: string;
    credential?: string;
    traceparent?: string;
    schemaVersion: number;
  };
  recordedAt: string;
}

/** GET /events?stream=…: one stream by revision. */
export interface StreamPage {
  stream: string;
  events: LoggedEvent[];
  nextRevision: string | null;
}

/** The filters of the event log, as /events and /events/stream take them. */
export interface EventsFilter {
  category: string;
  type: string;
  stream: string;
  after: string;
}

export const FILTER_KEYS = ['category', 'type', 'stream', 'after'] as const;

export function filterOf(query: URLSearchParams): EventsFilter {
  return {
    category: query.get('category') ?? '',
    type: query.get('type') ?? '',
    stream: query.get('stream') ?? '',
    after: query.get('after') ?? '',
  };
}

/** What the API refuses anyway, said before a request is made ('' when the filter is fine). */
export function filterProblem(f: EventsFilter): string {
  if (f.stream && (f.category || f.type)) return 'A stream cannot be combined with a category or a type.';
  if (f.after && !/^\d{1,19}$/.test(f.after)) return 'After must be a global position (digits only).';
  return '';
}

/** The filter as a query string, without the empty ones. */
export function filterQuery(f: Partial<EventsFilter>): URLSearchParams {
  const q = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const v = f[key]?.trim();
    if (v) q.set(key, v);
  }
  return q;
}

/** The path of one stream's events (`toolcall-<id>`, `server-<id>`), a page from `fromRevision`. */
export const streamPath = (stream: string, fromRevision?: string) =>
  `/events?${new URLSearchParams({ stream, limit: '100', ...(fromRevision && { fromRevision }) })}`;

/** The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`), or undefined. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const m = traceparent?.trim().match(/^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/);
  const id = m?.[1];
  return id && !/^0+$/.test(id) ? id : undefined;
}

/** The distinct trace ids of some events, in order of appearance. */
export const traceIdsOf = (events: LoggedEvent[]): string[] => [
  ...new Set(events.map((e) => traceIdOf(e.metadata.traceparent)).filter((t): t is string => !!t)),
];

/** A link to the events page with some of its query changed (undefined or '' removes a key). */
export function eventsLink(query: URLSearchParams, changes: Record<string, string | undefined>): string {
  const q = new URLSearchParams(query);
  for (const [k, v] of Object.entries(changes)) {
    if (v) q.set(k, v);
    else q.delete(k);
  }
  const s = q.toString();
  return `#/events${s ? `?${s}` : ''}`;
}
