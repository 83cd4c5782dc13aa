import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openPGlite } from './connection.ts';

/** PGlite on a worker thread and on the event loop behave alike for everything the store uses. */
describe.each([true, false])('PGlite (thread: %s)', (thread) => {
  it('round-trips values, keeps transactions, delivers notifications and keeps error fields', async () => {
    const c = await openPGlite({ dataDir: 'memory://', thread });
    try {
      await sql`CREATE TABLE t (id int PRIMARY KEY, big int8, at timestamptz, doc jsonb, raw bytea)`.execute(
        c.db,
      );
      const at = new Date('2026-12-05T06:00:00.000Z');
      await c.db
        .insertInto('t')
        .values({
          id: 1,
          big: '9007199254740993',
          at,
          doc: JSON.stringify({ a: [1] }),
          raw: Buffer.from([0, 255]),
        })
        .execute();
      const row = await c.db.selectFrom('t').selectAll().executeTakeFirstOrThrow();
      expect(row).toMatchObject({ id: 1, big: '9007199254740993', doc: { a: [1] } });
      expect(new Date(row.at).toISOString()).toBe(at.toISOString());
      expect([...row.raw]).toEqual([0, 255]);

      // A failed transaction leaves nothing, and says why as PostgreSQL does.
      const err = await c.db
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto('t').values({ id: 2 }).execute();
          await trx.insertInto('t').values({ id: 1 }).execute();
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: '23505', constraint: 't_pkey' });
      expect(await c.db.selectFrom('t').select('id').execute()).toEqual([{ id: 1 }]);

      const updated = await c.db.updateTable('t').set({ big: '1' }).where('id', '=', 1).executeTakeFirst();
      expect(updated.numUpdatedRows).toBe(1n);

      const heard: string[] = [];
      const stop = await c.listen('wake', (payload) => heard.push(payload));
      await sql`NOTIFY wake, 'hello'`.execute(c.db);
      for (let i = 0; i < 50 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual(['hello']);
      await stop();
    } finally {
      await c.close();
    }
  });

  it('a COMMIT that fails rejects its transaction, and the session is clean for whoever comes next', async () => {
    const c = await openPGlite({ dataDir: 'memory://', thread });
    try {
      await sql`CREATE TABLE d (k int UNIQUE DEFERRABLE INITIALLY DEFERRED)`.execute(c.db);
      // The unique check runs at COMMIT; the session is lent on as soon as COMMIT is sent, so the
      // queries queued behind the transaction run right after it — outside it.
      const failing = c.db
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto('d').values({ k: 1 }).execute();
          await trx.insertInto('d').values({ k: 1 }).execute();
        })
        .catch((e: unknown) => e);
      const next = c.db.insertInto('d').values({ k: 2 }).execute();
      const after = sql<{
        txid: string | null;
      }>`SELECT pg_current_xact_id_if_assigned()::text AS txid`.execute(c.db);
      expect(await failing).toMatchObject({ code: '23505' });
      await next;
      expect((await after).rows).toEqual([{ txid: null }]);
      expect(await c.db.selectFrom('d').select('k').execute()).toEqual([{ k: 2 }]);

      // A transaction that ran no statement sends nothing; one that throws before any rolls back nothing.
      expect(await c.db.transaction().execute(async () => 'empty')).toBe('empty');
      await expect(
        c.db.transaction().execute(async () => {
          throw new Error('before any statement');
        }),
      ).rejects.toThrow('before any statement');
      expect(await c.db.selectFrom('d').select('k').execute()).toEqual([{ k: 2 }]);
    } finally {
      await c.close();
    }
  });
});
