import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrateEventStore } from '../../migrations/migrate.ts';
import { describeEventStoreContract } from '../../test/contracts/event-store.contract.ts';
import { pgliteSubject, pgSubject } from '../../test/event-store-subjects.ts';
import { hasPostgres } from '../../test/services.ts';
import { openPGlite } from './connection.ts';
import { createPostgresEventStore } from './postgres.event-store.ts';

if (hasPostgres()) {
  describeEventStoreContract('Postgres (pg)', pgSubject);
} else {
  console.warn(
    '\n!!! DATABASE_URL not set: the Postgres event-store contract is SKIPPED (PGlite still runs)\n',
  );
  describe.skip('EventStore contract: Postgres (pg) — needs DATABASE_URL', () => {
    it('runs against PostgreSQL', () => {});
  });
}

describeEventStoreContract('PGlite (in memory)', () => pgliteSubject('memory'));

describe('Postgres event store on PGlite on disk', () => {
  // Two PGlite starts on disk and the migrations: slow on a loaded machine.
  it('keeps its events across a restart', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sy-es-'));
    const dataDir = join(dir, 'data');
    const stream = `thing-${randomUUID()}`;
    const id = randomUUID();
    const metadata = { correlationId: 'c', causationId: 'k', actor: 'test', schemaVersion: 1 };
    try {
      const first = await openPGlite({ dataDir });
      await migrateEventStore(first.db);
      const store = createPostgresEventStore({ connection: first });
      const appended = await store.append(
        stream,
        [{ id, type: 'made', data: { n: 1 }, metadata }],
        'no-stream',
      );
      await store.close();
      await first.close();

      const second = await openPGlite({ dataDir });
      expect(await migrateEventStore(second.db)).toEqual([]);
      const reopened = createPostgresEventStore({ connection: second });
      const events = await reopened.readStream(stream);
      expect(events.map((e) => [e.id, e.data, e.position])).toEqual([[id, { n: 1 }, appended.position]]);
      expect(await reopened.headPosition()).toBe(appended.position);
      await reopened.close();
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
