import { type Kysely, type Migration, type MigrationResult, Migrator } from 'kysely';
import { eventStoreMigrations } from './event-store/index.ts';
import { personalDataMigrations } from './personal-data/index.ts';

export type { Migration };

/**
 * Applies every pending migration of one set, in name order (names are dated, so that is time
 * order). Each set keeps its own bookkeeping table, so the event store and the read models can live
 * in one database and still migrate independently. Migrations are passed in (imported modules), not
 * read from disk, so they travel with the code whatever the working directory.
 *
 * Throws the first failure; a failed migration's transaction is rolled back.
 * @returns names of the migrations applied by this call.
 */
export async function runMigrations(
  // biome-ignore lint/suspicious/noExplicitAny: migrations are frozen and never see app types
  db: Kysely<any>,
  migrations: Record<string, Migration>,
  tableName: string,
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: tableName,
    migrationLockTableName: `${tableName}_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? '(setup)'} of ${tableName} failed: ${describe(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Brings the event store's schema (`sy_es`) up to date; safe to call on every start. */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen and never see app types
export function migrateEventStore(db: Kysely<any>): Promise<string[]> {
  return runMigrations(db, eventStoreMigrations, 'sy_es_migration');
}

/**
 * Brings the principals' data-key store (`sy_pd`, crypto-shredding) up to date; safe to call on every
 * start. Its own set: whichever event store is configured, the keys live beside the read models.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen and never see app types
export function migratePersonalData(db: Kysely<any>): Promise<string[]> {
  return runMigrations(db, personalDataMigrations, 'sy_pd_migration');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
