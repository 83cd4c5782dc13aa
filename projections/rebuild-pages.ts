import type { Kysely } from 'kysely';
import { sleep } from '../kernel/async.ts';
import type { RecordedEvent } from '../kernel/envelope.ts';
import { AppError } from '../kernel/errors.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import type { ReadModelTables } from './db.ts';
import { applyAll, PoisonedEventError, type Projection } from './projection.ts';
import type { QuarantineBook } from './quarantine-book.ts';

export interface RebuildPagesDeps {
  store: EventStore;
  db: Kysely<ReadModelTables>;
  quarantine: QuarantineBook;
  /** Lifts an event to its current schema (and validates it) before `apply`. */
  upcast: (event: RecordedEvent) => RecordedEvent;
  /** What `apply` sees of a page: upcast, then its sealed personal data opened (runner.ts). */
  prepare: (events: readonly RecordedEvent[]) => Promise<RecordedEvent[]>;
  batchSize: number;
  maxAttempts: number;
  retryDelayMs: number;
}

export interface RebuildProgress {
  position: bigint;
  /** Events applied into the fresh tables. */
  events: number;
  /** Events left out because they are quarantined for this projection. */
  quarantined: number;
}

/**
 * Applies the store's events after `from.position` into `tables` (a rebuild's fresh tables), page by
 * page, until a short page says it reached the head. Quarantined events are left out. A page that
 * keeps failing stops the rebuild with an error naming the event at fault, so that an operator can
 * quarantine it and rebuild again.
 */
export async function buildPages(
  deps: RebuildPagesDeps,
  projection: Projection,
  tables: Readonly<Record<string, string>>,
  from: RebuildProgress,
  signal: AbortSignal,
): Promise<RebuildProgress> {
  let { position, events, quarantined } = from;
  for (;;) {
    if (signal.aborted) throw new AppError('unavailable', 'PROJECTION.REBUILD_ABORTED', 'runner stopped');
    const page = await deps.store.readAll({
      after: position,
      maxCount: deps.batchSize,
      filter: projection.filter,
    });
    if (page.length > 0) {
      const applied = await applyPage(deps, projection, page, tables, position, signal);
      position = page.at(-1)!.position;
      events += applied;
      quarantined += page.length - applied;
    }
    if (page.length < deps.batchSize) return { position, events, quarantined };
  }
}

/** One page in one transaction, retried; answers how many of its events were applied. */
async function applyPage(
  deps: RebuildPagesDeps,
  projection: Projection,
  page: readonly RecordedEvent[],
  tables: Readonly<Record<string, string>>,
  after: bigint,
  signal: AbortSignal,
): Promise<number> {
  let reloaded = false;
  for (let attempt = 1; ; attempt++) {
    const kept = deps.quarantine.applicable(projection.name, page);
    try {
      const ready = await deps.prepare(kept);
      await deps.db.transaction().execute(async (trx) => {
        await applyAll(projection, trx, ready, tables);
      });
      return kept.length;
    } catch (e) {
      if (attempt < deps.maxAttempts) {
        await sleep(Math.min(deps.retryDelayMs * 2 ** (attempt - 1), 5_000), signal);
        continue;
      }
      // A decision taken meanwhile, through any gateway, counts: read the projection's stream again.
      if (!reloaded) {
        reloaded = true;
        await deps.quarantine.load(projection.name);
        if (page.some((ev) => kept.includes(ev) && deps.quarantine.has(projection.name, ev.id))) continue;
      }
      const culprit = await culpritOf(deps, projection, kept, tables);
      throw new AppError(
        'internal',
        'PROJECTION.REBUILD_FAILED',
        culprit
          ? `rebuild of ${projection.name} failed: ${culprit.message} (quarantine the event to skip it)`
          : `rebuild of ${projection.name} failed: ${e instanceof Error ? e.message : String(e)}`,
        {
          name: projection.name,
          after: after.toString(),
          ...(culprit && { eventId: culprit.event.id, position: culprit.event.position.toString() }),
        },
      );
    }
  }
}

/** Sent to roll a diagnosis back: it must leave nothing in the tables. */
class DiagnosisDone extends Error {}

/**
 * The event of `events` that `apply` (or its upcast) throws on, found by applying them one at a time
 * in a transaction that is always rolled back; undefined when one at a time they all go through.
 */
async function culpritOf(
  deps: RebuildPagesDeps,
  projection: Projection,
  events: readonly RecordedEvent[],
  tables: Readonly<Record<string, string>>,
): Promise<PoisonedEventError | undefined> {
  try {
    await deps.db.transaction().execute(async (trx) => {
      for (const event of events) {
        try {
          await projection.apply(trx, deps.upcast(event), tables);
        } catch (e) {
          throw new PoisonedEventError(event, e);
        }
      }
      throw new DiagnosisDone();
    });
  } catch (e) {
    if (e instanceof PoisonedEventError) return e;
  }
  return undefined;
}
