import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPGlite, openPostgres, type SqlConnection } from '../event-store/postgres/connection.ts';
import { createPostgresEventStore } from '../event-store/postgres/postgres.event-store.ts';
import { migrateEventStore } from '../migrations/migrate.ts';
import type { BeforeCommitHook, ContractSubject } from './contracts/event-store.contract.ts';
import { createTestDatabase } from './services.ts';

/** A contract subject over an open, not yet migrated connection; `cleanup` runs after it closes. */
async function subjectOn(
  connection: SqlConnection,
  cleanup: () => Promise<void>,
): Promise<ContractSubject & { connection: SqlConnection }> {
  await migrateEventStore(connection.db);
  let hook: BeforeCommitHook | undefined;
  const store = createPostgresEventStore({
    connection,
    pollIntervalMs: 250,
    testHooks: { beforeCommit: (stream, events) => hook?.(stream, events) ?? Promise.resolve() },
  });
  return {
    store,
    connection,
    setBeforeCommit: (next) => {
      hook = next;
    },
    async teardown() {
      await store.close();
      await connection.close();
      await cleanup();
    },
  };
}

/** The Postgres event store on a fresh database of the test PostgreSQL server. */
export async function pgSubject(): Promise<ContractSubject & { connection: SqlConnection; url: string }> {
  const database = await createTestDatabase('sy_es');
  // Above the contract's 16 concurrent writers, so the pool is not what serializes them.
  return {
    ...(await subjectOn(openPostgres({ url: database.url, max: 24 }), () => database.drop())),
    url: database.url,
  };
}

/** The Postgres event store on PGlite, in memory or in a temporary directory on disk. */
export async function pgliteSubject(
  where: 'memory' | 'disk' = 'memory',
): Promise<ContractSubject & { connection: SqlConnection }> {
  if (where === 'memory') return subjectOn(await openPGlite({ dataDir: 'memory://' }), async () => {});
  const dir = await mkdtemp(join(tmpdir(), 'sy-es-'));
  return subjectOn(await openPGlite({ dataDir: join(dir, 'data') }), () =>
    rm(dir, { recursive: true, force: true }),
  );
}
