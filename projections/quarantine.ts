import type { Kysely } from 'kysely';
import { makeProjectionDecisions, type ProjectionDecisionResult } from '../domains/operations/index.ts';
import type { Clock } from '../kernel/clock.ts';
import type { CommandMeta } from '../kernel/decider.ts';
import type { RecordedEvent } from '../kernel/envelope.ts';
import { AppError } from '../kernel/errors.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../kernel/event-types.ts';
import { readCheckpoint } from './checkpoints.ts';
import type { ReadModelTables } from './db.ts';
import type { Projection } from './projection.ts';

export interface ProjectionQuarantineDeps {
  store: EventStore;
  db: Kysely<ReadModelTables>;
  /** Must know the operations domain's event types (registerOperationEvents). */
  registry: EventTypeRegistry;
  clock: Clock;
  projections: readonly Projection[];
}

export interface ProjectionQuarantine {
  /**
   * Records that projection `name` skips event `eventId` (ProjectionEventQuarantined, the caller the
   * actor). The event must be in the log and be one the projection reads — the one it stopped on, or
   * any other, so that it can be quarantined before a rebuild meets it. Runners act on the decision
   * wherever they run (see quarantine-book.ts). An event already quarantined appends nothing.
   */
  quarantine(
    name: string,
    request: { eventId: string; reason: string },
    meta: CommandMeta,
  ): Promise<ProjectionDecisionResult>;
  /** Lifts a quarantine (ProjectionEventReleased): the next rebuild applies the event again. */
  release(
    name: string,
    request: { eventId: string; reason: string },
    meta: CommandMeta,
  ): Promise<ProjectionDecisionResult>;
}

const PAGE = 1000;

export function makeProjectionQuarantine(deps: ProjectionQuarantineDeps): ProjectionQuarantine {
  const decisions = makeProjectionDecisions(deps);

  function projectionNamed(name: string): Projection {
    const p = deps.projections.find((x) => x.name === name);
    if (!p) throw new AppError('not_found', 'PROJECTION.NOT_FOUND', `no projection named ${name}`, { name });
    return p;
  }

  /** The event, and the error the projection stopped on it with (when it did). */
  async function locate(
    p: Projection,
    eventId: string,
  ): Promise<{ event: RecordedEvent; error: string | null } | undefined> {
    const id = eventId.toLowerCase();
    const cp = await readCheckpoint(deps.db, p.name);
    if (cp?.failedEventId?.toLowerCase() === id && cp.failedPosition !== null && cp.failedPosition > 0n) {
      const [event] = await deps.store.readAll({
        after: cp.failedPosition - 1n,
        maxCount: 1,
        filter: p.filter,
      });
      if (event?.id.toLowerCase() === id) return { event, error: cp.lastError };
    }
    // Any other event: the projection's share of the log, page by page. An operator's act, and rare.
    for (let after = 0n; ; ) {
      const page = await deps.store.readAll({ after, maxCount: PAGE, filter: p.filter });
      const event = page.find((e) => e.id.toLowerCase() === id);
      if (event) return { event, error: null };
      if (page.length < PAGE) return undefined;
      after = page.at(-1)!.position;
    }
  }

  return {
    async quarantine(name, request, meta) {
      const p = projectionNamed(name);
      const found = await locate(p, request.eventId);
      if (!found) {
        throw new AppError(
          'not_found',
          'PROJECTION.EVENT_NOT_FOUND',
          `no event ${request.eventId} among the events projection ${name} reads`,
          { name, eventId: request.eventId },
        );
      }
      return decisions.quarantine(
        {
          projection: p.name,
          eventId: found.event.id,
          position: found.event.position,
          eventType: found.event.type,
          stream: found.event.stream,
          reason: request.reason,
          error: found.error,
        },
        meta,
      );
    },

    async release(name, request, meta) {
      const p = projectionNamed(name);
      return decisions.release(
        { projection: p.name, eventId: request.eventId, reason: request.reason },
        meta,
      );
    },
  };
}
