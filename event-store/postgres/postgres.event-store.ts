import { setMaxListeners } from 'node:events';
import type { Kysely } from 'kysely';
import type { SqlConnection } from '../../runtime/sql.ts';
import type { EventStore } from '../event-store.port.ts';
import { type AppendTestHooks, appendEvents } from './append.ts';
import {
  countEventsAfter,
  hasHeldBackEvents,
  readAllEvents,
  readHeadPosition,
  readStreamEvents,
  readStreamRevision,
} from './read.ts';
import type { EventStoreTables } from './schema.ts';
import { AppendFeed, subscribeToAllEvents } from './subscribe.ts';

export type { AppendTestHooks };

export interface PostgresEventStoreOptions {
  /** PostgreSQL or PGlite; the schema must be migrated first (`migrateEventStore(connection.db)`). */
  connection: SqlConnection;
  /** How long a live subscription waits for a NOTIFY before reading anyway. Default 500 ms. */
  pollIntervalMs?: number;
  /** Test only: lets a test hold an append's transaction open or make it roll back. */
  testHooks?: AppendTestHooks;
}

/**
 * The event store on PostgreSQL or PGlite (schema `sy_es`), with a gap-safe global log.
 *
 * The store borrows the connection: `close()` ends its subscriptions and its LISTEN, and leaves
 * the connection to its owner (read models and the leader lock share it).
 */
export function createPostgresEventStore(options: PostgresEventStoreOptions): EventStore {
  const db = options.connection.db as Kysely<EventStoreTables>;
  const feed = new AppendFeed(options.connection);
  const closing = new AbortController();
  // Every live subscription listens on it; a process has a dozen (projections, sagas, runners).
  setMaxListeners(0, closing.signal);
  const readAll: EventStore['readAll'] = (readOptions) => readAllEvents(db, readOptions);

  return {
    append: (stream, events, expected) => appendEvents(db, stream, events, expected, options.testHooks),
    readStream: (stream, readOptions) => readStreamEvents(db, stream, readOptions),
    streamRevision: (stream) => readStreamRevision(db, stream),
    readAll,
    subscribeToAll: (subscribeOptions) =>
      subscribeToAllEvents(
        {
          feed,
          readAll,
          hasHeldBack: (after, filter) => hasHeldBackEvents(db, after, filter),
          pollIntervalMs: options.pollIntervalMs ?? 500,
          closed: closing.signal,
        },
        subscribeOptions,
      ),
    headPosition: () => readHeadPosition(db),
    countAfter: (after, filter) => countEventsAfter(db, after, filter),
    async close() {
      closing.abort();
      await feed.close();
    },
  };
}
