import type { Kysely } from 'kysely';
import type { Clock } from '../kernel/clock.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import { readCheckpoint } from './checkpoints.ts';
import type { ReadModelTables } from './db.ts';
import type { Projection } from './projection.ts';
import type { QuarantineBook, QuarantinedEvent } from './quarantine-book.ts';

/** `live`: caught up; `catching-up`: behind the store; `failed`: stopped on an event, see lastError. */
export type ProjectionState = 'stopped' | 'catching-up' | 'live' | 'rebuilding' | 'failed';

export interface ProjectionStatus {
  name: string;
  version: number;
  state: ProjectionState;
  /** Position of the last event applied (decimal string). */
  checkpoint: string;
  /** Events in the store matching the projection's filter and not yet applied. */
  lagEvents: number;
  /** Age of the oldest unapplied event, 0 when there is none. */
  lagMs: number;
  lastError: string | null;
  failedEvent: { id: string; position: string } | null;
  /** Events an operator quarantined: the projection skips them, live and in every rebuild. */
  quarantined: { count: number; events: QuarantinedEvent[] };
  /** Whether this process runs the projection's live loop (another process may). */
  runningHere: boolean;
}

/** What this process knows of the projection beyond the shared tables (read after them). */
export interface LocalView {
  rebuilding: boolean;
  looping: boolean;
  started: boolean;
  failure: { error: string; eventId: string; position: bigint } | undefined;
}

/**
 * A projection's status: its checkpoint row and its decisions (shared by every process), its lag
 * in the store, and this process's own view of its loop.
 */
export async function readStatus(
  deps: { db: Kysely<ReadModelTables>; store: EventStore; clock: Clock; quarantine: QuarantineBook },
  p: Projection,
  local: () => LocalView,
): Promise<ProjectionStatus> {
  const { db, store, clock, quarantine } = deps;
  const cp = await readCheckpoint(db, p.name);
  const position = cp?.position ?? 0n;
  await quarantine.load(p.name);
  const quarantined = quarantine.list(p.name);
  const lagEvents = await store.countAfter(position, p.filter);
  let lagMs = 0;
  if (lagEvents > 0) {
    const [oldest] = await store.readAll({ after: position, maxCount: 1, filter: p.filter });
    if (oldest) lagMs = Math.max(0, clock.now().getTime() - oldest.recordedAt.getTime());
  }
  const w = local();
  const lastError = cp?.lastError ?? w.failure?.error ?? null;
  const failedId = cp?.failedEventId ?? w.failure?.eventId;
  const failedPosition = cp?.failedPosition ?? w.failure?.position;
  let state: ProjectionState;
  if (w.rebuilding) state = 'rebuilding';
  else if (lastError !== null) state = 'failed';
  else if (w.started && !w.looping) state = 'stopped';
  else state = lagEvents === 0 ? 'live' : 'catching-up';
  return {
    name: p.name,
    version: cp?.version ?? p.version,
    state,
    checkpoint: position.toString(),
    lagEvents,
    lagMs,
    lastError,
    failedEvent:
      failedId && failedPosition !== undefined && failedPosition !== null
        ? { id: failedId, position: failedPosition.toString() }
        : null,
    quarantined: { count: quarantined.length, events: quarantined },
    runningHere: w.looping,
  };
}
