import { setMaxListeners } from 'node:events';
import type { Kysely } from 'kysely';
import type { EventStore, ReadAllOptions } from '../../kernel/event-store.port.ts';
import type { Logger } from '../../kernel/logger.ts';
import { type AppendMode, type AppendTestHooks, appendToStreams } from './append.ts';
import { AppendFeed } from './append-feed.ts';
import type { SqlConnection } from './connection.ts';
import { type HorizonStatus, HorizonWatch, readHorizonStatus } from './horizon.ts';
import { LiveTail } from './live-tail.ts';
import {
  countEventsAfter,
  readAllEvents,
  readCaughtUp,
  readHeadPosition,
  readLogPage,
  readLogPageSerialized,
  readStreamEvents,
  readStreamRevision,
} from './read.ts';
import { DEFAULT_PAGE_SIZE, type EventStoreTables } from './schema.ts';
import { subscribeToAllEvents } from './subscribe.ts';

export type { AppendTestHooks, HorizonStatus };

export interface PostgresEventStoreOptions {
  /** PostgreSQL or PGlite; the schema must be migrated first (`migrateEventStore(connection.db)`). */
  connection: SqlConnection;
  /** How long a live subscription waits for a NOTIFY before reading anyway. Default 500 ms. */
  pollIntervalMs?: number;
  /** Test only: lets a test hold an append's transaction open or make it roll back. */
  testHooks?: AppendTestHooks;
  /** Where the store warns that an open appending transaction holds the log back. */
  logger?: Logger;
  /** How long an appending transaction may hold back readers before the warning. Default 5 s. */
  stallWarnMs?: number;
}

/** The Postgres store also reports what holds back the visible end of its global log. */
export interface PostgresEventStore extends EventStore {
  /**
   * The log's horizon and the appending transaction holding it (its backend pid and age): a reader
   * sees nothing of the log past it until that transaction ends. `ageMs` is the figure to watch.
   */
  horizonStatus(): Promise<HorizonStatus>;
}

/**
 * The event store on PostgreSQL or PGlite (schema `sy_es`), with a gap-safe global log.
 *
 * The store borrows the connection: `close()` ends its subscriptions and its LISTEN, and leaves
 * the connection to its owner (read models and the leader lock share it).
 */
export function createPostgresEventStore(options: PostgresEventStoreOptions): PostgresEventStore {
  const db = options.connection.db as Kysely<EventStoreTables>;
  const watch = new HorizonWatch(db, options.logger, options.stallWarnMs ?? 5_000);
  const feed = new AppendFeed(options.connection);
  const closing = new AbortController();
  // Every live subscription listens on it; a process has a dozen (projections, sagas, runners).
  setMaxListeners(0, closing.signal);
  const readAll: EventStore['readAll'] = (readOptions) => readAllEvents(db, readOptions);
  // PGlite runs one transaction at a time: every committed event is final (read.ts).
  const readPage =
    options.connection.kind === 'pglite'
      ? (readOptions: ReadAllOptions) => readLogPageSerialized(db, readOptions)
      : (readOptions: ReadAllOptions) => readLogPage(db, readOptions);
  const onHeldBack = () => watch.heldBack();
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const tail = new LiveTail({
    feed,
    readPage,
    onHeldBack,
    pollIntervalMs,
    pageSize: DEFAULT_PAGE_SIZE,
    closed: closing.signal,
    logger: options.logger,
  });

  // PGlite: every append is the log's next, and the tail is handed its events instead of reading them.
  const mode: AppendMode = {
    hooks: options.testHooks,
    ...(options.connection.kind === 'pglite' && {
      serialized: { onCommitted: ({ previous, events }) => tail.push(previous, events) },
    }),
  };

  return {
    append: async (stream, events, expected) =>
      (await appendToStreams(db, [{ stream, events, expected }], mode))[0]!,
    appendMany: (appends) => appendToStreams(db, appends, mode),
    readStream: (stream, readOptions) => readStreamEvents(db, stream, readOptions),
    streamRevision: (stream) => readStreamRevision(db, stream),
    readAll,
    subscribeToAll: (subscribeOptions) =>
      subscribeToAllEvents(
        {
          feed,
          tail,
          readPage,
          onHeldBack,
          pollIntervalMs,
          closed: closing.signal,
        },
        subscribeOptions,
      ),
    headPosition: () => readHeadPosition(db),
    caughtUp: (after, position, filter) => readCaughtUp(db, after, position, filter),
    countAfter: (after, filter) => countEventsAfter(db, after, filter),
    horizonStatus: () => readHorizonStatus(db),
    async close() {
      closing.abort();
      await feed.close();
    },
  };
}
