/**
 * The event envelope shared by every adapter. See DESIGN.md "Events".
 *
 * `position` is the event's place in the global log. Positions are unique and strictly increasing in
 * global-log order, but not dense: never compute lag by subtracting two positions.
 */
export interface EventMetadata {
  /** Ties together everything caused by one user request. */
  correlationId: string;
  /** Id of the command (or event) that caused this event. */
  causationId: string;
  /** Who issued the command: the authenticated principal's id, or `system:<component>`. */
  actor: string;
  /** The actor's tenant, when the command came from an authenticated principal. */
  tenant?: string | undefined;
  /** The credential the actor used (`api-key:<keyId>`, `oidc:<issuer>#<token id>`), never a secret. */
  credential?: string | undefined;
  /** W3C trace context of the operation that appended the event, when there was one. */
  traceparent?: string | undefined;
  /** Schema version of `data`; upcasters lift older versions on read. */
  schemaVersion: number;
}

/** An event as it is handed to the store for appending. */
export interface NewEvent<D = unknown> {
  id: string;
  type: string;
  data: D;
  metadata: EventMetadata;
}

/** An event as it is read back from the store. */
export interface RecordedEvent<D = unknown> {
  id: string;
  type: string;
  stream: string;
  /** 0-based revision of the event within its stream. */
  revision: bigint;
  /** Global position, see the module comment. */
  position: bigint;
  data: D;
  metadata: EventMetadata;
  recordedAt: Date;
}

/** JSON form of a recorded event (bigints as decimal strings) for HTTP, NATS and logs. */
export interface RecordedEventJson<D = unknown> {
  id: string;
  type: string;
  stream: string;
  revision: string;
  position: string;
  data: D;
  metadata: EventMetadata;
  recordedAt: string;
}

export function toJson<D>(e: RecordedEvent<D>): RecordedEventJson<D> {
  return {
    id: e.id,
    type: e.type,
    stream: e.stream,
    revision: e.revision.toString(),
    position: e.position.toString(),
    data: e.data,
    metadata: e.metadata,
    recordedAt: e.recordedAt.toISOString(),
  };
}

export function fromJson<D>(e: RecordedEventJson<D>): RecordedEvent<D> {
  return {
    ...e,
    revision: BigInt(e.revision),
    position: BigInt(e.position),
    recordedAt: new Date(e.recordedAt),
  };
}
