import type { Kysely } from 'kysely';
import type { DataKeyStore, StoredDataKey } from '../../kernel/personal-data.ts';

interface DataKeyRow {
  key_id: string;
  principal_id: string;
  wrapped: string;
}

interface Tables {
  'sy_pd.data_keys': DataKeyRow;
}

/**
 * The principals' wrapped data keys in PostgreSQL or PGlite (`sy_pd.data_keys`, migrated by
 * migratePersonalData). Erasure is a DELETE: the row is gone, not flagged, so no backup taken after
 * it and no reader of this table can bring the key back.
 */
// biome-ignore lint/suspicious/noExplicitAny: the connection is shared with other table sets
export function postgresDataKeys(anyDb: Kysely<any>): DataKeyStore {
  const db = anyDb as Kysely<Tables>;
  const table = 'sy_pd.data_keys' as const;
  const toKey = (r: DataKeyRow): StoredDataKey => ({
    keyId: r.key_id,
    principalId: r.principal_id,
    wrapped: r.wrapped,
  });
  return {
    async keyOf(principalId) {
      const row = await db
        .selectFrom(table)
        .select(['key_id', 'principal_id', 'wrapped'])
        .where('principal_id', '=', principalId)
        .executeTakeFirst();
      return row && toKey(row);
    },
    async keys(keyIds) {
      if (keyIds.length === 0) return [];
      const rows = await db
        .selectFrom(table)
        .select(['key_id', 'principal_id', 'wrapped'])
        .where('key_id', 'in', [...keyIds])
        .execute();
      return rows.map(toKey);
    },
    async create(key) {
      // One key per principal: the first writer wins, a concurrent one gets the winner's key.
      await db
        .insertInto(table)
        .values({ key_id: key.keyId, principal_id: key.principalId, wrapped: key.wrapped })
        .onConflict((oc) => oc.column('principal_id').doNothing())
        .execute();
      const row = await db
        .selectFrom(table)
        .select(['key_id', 'principal_id', 'wrapped'])
        .where('principal_id', '=', key.principalId)
        .executeTakeFirstOrThrow();
      return toKey(row);
    },
    async destroy(principalId) {
      const r = await db.deleteFrom(table).where('principal_id', '=', principalId).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
