import { type QueryExecutorProvider, sql } from 'kysely';

type Db = QueryExecutorProvider;

/**
 * Creates empty copies of `tables` under new names (columns, defaults, constraints, indexes), for a
 * rebuild to fill while the originals keep serving reads. A leftover copy from a crashed rebuild
 * with the same name is dropped first.
 */
export async function createTableCopies(db: Db, copies: Readonly<Record<string, string>>): Promise<void> {
  for (const [table, copy] of Object.entries(copies)) {
    await sql`DROP TABLE IF EXISTS ${sql.id(copy)}`.execute(db);
    await sql`CREATE TABLE ${sql.id(copy)} (LIKE ${sql.id(table)} INCLUDING ALL)`.execute(db);
  }
}

/** Drops tables if they exist (the copies of a rebuild that failed). */
export async function dropTables(db: Db, tables: readonly string[]): Promise<void> {
  for (const t of tables) await sql`DROP TABLE IF EXISTS ${sql.id(t)}`.execute(db);
}

/**
 * Puts each copy in place of its original, inside the caller's transaction: readers see the old
 * tables until commit and the new ones after, never neither. Index (and so constraint) names are
 * carried over, so later migrations can still refer to them by name.
 */
export async function swapInCopies(
  trx: QueryExecutorProvider,
  copies: Readonly<Record<string, string>>,
): Promise<void> {
  for (const [table, copy] of Object.entries(copies)) {
    const oldIndexes = await indexesOf(trx, table);
    const newIndexes = await indexesOf(trx, copy);
    await sql`DROP TABLE ${sql.id(table)}`.execute(trx);
    await sql`ALTER TABLE ${sql.id(copy)} RENAME TO ${sql.id(table)}`.execute(trx);
    for (const idx of newIndexes) {
      const match = oldIndexes.findIndex((o) => o.shape === idx.shape);
      if (match === -1) continue;
      const [old] = oldIndexes.splice(match, 1);
      if (old && old.name !== idx.name) {
        await sql`ALTER INDEX ${sql.id(idx.name)} RENAME TO ${sql.id(old.name)}`.execute(trx);
      }
    }
  }
}

async function indexesOf(db: Db, table: string): Promise<Array<{ name: string; shape: string }>> {
  const { rows } = await sql<{ indexname: string; indexdef: string }>`
    SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = current_schema() AND tablename = ${table}
    ORDER BY indexname`.execute(db);
  // `CREATE UNIQUE INDEX servers_pkey ON public.servers USING btree (id)` → what the index is, minus names.
  return rows.map((r) => ({
    name: r.indexname,
    shape: r.indexdef.replace(/^CREATE (UNIQUE )?INDEX \S+ ON \S+ /, 'CREATE $1INDEX ON '),
  }));
}

/** Every row of a table in a stable order, for comparing a rebuild with the live tables. */
export async function tableContents(db: Db, table: string, orderBy: string): Promise<unknown[]> {
  const { rows } = await sql`SELECT * FROM ${sql.id(table)} ORDER BY ${sql.id(orderBy)}`.execute(db);
  return rows;
}
