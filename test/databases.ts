import type { Kysely } from 'kysely';
import { openPGlite, openPostgres, type SqlConnection } from '../event-store/postgres/connection.ts';
import { createPostgresEventStore } from '../event-store/postgres/postgres.event-store.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import { migrateEventStore } from '../migrations/migrate.ts';
import { migrateReadModels } from '../migrations/read-models/index.ts';
import type { ReadModelTables } from '../projections/db.ts';
import { createTestDatabase, hasPostgres } from './services.ts';

/** Test support: one migrated database holding both the event store and the read models. */
export interface TestDatabase {
  connection: SqlConnection;
  db: Kysely<ReadModelTables>;
  store: EventStore;
  close(): Promise<void>;
}

export interface DatabaseKind {
  label: 'postgres' | 'pglite';
  /** False when the test PostgreSQL is missing; describe blocks skip, and say so. */
  available: () => boolean;
  open(): Promise<TestDatabase>;
}

async function prepare(connection: SqlConnection, cleanup: () => Promise<void>): Promise<TestDatabase> {
  await migrateEventStore(connection.db);
  await migrateReadModels(connection.db);
  const store = createPostgresEventStore({ connection, pollIntervalMs: 50 });
  return {
    connection,
    db: connection.db,
    store,
    async close() {
      await store.close();
      await connection.close();
      await cleanup();
    },
  };
}

/** Real PostgreSQL (a fresh database per call) and PGlite in memory. */
export const databaseKinds: readonly DatabaseKind[] = [
  {
    label: 'postgres',
    available: hasPostgres,
    async open() {
      const database = await createTestDatabase('sy_proj');
      return prepare(openPostgres({ url: database.url }), () => database.drop());
    },
  },
  {
    label: 'pglite',
    available: () => true,
    async open() {
      return prepare(await openPGlite({ dataDir: 'memory://' }), async () => {});
    },
  },
];

/** Says out loud that a suite is skipped, rather than letting it vanish from the count. */
export function warnIfSkipped(kind: DatabaseKind, suite: string): void {
  if (!kind.available()) {
    console.warn(`!!! ${suite} [${kind.label}] SKIPPED: no PostgreSQL (set DATABASE_URL or run Docker)`);
  }
}
