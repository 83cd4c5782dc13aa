import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import {
  createPersonalDataVault,
  type DataKeyStore,
  ERASED,
  type PersonalDataVault,
} from '../../kernel/personal-data.ts';
import { createSecretBox } from '../../kernel/secrets.ts';
import { migratePersonalData } from '../../migrations/migrate.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../../test/databases.ts';
import { postgresDataKeys } from './postgres-data-keys.ts';

const event = (data: unknown, n = 1): RecordedEvent => ({
  id: randomUUID(),
  type: 'ToolCallStarted',
  stream: `toolcall-${randomUUID()}`,
  revision: 0n,
  position: BigInt(n),
  data,
  metadata: { correlationId: 'c', causationId: 'k', actor: 'a', schemaVersion: 1 },
  recordedAt: new Date(),
});

/**
 * The personal-data vault on the key store it runs on in production: PGlite (embedded) and real
 * PostgreSQL (distributed). What a reader of the table sees, what erasure leaves, and that another
 * process holding the key in memory forgets it within the documented bound.
 */
describe.each(databaseKinds)('personal-data vault ($label)', (kind) => {
  warnIfSkipped(kind, 'personal-data vault');
  let database: TestDatabase;
  let keys: DataKeyStore;
  const master = createSecretBox(randomBytes(32));
  const clock = fixedClock('2026-12-07T08:00:00Z');
  let vault: PersonalDataVault;
  const alice = randomUUID();
  const bob = randomUUID();

  beforeAll(async () => {
    if (!kind.available()) return;
    database = await kind.open();
    // Twice: on every start, a no-op the second time.
    expect(await migratePersonalData(database.db)).toEqual(['2026-12-07-001-data-keys']);
    expect(await migratePersonalData(database.db)).toEqual([]);
    keys = postgresDataKeys(database.db);
    vault = createPersonalDataVault({ keys, master, clock });
  });
  afterAll(async () => {
    await database?.close();
  });

  it.skipIf(!kind.available())('seals per principal and opens what it sealed', async () => {
    const sealed = await vault.sealFields(alice, { email: 'alice@example.com', n: 3, deep: { a: [1] } });
    expect(Object.keys(sealed)).toEqual(['email', 'n', 'deep']);
    expect(JSON.stringify(sealed)).not.toContain('alice@example.com');
    expect(sealed.email!.$sealed).toMatch(/^pd1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(await vault.open(sealed)).toEqual({ email: 'alice@example.com', n: 3, deep: { a: [1] } });
    // A fresh IV each time: equal values do not give equal blobs.
    expect((await vault.seal(alice, 'x')).$sealed).not.toBe((await vault.seal(alice, 'x')).$sealed);
  });

  it.skipIf(!kind.available())(
    'keeps one wrapped key per principal, outside the log, naming no data',
    async () => {
      await vault.seal(bob, 'bob@example.com');
      const rows = await sql<{ key_id: string; principal_id: string; wrapped: string }>`
      SELECT key_id, principal_id, wrapped FROM sy_pd.data_keys WHERE principal_id IN (${alice}, ${bob})`.execute(
        database.db,
      );
      expect(rows.rows.map((r) => r.principal_id).sort()).toEqual([alice, bob].sort());
      for (const r of rows.rows) expect(r.wrapped).toMatch(/^v1:/);
      // A second process agrees on the principal's key rather than making another.
      const other = createPersonalDataVault({ keys, master, clock });
      const fromOther = await other.seal(alice, 'same key');
      expect(await vault.open(fromOther)).toBe('same key');
    },
  );

  it.skipIf(!kind.available())(
    'erasure destroys the key: everything sealed with it reads as [erased]',
    async () => {
      const carol = randomUUID();
      const before = [
        event({ callId: 'x', arguments: await vault.sealFields(carol, { ssn: '078-05-1120' }) }, 1),
        event({ callId: 'y', arguments: await vault.sealFields(alice, { city: 'Lyon' }) }, 2),
        event({ callId: 'z', arguments: { plain: 1 } }, 3),
      ];
      const opened = await vault.openEvents(before);
      expect(opened.map((e) => (e.data as { arguments: unknown }).arguments)).toEqual([
        { ssn: '078-05-1120' },
        { city: 'Lyon' },
        { plain: 1 },
      ]);
      expect(opened[2]).toBe(before[2]);

      // Another process opened carol's data a moment ago and holds her key in memory.
      const other = createPersonalDataVault({ keys, master, clock, cacheMs: 30_000 });
      expect(await other.open(before[0]!.data)).toEqual({ callId: 'x', arguments: { ssn: '078-05-1120' } });

      expect(await vault.erase(carol)).toBe(1);
      const rows = await sql<{ n: string }>`
      SELECT count(*)::text AS n FROM sy_pd.data_keys WHERE principal_id = ${carol}`.execute(database.db);
      expect(rows.rows[0]?.n).toBe('0');
      const after = await vault.openEvents(before);
      expect(after.map((e) => (e.data as { arguments: unknown }).arguments)).toEqual([
        { ssn: ERASED },
        { city: 'Lyon' },
        { plain: 1 },
      ]);
      // A fresh process (a projector started after the erasure) cannot read it either.
      const fresh = createPersonalDataVault({ keys, master, clock });
      expect(await fresh.open(before[0]!.data)).toEqual({ callId: 'x', arguments: { ssn: ERASED } });
      // The other process forgets it as soon as it hears of the erasure (PrincipalErased)…
      const told = createPersonalDataVault({ keys, master, clock, cacheMs: 30_000 });
      const dave = randomUUID();
      const daves = await vault.seal(dave, 'dave');
      expect(await told.open(daves)).toBe('dave');
      await vault.erase(dave);
      told.forget(dave);
      expect(await told.open(daves)).toBe(ERASED);
      // …and at the latest once its cache bound has passed.
      clock.advance(30_001);
      expect(await other.open(before[0]!.data)).toEqual({ callId: 'x', arguments: { ssn: ERASED } });
      // Erasing again finds nothing left to destroy.
      expect(await vault.erase(carol)).toBe(0);
    },
  );

  it.skipIf(!kind.available())(
    'a blob relabelled to another key, or tampered with, does not open',
    async () => {
      const a = await vault.seal(alice, 'secret of alice');
      const b = await vault.seal(bob, 'x');
      const bobKey = b.$sealed.split('.')[1]!;
      const relabelled = { $sealed: a.$sealed.replace(/^pd1\.[^.]+\./, `pd1.${bobKey}.`) };
      expect(await vault.open(relabelled)).toBe(ERASED);
      const body = a.$sealed.split('.')[2]!;
      const flipped = `${body.slice(0, 20)}${body[20] === 'A' ? 'B' : 'A'}${body.slice(21)}`;
      expect(await vault.open({ $sealed: `pd1.${a.$sealed.split('.')[1]}.${flipped}` })).toBe(ERASED);
    },
  );

  it.skipIf(!kind.available())('a wrong master key cannot unwrap the stored keys', async () => {
    const sealed = await vault.seal(alice, 'x');
    const wrong = createPersonalDataVault({ keys, master: createSecretBox(randomBytes(32)), clock });
    await expect(wrong.open(sealed)).rejects.toThrow(/sealed with key/);
  });
});
