import type { Kysely } from 'kysely';
import { type Processor, startProcessor } from '../event-store/processor.ts';
import { type Clock, systemClock } from '../kernel/clock.ts';
import type { RecordedEvent } from '../kernel/envelope.ts';
import { AppError } from '../kernel/errors.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../kernel/event-types.ts';
import { type Logger, silentLogger } from '../kernel/logger.ts';
import { batchSpans, SpanKind } from '../kernel/tracing.ts';
import { type LiveFeed, storeFeed } from './bus-feed.ts';
import {
  advanceCheckpoint,
  CheckpointMovedError,
  clearFailure,
  ensureCheckpoint,
  nextRebuildNumber,
  readCheckpoint,
  recordFailure,
  resetCheckpoint,
} from './checkpoints.ts';
import type { ReadModelTables } from './db.ts';
import { applyAll, liveTableNames, type Projection, rebuildTableName } from './projection.ts';
import { createQuarantineBook } from './quarantine-book.ts';
import { buildPages } from './rebuild-pages.ts';
import { type ProjectionStatus, readStatus } from './status.ts';
import { createTableCopies, dropTables, swapInCopies } from './tables.ts';

export interface ProjectionRunnerOptions {
  store: EventStore;
  /** The read-model database (migrated with migrateReadModels). */
  db: Kysely<ReadModelTables>;
  projections: readonly Projection[];
  /** When given, events are upcast to their current schema (and validated) before `apply`. */
  registry?: EventTypeRegistry;
  /**
   * When given, the sealed personal data in each batch (kernel/personal-data.ts) is opened after
   * the upcast and before `apply`: read models hold clear text, or ERASED once its key is destroyed.
   * The one place events are opened for the read side, live and in rebuilds alike.
   */
  open?: (events: readonly RecordedEvent[]) => Promise<RecordedEvent[]>;
  clock?: Clock;
  logger?: Logger;
  /** Most events applied in one transaction (default 200). */
  batchSize?: number;
  /**
   * How long a live batch that is not full waits for more events (default 10 ms): a tool call's
   * start and outcome, a few milliseconds apart, then land in one transaction instead of two.
   */
  lingerMs?: number;
  /** Attempts at one event before the projection is marked failed (default 5). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt, capped at 5 s (default 100 ms). */
  retryDelayMs?: number;
  /** How often waitForPosition re-reads the database and the store (default 100 ms). */
  pollIntervalMs?: number;
  /** Where live events come from after catch-up (default: the store's subscription; see bus-feed.ts). */
  liveFeed?: LiveFeed;
}

export type { ProjectionState, ProjectionStatus } from './status.ts';

export interface RebuildResult {
  name: string;
  /** Events applied into the fresh tables. */
  events: number;
  /** Events of the log left out because they are quarantined. */
  quarantined: number;
  durationMs: number;
  /** Checkpoint the swapped-in tables start from (decimal string). */
  checkpoint: string;
}

export interface ProjectionRunner {
  /** Creates missing checkpoints and starts every projection's live loop (catch-up, then live). */
  start(): Promise<void>;
  /** Stops every loop and waits for in-flight batches; a running rebuild is abandoned. */
  stop(): Promise<void>;
  status(): Promise<ProjectionStatus[]>;
  statusOf(name: string): Promise<ProjectionStatus>;
  /**
   * Read-your-writes: true once the projection has applied everything up to `position` — its
   * checkpoint reached it, or no event matching its filter lies between checkpoint and `position`
   * and the store's head is at or past it. False after `timeoutMs`.
   */
  waitForPosition(name: string, position: bigint, timeoutMs: number): Promise<boolean>;
  /**
   * Rebuilds from the event store alone into fresh tables (`<table>__rebuild_<n>`) while the live
   * tables keep serving reads, then — with this process's live loop paused — catches up the last
   * events and swaps the tables and the checkpoint in one transaction.
   */
  rebuild(name: string): Promise<RebuildResult>;
  /** Clears a failure and tries the live loop again at once (after a fix, or a transient error). */
  retry(name: string): Promise<void>;
}

interface Failure {
  error: string;
  eventId: string;
  position: bigint;
  /** `apply`: the live loop is stuck on the event; `rebuild`: a rebuild (for a new version) failed. */
  during: 'apply' | 'rebuild';
}

interface Worker {
  projection: Projection;
  /** Last checkpoint this process knows of; only moved after a commit or a reload. */
  checkpoint: bigint;
  /** The live loop, while it runs here (event-store/processor.ts). */
  processor: Processor | undefined;
  failure: Failure | undefined;
  rebuilding: boolean;
  advanced: Set<() => void>;
}

/**
 * Runs projections: catch-up from the event store, then live from its subscription. Each batch is
 * applied and the checkpoint moved by compare-and-set in one transaction, so every event takes
 * effect exactly once even with several runners on one database: the loser of a race rolls back,
 * reloads the checkpoint and carries on from there. Events at or below the checkpoint are skipped.
 *
 * The live loop is the processor every reader of the log runs on (event-store/processor.ts). A
 * poisoned event (apply keeps throwing) marks its projection failed after `maxAttempts`, with the
 * error and the event in its status, and is retried at the longest backoff; it is not skipped,
 * because a read model that silently missed an event would no longer equal a rebuild from the log.
 * The projection goes live again by itself when the event applies (the cause was fixed), at once on
 * `retry` or `rebuild`, and on an operator's decision to quarantine the event (quarantine-book.ts):
 * from then on the projection skips exactly that event, live and in every rebuild, on every runner —
 * the decision is in the log, so a rebuild still equals the live tables.
 *
 * The live feed is the store's own subscription by default (gap-safe by construction, and it
 * survives a wiped NATS); in distributed mode a durable NATS consumer per projection drives it
 * instead, with the data still read from the store (bus-feed.ts).
 */
export function createProjectionRunner(options: ProjectionRunnerOptions): ProjectionRunner {
  const { store } = options;
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const log = (options.logger ?? silentLogger()).child({ module: 'projections' });
  const batchSize = options.batchSize ?? 200;
  const lingerMs = options.lingerMs ?? 10;
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const liveFeed = options.liveFeed ?? storeFeed(store);
  const shutdown = new AbortController();
  const rebuilds = new Set<Promise<unknown>>();
  const quarantine = createQuarantineBook({ store, logger: log, retryDelayMs });
  let following: Promise<void> | undefined;
  let started = false;

  const workers = new Map<string, Worker>();
  for (const projection of options.projections) {
    if (workers.has(projection.name)) throw new Error(`projection registered twice: ${projection.name}`);
    workers.set(projection.name, {
      projection,
      checkpoint: 0n,
      processor: undefined,
      failure: undefined,
      rebuilding: false,
      advanced: new Set(),
    });
  }

  function worker(name: string): Worker {
    const w = workers.get(name);
    if (!w) throw new AppError('not_found', 'PROJECTION.NOT_FOUND', `no projection named ${name}`, { name });
    return w;
  }

  function upcast(event: RecordedEvent): RecordedEvent {
    const registry = options.registry;
    if (!registry?.has(event.type)) return event;
    return { ...event, data: registry.upcast(event.type, event.metadata.schemaVersion, event.data) };
  }

  /** Upcast, then opened: what `apply` sees of a batch. */
  async function prepare(events: readonly RecordedEvent[]): Promise<RecordedEvent[]> {
    const upcast_ = events.map(upcast);
    return options.open ? options.open(upcast_) : upcast_;
  }

  function moved(w: Worker, position: bigint): void {
    w.checkpoint = position;
    for (const wake of [...w.advanced]) wake();
  }

  /** One batch and its checkpoint, in one transaction. */
  async function commit(w: Worker, events: readonly RecordedEvent[]): Promise<void> {
    const last = events.at(-1);
    if (!last) return;
    const tables = liveTableNames(w.projection);
    // Quarantined events are left out, yet the checkpoint moves past them.
    const applicable = quarantine.applicable(w.projection.name, events);
    const started = new Date();
    // Opened before the transaction: key lookups do not hold the read model's locks.
    const ready = await prepare(applicable);
    await db.transaction().execute(async (trx) => {
      await advanceCheckpoint(trx, w.projection.name, w.checkpoint, last.position, clock.now());
      await applyAll(w.projection, trx, ready, tables);
    });
    batchSpans(
      `project ${w.projection.name}`,
      SpanKind.CONSUMER,
      applicable.map((e) => e.metadata.traceparent),
      started,
      { 'switchyard.projection': w.projection.name, 'switchyard.batch.events': applicable.length },
    );
    moved(w, last.position);
  }

  /**
   * The live loop of a projection: the processor every reader of the log runs on, its checkpoint
   * the projection's row (moved by compare-and-set in the batch's own transaction), its batches
   * the events that arrived together. A batch that fails is applied event by event, so the good
   * ones before a poisoned event land; the poisoned one is retried with backoff, never skipped, and
   * once it has failed `maxAttempts` times the projection is marked failed naming it — until it
   * succeeds (a deploy fixed the cause), `retry` clears it, or an operator quarantines it.
   */
  function startLoop(w: Worker): void {
    if (w.processor || shutdown.signal.aborted) return;
    const name = w.projection.name;
    w.processor = startProcessor({
      name: `projection-${name}`,
      store,
      ...(w.projection.filter && { filter: w.projection.filter }),
      logger: log,
      batchSize,
      lingerMs,
      poisonAfter: maxAttempts,
      retry: { firstMs: retryDelayMs, maxMs: 5_000 },
      checkpoint: {
        async load() {
          const cp = await ensureCheckpoint(db, name, w.projection.version, clock.now());
          moved(w, cp.position);
          await quarantine.load(name);
          return cp.position;
        },
      },
      source: (subscribe) => liveFeed(name, subscribe),
      async handleBatch(events, { failures }) {
        // Stuck on an event: an operator may have quarantined it through another gateway since.
        if (failures >= maxAttempts) await quarantine.load(name);
        await commit(w, events);
      },
      restartOn: (e) => e instanceof CheckpointMovedError,
      async onStuck(event, error) {
        const failure: Failure = {
          error: errorText(error),
          eventId: event.id,
          position: event.position,
          during: 'apply',
        };
        w.failure = failure;
        log.error(
          { projection: name, ...failure, position: failure.position.toString(), err: error },
          'projection failed',
        );
        await recordFailure(db, name, failure, clock.now());
      },
      async onRecovered() {
        if (w.failure?.during !== 'apply') return;
        w.failure = undefined;
        await clearFailure(db, name, clock.now());
      },
    });
  }

  async function stopLoop(w: Worker): Promise<void> {
    const processor = w.processor;
    w.processor = undefined;
    await processor?.stop();
  }

  const pages = { store, db, quarantine, upcast, prepare, batchSize, maxAttempts, retryDelayMs };

  /** Tracked, so that stop() waits for a rebuild to finish or abandon its tables. */
  function rebuild(name: string): Promise<RebuildResult> {
    const running = rebuildOnce(name);
    rebuilds.add(running);
    const forget = () => rebuilds.delete(running);
    running.then(forget, forget);
    return running;
  }

  async function rebuildOnce(name: string): Promise<RebuildResult> {
    const w = worker(name);
    if (w.rebuilding) {
      throw new AppError(
        'conflict',
        'PROJECTION.REBUILD_IN_PROGRESS',
        `projection ${name} is already rebuilding`,
        { name },
      );
    }
    w.rebuilding = true;
    const t0 = performance.now();
    const p = w.projection;
    try {
      await ensureCheckpoint(db, name, p.version, clock.now());
      const n = await nextRebuildNumber(db, name);
      const copies = Object.fromEntries(p.tables.map((t) => [t, rebuildTableName(t, n)]));
      log.info({ projection: name, tables: copies }, 'rebuild started');
      await createTableCopies(db, copies);
      // Decisions taken through any gateway up to now; a later one is read again before giving up.
      await quarantine.load(name);
      const wasRunning = w.processor !== undefined || w.failure !== undefined;
      let paused = false;
      try {
        // The bulk of the work happens while the live loop still serves the old tables.
        const start = { position: 0n, events: 0, quarantined: 0 };
        let progress = await buildPages(pages, p, copies, start, shutdown.signal);
        paused = true;
        await stopLoop(w);
        progress = await buildPages(pages, p, copies, progress, shutdown.signal);
        await db.transaction().execute(async (trx) => {
          await swapInCopies(trx, copies);
          await resetCheckpoint(trx, name, progress.position, p.version, clock.now());
        });
        w.failure = undefined;
        moved(w, progress.position);
        const result = {
          name,
          events: progress.events,
          quarantined: progress.quarantined,
          durationMs: Math.round(performance.now() - t0),
          checkpoint: progress.position.toString(),
        };
        log.info({ projection: name, ...result }, 'rebuild swapped in');
        return result;
      } catch (e) {
        await dropTables(db, Object.values(copies)).catch((err: unknown) =>
          log.warn({ projection: name, err }, 'could not drop the tables of a failed rebuild'),
        );
        log.error({ projection: name, err: e }, 'rebuild failed');
        throw e;
      } finally {
        if (paused && (wasRunning || started) && w.failure === undefined) startLoop(w);
      }
    } finally {
      w.rebuilding = false;
    }
  }

  function statusOf(name: string): Promise<ProjectionStatus> {
    const w = worker(name);
    return readStatus({ db, store, clock, quarantine }, w.projection, () => ({
      rebuilding: w.rebuilding,
      looping: w.processor !== undefined,
      started,
      failure: w.failure,
    }));
  }

  /**
   * A decision about `name` appeared in the log: if this process's loop stopped on an event that is
   * now quarantined, it resumes (skipping it) with no operator restart. A rebuild for a new version
   * that failed is not resumed here: it needs another rebuild, which the decision now lets through.
   */
  async function resumeIfQuarantined(name: string): Promise<void> {
    const w = workers.get(name);
    const failure = w?.failure;
    if (!w || failure?.during !== 'apply' || !quarantine.has(name, failure.eventId)) return;
    if (shutdown.signal.aborted) return;
    log.warn(
      { projection: name, eventId: failure.eventId, position: failure.position.toString() },
      'the event this projection stopped on is quarantined; resuming without it',
    );
    w.failure = undefined;
    await clearFailure(db, name, clock.now());
    // The loop retries the event at its longest backoff: started again, it skips the event now.
    if (!w.processor) return;
    await stopLoop(w);
    startLoop(w);
  }

  /** Waits until the local checkpoint moves, or `ms` pass. */
  function advancedOrTimeout(w: Worker, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        w.advanced.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      w.advanced.add(done);
    });
  }

  async function caughtUpTo(w: Worker, position: bigint): Promise<boolean> {
    const cp = await readCheckpoint(db, w.projection.name);
    const at = cp?.position ?? 0n;
    if (at >= position) return true;
    // One read: the head first and a page after it, as two reads, once answered yes while the event
    // at `position` was not yet readable to the page (the readable end can move back in between).
    return store.caughtUp(at, position, w.projection.filter);
  }

  return {
    async start() {
      if (started) return;
      started = true;
      // From the head before any loop reads its decisions: none taken in between is missed.
      const head = await store.headPosition();
      following = quarantine.follow(head, shutdown.signal, (name) => {
        resumeIfQuarantined(name).catch((err: unknown) =>
          log.error({ projection: name, err }, 'could not resume after a quarantine'),
        );
      });
      for (const w of workers.values()) {
        const cp = await ensureCheckpoint(db, w.projection.name, w.projection.version, clock.now());
        w.checkpoint = cp.position;
        if (cp.lastError !== null) {
          // Failed before this start: try again, since the cause may have been fixed by a deploy.
          await clearFailure(db, w.projection.name, clock.now());
        }
        if (cp.version !== w.projection.version) {
          log.info(
            { projection: w.projection.name, from: cp.version, to: w.projection.version },
            'projection version changed; rebuilding',
          );
          // Reads keep the old tables until the rebuild swaps; the live loop starts after it.
          rebuild(w.projection.name).catch((err: unknown) => {
            // The event it failed on, when it could name one: an operator may quarantine it.
            const at = err instanceof AppError ? err.details : undefined;
            w.failure = {
              error: `rebuild for version ${w.projection.version} failed: ${errorText(err)}`,
              eventId: typeof at?.eventId === 'string' ? at.eventId : '',
              position: typeof at?.position === 'string' ? BigInt(at.position) : 0n,
              during: 'rebuild',
            };
          });
        } else {
          startLoop(w);
        }
      }
    },

    async stop() {
      shutdown.abort();
      await Promise.all([...workers.values()].map(stopLoop));
      await Promise.allSettled([...rebuilds, following]);
    },

    async status() {
      return Promise.all([...workers.keys()].map(statusOf));
    },

    statusOf,

    async waitForPosition(name, position, timeoutMs) {
      const w = worker(name);
      const deadline = Date.now() + timeoutMs;
      let nextFullCheck = 0;
      for (;;) {
        if (w.checkpoint >= position) return true;
        const now = Date.now();
        if (now >= nextFullCheck) {
          // The checkpoint may live in another process, or never reach `position` because no
          // event of this projection is there: ask the database and the store.
          if (await caughtUpTo(w, position)) return true;
          nextFullCheck = Date.now() + pollIntervalMs;
          // The loop may have moved the checkpoint while we asked: that wake-up is already gone.
          if (w.checkpoint >= position) return true;
        }
        const remaining = deadline - Date.now();
        if (remaining <= 0) return false;
        await advancedOrTimeout(w, Math.min(remaining, Math.max(1, nextFullCheck - Date.now())));
      }
    },

    rebuild,

    async retry(name) {
      const w = worker(name);
      w.failure = undefined;
      await clearFailure(db, name, clock.now());
      if (!started) return;
      // Tried again at once, not at the end of the loop's backoff.
      await stopLoop(w);
      startLoop(w);
    },
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
