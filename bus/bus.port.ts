import type { RecordedEvent } from '../kernel/envelope.ts';
import type { AllFilter } from '../kernel/event-store.port.ts';

/** Names that let several deployments (or test runs) share one NATS server without colliding. */
export interface BusNames {
  /** First token of every subject: `<prefix>.events.…`, `<prefix>.cmd.…`, `<prefix>.dlq.…`. Default `sy`. */
  subjectPrefix: string;
  /** JetStream stream holding the events. Default `SY_EVENTS`. */
  eventsStream: string;
  /** JetStream stream holding parked (dead-lettered) messages. Default `SY_DLQ`. */
  deadLetterStream: string;
}

export const defaultBusNames: BusNames = {
  subjectPrefix: 'sy',
  eventsStream: 'SY_EVENTS',
  deadLetterStream: 'SY_DLQ',
};

export interface DeliveryInfo {
  /** 1 on first delivery, then 2, 3 … on redelivery. */
  deliveryCount: number;
}

export interface ConsumeOptions {
  /** Durable consumer name; survives restarts of the process. */
  name: string;
  filter?: AllFilter;
  /** Where a newly created durable consumer starts. Existing consumers resume at their ack floor. */
  startAt?: 'all' | 'new';
  /** Deliveries before a failing message is parked on `<prefix>.dlq.<name>` (default 5). */
  maxDeliver?: number;
  /** Base delay before redelivering a failed message, grows per attempt (default 200 ms). */
  retryDelayMs?: number;
  /** Called once per event, in global order; resolve to ack, throw to retry/park. */
  handler: (event: RecordedEvent, info: DeliveryInfo) => Promise<void>;
}

export interface WatchOptions {
  /**
   * Names the watch for operators: `switchyard nats` lists it as a consumer whose name starts with
   * this. Letters, digits, `_` and `-`.
   */
  name: string;
  filter?: AllFilter;
  /**
   * Called with the log position and the subject (`<prefix>.events.<category>.<type>`) of each
   * matching event published after the watch began, in order, as it arrives. It must not throw and
   * should return quickly: delivery does not wait.
   */
  onPosition: (position: bigint, subject: string) => void;
}

export interface Consumer {
  /** Stops delivery; the durable state stays on the server. */
  stop(): Promise<void>;
}

/** A command as it travels from a gateway to a worker. */
export interface CommandMessage {
  category: string;
  name: string;
  payload: unknown;
  headers: Record<string, string>;
}

export interface ServeCommandsOptions {
  /** Serves `<prefix>.cmd.<category>.>`. */
  category: string;
  /** Queue group: each command goes to exactly one member. */
  queue: string;
  /** Returns the reply, or throws (an AppError keeps its kind and code across the wire). */
  handler: (command: CommandMessage) => Promise<unknown>;
}

export interface RequestOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Gives up waiting (requestSubject only): rejects with AppError 'timeout' / BUS.CANCELLED. */
  signal?: AbortSignal;
}

/**
 * A message on a subject of our own under the prefix (core NATS: not stored, at most once). Used by
 * runners for tool execution (`<prefix>.exec.<serverId>`) and per-call side channels.
 */
export interface SubjectMessage {
  /** The subject without the prefix, e.g. `exec.<serverId>`. */
  subject: string;
  payload: unknown;
  headers: Record<string, string>;
}

export interface ServeSubjectOptions {
  /**
   * Subject under the prefix, without it (`exec.<serverId>`). Tokens are letters, digits, `_` and
   * `-`; `*` matches one token and a trailing `>` the rest.
   */
  subject: string;
  /** Queue group: each request goes to one member. Without one every server sees every request. */
  queue?: string;
  /** Returns the reply, or throws (an AppError keeps its kind and code across the wire). */
  handler: (message: SubjectMessage) => Promise<unknown>;
}

export interface SubscribeSubjectOptions {
  /** As for ServeSubjectOptions.subject. */
  subject: string;
  /** Queue group: each message goes to one member. */
  queue?: string;
  /** Called once per message, in the order this bus received them; it must not throw. */
  handler: (message: SubjectMessage) => void;
}

export interface PublishSubjectOptions {
  headers?: Record<string, string>;
}

export interface Closeable {
  close(): Promise<void>;
}

export interface BusConsumerInfo {
  name: string;
  filterSubjects: string[];
  pending: number;
  ackPending: number;
  redelivered: number;
  /** Stream sequence of the ack floor. */
  ackFloor: number;
  delivered: number;
}

export interface BusInfo {
  stream: { name: string; messages: number; bytes: number; firstSeq: number; lastSeq: number };
  subjects: Record<string, number>;
  consumers: BusConsumerInfo[];
  deadLetters: number;
}

/**
 * The message bus. Adapters: NATS JetStream + core request/reply (bus/nats), in-process
 * (bus/in-process). Contract: test/contracts/bus.contract.ts.
 */
export interface Bus {
  readonly names: BusNames;

  /**
   * Publishes events in the given order, each deduplicated by its event id, and resolves only once
   * every one is durably stored. Used by the relay only.
   *
   * `previousId` chains batches: the id the stream's last message must have before the first event
   * (`null`: the stream must be empty). A stream wiped or recreated by anyone between two batches
   * then rejects the next batch instead of silently starting a new history. Omitted: no check.
   */
  publish(events: readonly RecordedEvent[], options?: { previousId?: string | null }): Promise<void>;

  /** The last event stored on the bus (for the relay to reconcile on start), if any. */
  lastPublished(): Promise<{ eventId: string; position: bigint } | undefined>;

  /** Durable, ordered consumption with explicit ack; failing messages are parked, not looped on. */
  consume(options: ConsumeOptions): Promise<Consumer>;

  /**
   * A wake-up signal, not a delivery: "the log has reached position P" for the events matching the
   * filter, for this process only (every watcher sees every position; nothing is shared with the
   * other processes watching under the same name). Nothing is acked or stored for it, and after a
   * reconnect or a wiped stream positions may be missed — a watcher reads the events themselves
   * from the store and keeps a fallback poll. Resolves once positions published from now on reach
   * it; `stop()` ends it.
   */
  watch(options: WatchOptions): Promise<Consumer>;

  serveCommands(options: ServeCommandsOptions): Promise<Closeable>;

  /** Sends a command to one worker of the queue group and waits for its reply. */
  request(category: string, name: string, payload: unknown, options?: RequestOptions): Promise<unknown>;

  /**
   * Serves requests on `<prefix>.<subject>`; resolves once the server knows of the subscription,
   * so a request sent after it finds this responder.
   */
  serveSubject(options: ServeSubjectOptions): Promise<Closeable>;

  /**
   * Request/reply on `<prefix>.<subject>` (a concrete subject). Rejects with AppError 'unavailable'
   * (BUS.NO_RESPONDERS) when nothing listens, 'timeout' (BUS.TIMEOUT) when no reply comes in time.
   */
  requestSubject(subject: string, payload: unknown, options?: RequestOptions): Promise<unknown>;

  /** Fire-and-forget on `<prefix>.<subject>`: delivered to current subscribers, at most once, never stored. */
  publishSubject(subject: string, payload: unknown, options?: PublishSubjectOptions): Promise<void>;

  /**
   * Listens on `<prefix>.<subject>`; resolves once the subscription is registered. Messages
   * published on this bus after that (and, on NATS, by anyone after the server saw it) arrive.
   */
  subscribeSubject(options: SubscribeSubjectOptions): Promise<Closeable>;

  /** Events parked for a consumer (oldest first). */
  deadLetters(consumer?: string): Promise<Array<{ consumer: string; event: RecordedEvent; error: string }>>;

  info(): Promise<BusInfo>;

  close(): Promise<void>;
}

/** `ServerRegistered` → `server-registered`, for subjects. */
export function subjectToken(type: string): string {
  return type
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9-]/g, '-')
    .toLowerCase();
}

/**
 * A category as one subject token. Categories made by `streamName` pass unchanged; anything else
 * (dots, wildcards, spaces from a hand-made stream name) is replaced so the relay can never be
 * stuck on an unpublishable subject.
 */
export function categoryToken(category: string): string {
  const token = category.replace(/[^A-Za-z0-9_-]/g, '_');
  return token === '' ? '_' : token;
}

export function eventSubject(names: BusNames, category: string, type: string): string {
  return `${names.subjectPrefix}.events.${categoryToken(category)}.${subjectToken(type)}`;
}

/** `<prefix>.<subject>`: a subject of our own under the deployment's prefix. */
export function prefixedSubject(names: BusNames, subject: string): string {
  return `${names.subjectPrefix}.${subject}`;
}

export function commandSubject(names: BusNames, category: string, name: string): string {
  return `${names.subjectPrefix}.cmd.${category}.${subjectToken(name)}`;
}

/** Subjects that select the events matching a filter (categories × types; wildcards otherwise). */
export function filterSubjects(names: BusNames, filter?: AllFilter): string[] {
  const cats = filter?.categories?.length ? filter.categories.map(categoryToken) : ['*'];
  const types = filter?.types?.length ? filter.types.map(subjectToken) : ['*'];
  if (cats[0] === '*' && types[0] === '*') return [`${names.subjectPrefix}.events.>`];
  return cats.flatMap((c) => types.map((t) => `${names.subjectPrefix}.events.${c}.${t}`));
}
