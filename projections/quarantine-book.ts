import {
  operationEventTypeNames,
  PROJECTION_CATEGORY,
  projectionStream,
  registerOperationEvents,
} from '../domains/operations/index.ts';
import { fromPosition, startProcessor } from '../event-store/processor.ts';
import type { RecordedEvent } from '../kernel/envelope.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import { EventTypeRegistry } from '../kernel/event-types.ts';
import type { Logger } from '../kernel/logger.ts';
import { idOf } from '../kernel/streams.ts';

/** An event a projection skips, with the decision that says so. */
export interface QuarantinedEvent {
  eventId: string;
  /** Global position of the event (decimal string). */
  position: string;
  eventType: string;
  stream: string;
  reason: string;
  /** What the projection failed with on it; null when it was quarantined before it was met. */
  error: string | null;
  /** Who decided (the authenticated principal of the command). */
  actor: string;
  quarantinedAt: string;
}

/**
 * The quarantine decisions of every projection as this process last read them. The source of truth
 * is each projection's stream in the log (`projection-<name>`), never this process's memory, so a
 * decision taken through any gateway holds on every runner: `load` reads the stream itself (an
 * append is readable there at once, unlike in the global log, which waits for older transactions),
 * and `follow` tells a runner when a decision appears, to resume a projection stopped on it.
 */
export interface QuarantineBook {
  /** Re-reads the decisions about `projection` from its stream. */
  load(projection: string): Promise<void>;
  has(projection: string, eventId: string): boolean;
  list(projection: string): QuarantinedEvent[];
  /** `events` without those quarantined for `projection`; each one left out is logged at warn. */
  applicable(projection: string, events: readonly RecordedEvent[]): RecordedEvent[];
  /**
   * Follows decisions appended after `after` until `signal` aborts: loads each decided projection
   * again, then calls `decided(projection)`. Survives an unreachable store by resubscribing.
   */
  follow(after: bigint, signal: AbortSignal, decided: (projection: string) => void): Promise<void>;
}

// Decisions are read with their own schemas whatever registry the runner was given.
const decisions = registerOperationEvents(new EventTypeRegistry());
const DECISIONS_FILTER = { categories: [PROJECTION_CATEGORY], types: operationEventTypeNames };

interface Shelf {
  /** Revision of the stream this shelf was folded from (-1n: no stream yet). */
  revision: bigint;
  events: Map<string, QuarantinedEvent>;
}

export function createQuarantineBook(options: {
  store: EventStore;
  logger: Logger;
  /** First delay before resubscribing after an error; doubles, capped at 5 s. */
  retryDelayMs: number;
}): QuarantineBook {
  const { store, logger: log } = options;
  const shelves = new Map<string, Shelf>();

  function fold(recorded: readonly RecordedEvent[]): Map<string, QuarantinedEvent> {
    const events = new Map<string, QuarantinedEvent>();
    for (const r of recorded) {
      if (!decisions.has(r.type)) continue;
      const data = decisions.upcast(r.type, r.metadata.schemaVersion, r.data) as Record<string, unknown>;
      const eventId = String(data.eventId).toLowerCase();
      if (r.type === 'ProjectionEventReleased') {
        events.delete(eventId);
        continue;
      }
      const d = data as Omit<QuarantinedEvent, 'actor'>;
      events.set(eventId, {
        eventId,
        position: d.position,
        eventType: d.eventType,
        stream: d.stream,
        reason: d.reason,
        error: d.error,
        actor: r.metadata.actor,
        quarantinedAt: d.quarantinedAt,
      });
    }
    return events;
  }

  async function load(projection: string): Promise<void> {
    const recorded = await store.readStream(projectionStream(projection));
    const revision = recorded.at(-1)?.revision ?? -1n;
    // Two loads may finish out of order; the one that read more of the stream wins.
    const known = shelves.get(projection);
    if (known && known.revision > revision) return;
    shelves.set(projection, { revision, events: fold(recorded) });
  }

  function has(projection: string, eventId: string): boolean {
    return shelves.get(projection)?.events.has(eventId.toLowerCase()) ?? false;
  }

  async function follow(
    after: bigint,
    signal: AbortSignal,
    decided: (projection: string) => void,
  ): Promise<void> {
    const processor = startProcessor({
      name: 'quarantine decisions',
      store,
      filter: DECISIONS_FILTER,
      checkpoint: fromPosition(after),
      async handle(e) {
        const projection = idOf(e.stream);
        await load(projection);
        decided(projection);
      },
      logger: log,
      retry: { firstMs: options.retryDelayMs },
    });
    if (!signal.aborted)
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    await processor.stop();
  }

  return {
    load,
    has,
    list: (projection) =>
      [...(shelves.get(projection)?.events.values() ?? [])].sort((a, b) =>
        BigInt(a.position) < BigInt(b.position) ? -1 : 1,
      ),
    applicable(projection, events) {
      const quarantined = shelves.get(projection)?.events;
      if (!quarantined || quarantined.size === 0) return [...events];
      return events.filter((e) => {
        const q = quarantined.get(e.id.toLowerCase());
        if (!q) return true;
        log.warn(
          {
            projection,
            eventId: e.id,
            position: e.position.toString(),
            eventType: e.type,
            reason: q.reason,
            decidedBy: q.actor,
          },
          'skipping a quarantined event',
        );
        return false;
      });
    },
    follow,
  };
}
