import type { CommandMeta, Decider, DomainEvent } from './decider.ts';
import type { EventMetadata, NewEvent, RecordedEvent } from './envelope.ts';
import { AppError, WrongExpectedRevisionError } from './errors.ts';
import type { EventStore } from './event-store.port.ts';
import type { EventTypeRegistry } from './event-types.ts';
import { eventIdFor } from './ids.ts';

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
    traceparent: meta.traceparent,
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

/**
 * Runs one command against one stream: load, fold, decide, append with the expected revision.
 * Optimistic-concurrency conflicts are retried (the decision is re-made on fresh state), unless the
 * caller named the revision it saw (`meta.ifRevision`): then anything else is refused. A command
 * id seen before in the stream returns the original outcome and appends nothing.
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
  const maxRetries = options.maxRetries ?? 3;
  for (let attempt = 0; ; attempt++) {
    const assumed =
      attempt > 0
        ? undefined
        : options.assume
          ? { state: options.assume.state, revision: options.assume.revision as bigint | undefined }
          : options.assumeNew
            ? { state: decider.initialState, revision: undefined }
            : undefined;
    const { events, recorded, revision } = assumed
      ? { events: [] as E[], recorded: [], revision: assumed.revision }
      : await loadStream<E>(deps, stream);
    const earlier = recorded.filter((r) => r.metadata.causationId === meta.commandId);
    if (earlier.length > 0) {
      const last = earlier.at(-1)!;
      // As the first time: the revision its last event got, not the stream's revision now.
      return {
        stream,
        revision: last.revision,
        position: last.position,
        events: earlier.map((r) => ({ id: r.id, type: r.type })),
        duplicate: true,
      };
    }
    if (meta.ifRevision !== undefined && (revision ?? -1n) !== meta.ifRevision) {
      throw preconditionFailed(stream, meta.ifRevision, revision ?? -1n);
    }
    const state = assumed
      ? assumed.state
      : events.reduce((s, e) => decider.evolve(s, e), decider.initialState);
    const decided = decider.decide(command, state);
    if (decided.length === 0) {
      return { stream, revision: revision ?? -1n, position: undefined, events: [], duplicate: false };
    }
    const newEvents: NewEvent[] = decided.map((e, i) => ({
      id: eventIdFor(meta.commandId, i),
      type: e.type,
      data: deps.registry.validate(e.type, e.data),
      metadata: eventMetadata(meta, deps.registry.currentVersion(e.type)),
    }));
    try {
      const result = await deps.store.append(stream, newEvents, revision ?? 'no-stream');
      return {
        stream,
        revision: result.nextExpectedRevision,
        position: result.position,
        events: newEvents.map((e) => ({ id: e.id, type: e.type })),
        duplicate: result.duplicate,
      };
    } catch (e) {
      if (e instanceof WrongExpectedRevisionError && attempt < maxRetries) continue;
      throw e;
    }
  }
}
