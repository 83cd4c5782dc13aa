import { type CommandMeta, type Decider, type DomainEvent, fold } from './decider.ts';
import type { EventMetadata, RecordedEvent } from './envelope.ts';
import { AppError, WrongExpectedRevisionError } from './errors.ts';
import type { EventStore, StreamAppend } from './event-store.port.ts';
import type { EventTypeRegistry } from './event-types.ts';
import { eventIdFor } from './ids.ts';
import { categoryOf } from './streams.ts';
import { activeTraceparent, inSpan, validTraceparent } from './tracing.ts';

export interface CommandResult {
  stream: string;
  /** Revision of the stream after the command (-1n when the stream still does not exist). */
  revision: bigint;
  /** Global position of the last appended event, when any was appended. */
  position: bigint | undefined;
  /** Events appended by this command (empty for a no-op or a replayed command). */
  events: RecordedEventRef[];
  /** True when this command id had already been handled: nothing new was appended. */
  duplicate: boolean;
}

export interface RecordedEventRef {
  id: string;
  type: string;
}

export interface CommandHandlerDeps {
  store: EventStore;
  registry: EventTypeRegistry;
}

/** The metadata of an event a command appends: who, which tenant, which credential, why. */
export function eventMetadata(meta: CommandMeta, schemaVersion: number): EventMetadata {
  return {
    correlationId: meta.correlationId,
    causationId: meta.commandId,
    actor: meta.actor,
    ...(meta.tenant !== undefined && { tenant: meta.tenant }),
    ...(meta.credential !== undefined && { credential: meta.credential }),
    // The span appending it (a command's, a call's) when tracing is on; else the caller's own.
    traceparent: activeTraceparent() ?? validTraceparent(meta.traceparent),
    schemaVersion,
  };
}

/** The caller's If-Match names a revision the stream is no longer (or not yet) at: 412. */
export function preconditionFailed(stream: string, expected: bigint, actual: bigint): AppError {
  return new AppError(
    'concurrency',
    'COMMAND.PRECONDITION_FAILED',
    `${stream} is at revision ${actual}, not ${expected} (If-Match): read it again`,
    { stream, expected: expected.toString(), actual: actual.toString() },
  );
}

/** Loads an aggregate's events from the store, upcast and validated. */
export async function loadStream<E extends DomainEvent>(
  deps: CommandHandlerDeps,
  stream: string,
): Promise<{ events: E[]; recorded: RecordedEvent[]; revision: bigint | undefined }> {
  const recorded = await deps.store.readStream(stream);
  const events = recorded.map(
    (r) => ({ type: r.type, data: deps.registry.upcast(r.type, r.metadata.schemaVersion, r.data) }) as E,
  );
  const last = recorded.at(-1);
  return { events, recorded, revision: last?.revision };
}

/** What a command found in one stream it reads. */
export interface LoadedStream<E extends DomainEvent = DomainEvent> {
  /** Upcast and validated, in order. */
  events: E[];
  recorded: RecordedEvent[];
  /** Revision of the last event; undefined when the stream does not exist. */
  revision: bigint | undefined;
}

/** What one stream gets from a command. */
export interface StreamWrite {
  stream: string;
  events: readonly DomainEvent[];
}

/** A command over one or more streams (see handleWrites). */
export interface WritePlan {
  /**
   * The streams the command reads and may write. The first is its own: the command id is looked
   * for there, `meta.ifRevision` is its revision, and the result describes it.
   */
  streams: readonly string[];
  /**
   * Decides what each stream gets (its own stream last, so the command's position is its own last
   * event's), from what they hold (and, if it must, from reads of other
   * streams it does not write). Throws an AppError to refuse: nothing is appended. `assumed` is
   * true when `loaded` is what the caller assumed rather than what was read.
   */
  decide(loaded: ReadonlyMap<string, LoadedStream>, assumed: boolean): Promise<StreamWrite[]> | StreamWrite[];
  /**
   * Skips the first reads: the caller knows the streams (it made their ids up, or wrote them a
   * moment ago). A stream that is not as assumed fails the append, and the command is then
   * handled the normal way.
   */
  assumed?: ReadonlyMap<string, LoadedStream>;
  maxRetries?: number;
}

/**
 * The one command handler: load the streams, decide, append every stream's events at the revision
 * read — with `append` for one stream (group-committed where the store does that), with one
 * `appendMany` for several (atomic on PostgreSQL: a server and its name reservation are written
 * together or not at all). A conflict is retried on fresh state, unless the caller named the
 * revision it saw (`meta.ifRevision`): then anything else is refused. A command id already in its
 * own stream returns the original outcome and appends nothing.
 */
export async function handleWrites(
  deps: CommandHandlerDeps,
  plan: WritePlan,
  meta: CommandMeta,
): Promise<CommandResult> {
  const own = plan.streams[0];
  if (own === undefined) throw new Error('a command needs a stream');
  // One span per command; the events it appends name it as their trace parent.
  return inSpan(
    `command ${categoryOf(own)}`,
    {
      traceparent: meta.traceparent,
      attributes: { 'switchyard.stream': own, 'switchyard.command_id': meta.commandId },
    },
    () => writeStreams(deps, plan, own, meta),
  );
}

async function writeStreams(
  deps: CommandHandlerDeps,
  plan: WritePlan,
  own: string,
  meta: CommandMeta,
): Promise<CommandResult> {
  const maxRetries = plan.maxRetries ?? 3;
  for (let attempt = 0; ; attempt++) {
    const assumed = attempt === 0 ? plan.assumed : undefined;
    const loaded = assumed ?? (await loadStreams(deps, plan.streams));
    const mine = loaded.get(own)!;
    const earlier = mine.recorded.filter((r) => r.metadata.causationId === meta.commandId);
    if (earlier.length > 0) {
      const last = earlier.at(-1)!;
      // As the first time: the revision its last event got, not the stream's revision now.
      return {
        stream: own,
        revision: last.revision,
        position: last.position,
        events: earlier.map((r) => ({ id: r.id, type: r.type })),
        duplicate: true,
      };
    }
    if (meta.ifRevision !== undefined && (mine.revision ?? -1n) !== meta.ifRevision) {
      throw preconditionFailed(own, meta.ifRevision, mine.revision ?? -1n);
    }
    const appends = toAppends(deps, own, await plan.decide(loaded, assumed !== undefined), loaded, meta);
    if (appends.length === 0) {
      return {
        stream: own,
        revision: mine.revision ?? -1n,
        position: undefined,
        events: [],
        duplicate: false,
      };
    }
    try {
      const results =
        appends.length === 1
          ? [await deps.store.append(appends[0]!.stream, appends[0]!.events, appends[0]!.expected)]
          : await deps.store.appendMany(appends);
      const ownIndex = appends.findIndex((a) => a.stream === own);
      const positions = results.map((r) => r.position);
      return {
        stream: own,
        revision: ownIndex < 0 ? (mine.revision ?? -1n) : results[ownIndex]!.nextExpectedRevision,
        // biome-ignore lint/complexity/useMathMinMax: positions are bigints, which Math.max refuses
        position: positions.reduce((a, b) => (b > a ? b : a)),
        events: appends.flatMap((a) => a.events.map((e) => ({ id: e.id, type: e.type }))),
        duplicate: ownIndex >= 0 && results[ownIndex]!.duplicate,
      };
    } catch (e) {
      if (e instanceof WrongExpectedRevisionError && attempt < maxRetries) continue;
      throw e;
    }
  }
}

async function loadStreams(
  deps: CommandHandlerDeps,
  streams: readonly string[],
): Promise<Map<string, LoadedStream>> {
  const loaded = await Promise.all(streams.map((s) => loadStream(deps, s)));
  return new Map(streams.map((s, i) => [s, loaded[i]!]));
}

/**
 * The events to append, stream by stream, with ids derived from the command id (so a retry or a
 * second process appends nothing new): `<commandId>/<i>` in the command's own stream, as always,
 * and `<commandId>/<stream>/<i>` in the others.
 */
function toAppends(
  deps: CommandHandlerDeps,
  own: string,
  writes: readonly StreamWrite[],
  loaded: ReadonlyMap<string, LoadedStream>,
  meta: CommandMeta,
): StreamAppend[] {
  const appends: StreamAppend[] = [];
  for (const w of writes) {
    if (w.events.length === 0) continue;
    const at = loaded.get(w.stream);
    if (!at) throw new Error(`a command wrote ${w.stream} without reading it first`);
    const idBase = w.stream === own ? meta.commandId : `${meta.commandId}/${w.stream}`;
    appends.push({
      stream: w.stream,
      expected: at.revision ?? 'no-stream',
      events: w.events.map((e, i) => ({
        id: eventIdFor(idBase, i),
        type: e.type,
        data: deps.registry.validate(e.type, e.data),
        metadata: eventMetadata(meta, deps.registry.currentVersion(e.type)),
      })),
    });
  }
  return appends;
}

/**
 * One command against one stream through its decider: handleWrites with a single stream.
 */
export async function handleCommand<C, E extends DomainEvent, S>(
  deps: CommandHandlerDeps,
  decider: Decider<C, E, S>,
  stream: string,
  command: C,
  meta: CommandMeta,
  options: {
    maxRetries?: number;
    /**
     * The caller knows the stream is new (its id was just made up): decide on the initial state
     * and append with 'no-stream', skipping the read. If the stream exists after all, the append
     * fails and the command is handled the normal way.
     */
    assumeNew?: boolean;
    /**
     * The caller knows the stream's state and revision (it wrote the stream a moment ago): decide
     * on that state and append with that exact revision, skipping the read. Any other writer in
     * between makes the append fail, and the command is then handled the normal way.
     */
    assume?: { state: S; revision: bigint };
  } = {},
): Promise<CommandResult> {
  const assumedState = options.assume?.state ?? (options.assumeNew ? decider.initialState : undefined);
  const assumedRevision = options.assume?.revision;
  return handleWrites(
    deps,
    {
      streams: [stream],
      maxRetries: options.maxRetries,
      ...(assumedState !== undefined && {
        assumed: new Map([[stream, { events: [], recorded: [], revision: assumedRevision }]]),
      }),
      decide: (loaded, assumed) => {
        const state =
          assumed && assumedState !== undefined
            ? assumedState
            : fold(decider, loaded.get(stream)!.events as E[]);
        return [{ stream, events: decider.decide(command, state) }];
      },
    },
    meta,
  );
}
