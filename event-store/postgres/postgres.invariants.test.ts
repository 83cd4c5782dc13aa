import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent, RecordedEvent } from '../../kernel/envelope.ts';
import { migrateEventStore } from '../../migrations/migrate.ts';
import type { SqlConnection } from '../../runtime/sql.ts';
import { hasPostgres } from '../../test/services.ts';
import type { ContractSubject } from '../event-store.contract.ts';
import type { EventStore } from '../event-store.port.ts';
import { createPostgresEventStore } from './postgres.event-store.ts';
import { MAX_EVENTS_PER_APPEND, POSITION_STRIDE } from './schema.ts';
import { pgliteSubject, pgSubject } from './test-subjects.ts';

type Subject = ContractSubject & { connection: SqlConnection };

const metadata = { correlationId: 'c', causationId: 'k', actor: 'test', schemaVersion: 1 };
const event = (type: string, data: unknown = {}): NewEvent => ({ id: randomUUID(), type, data, metadata });
const stream = () => `inv-${randomUUID()}`;

const targets: Array<[string, () => Promise<Subject>]> = [['PGlite', () => pgliteSubject('memory')]];
if (hasPostgres()) targets.unshift(['pg', pgSubject]);
else console.warn('\n!!! DATABASE_URL not set: Postgres event-store invariants run on PGlite only\n');

describe.each(targets)('Postgres event store invariants (%s)', (_name, factory) => {
  let subject: Subject;
  let store: EventStore;
  let db: SqlConnection['db'];

  beforeAll(async () => {
    subject = await factory();
    store = subject.store;
    db = subject.connection.db;
  });
  afterAll(async () => {
    await subject?.teardown();
  });

  it('rejects UPDATE, DELETE and TRUNCATE on the events table, changing nothing', async () => {
    const s = stream();
    await store.append(s, [event('kept', { v: 1 })], 'no-stream');

    await expect(
      sql`UPDATE sy_es.events SET data = '{"v":2}' WHERE stream = ${s}`.execute(db),
    ).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM sy_es.events WHERE stream = ${s}`.execute(db)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`DELETE FROM sy_es.events WHERE false`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`TRUNCATE sy_es.events`.execute(db)).rejects.toThrow(/append-only/);

    expect((await store.readStream(s)).map((e) => e.data)).toEqual([{ v: 1 }]);
  });

  it('migrating again is a no-op', async () => {
    expect(await migrateEventStore(db)).toEqual([]);
  });

  it('positions are the transaction id times 2^20 plus the index in the append', async () => {
    const s = stream();
    const result = await store.append(s, [event('a'), event('b'), event('c')], 'no-stream');
    const read = await store.readStream(s);
    const base = read[0]!.position;
    expect(base % POSITION_STRIDE).toBe(0n);
    expect(read.map((e) => e.position)).toEqual([base, base + 1n, base + 2n]);
    expect(result.position).toBe(base + 2n);
  });

  it('appends a batch larger than a statement can take as parameters, in one transaction', async () => {
    const s = stream();
    const events = Array.from({ length: 20_000 }, (_, i) => event('bulk', { i }));
    const result = await store.append(s, events, 'no-stream');
    expect(result.nextExpectedRevision).toBe(19_999n);
    const read = await store.readStream(s, { direction: 'backwards', maxCount: 1 });
    expect(read[0]!.data).toEqual({ i: 19_999 });
    expect(read[0]!.position - (await store.readStream(s, { maxCount: 1 }))[0]!.position).toBe(19_999n);
  });

  it('refuses more events than one append can number, before touching the database', async () => {
    const tooMany = new Array<NewEvent>(MAX_EVENTS_PER_APPEND + 1);
    await expect(store.append(stream(), tooMany, 'any')).rejects.toMatchObject({
      kind: 'validation',
      code: 'EVENT_STORE.APPEND_TOO_LARGE',
    });
  });

  it('an event id already stored in another stream is a conflict', async () => {
    const shared = event('a');
    await store.append(stream(), [shared], 'no-stream');
    await expect(store.append(stream(), [shared], 'no-stream')).rejects.toMatchObject({ kind: 'conflict' });
  });

  // Well below the 60 s poll interval, and generous: on a shared server, other sessions' transactions
  // can hold the log back for seconds.
  it('wakes live subscribers without waiting for the poll interval', { timeout: 60_000 }, async () => {
    const quiet = createPostgresEventStore({ connection: subject.connection, pollIntervalMs: 60_000 });
    const s = stream();
    const controller = new AbortController();
    const seen: RecordedEvent[] = [];
    const done = (async () => {
      for await (const e of quiet.subscribeToAll({
        after: await quiet.headPosition(),
        signal: controller.signal,
      })) {
        if (e.stream === s) seen.push(e);
      }
    })();
    await sleep(200);
    const appendedAt = Date.now();
    await store.append(s, [event('ping')], 'no-stream');
    while (seen.length === 0 && Date.now() - appendedAt < 30_000) await sleep(5);
    controller.abort();
    await done;
    await quiet.close();
    expect(seen).toHaveLength(1);
    expect(Date.now() - appendedAt).toBeLessThan(30_000);
  });
});

describe.skipIf(!hasPostgres())('Postgres event store: an in-flight append hides later commits (pg)', () => {
  let subject: Subject;
  beforeAll(async () => {
    subject = await pgSubject();
  });
  afterAll(async () => {
    await subject?.teardown();
  });

  it('does not let a reader past an older transaction that is still open', { timeout: 60_000 }, async () => {
    const { store } = subject;
    const start = await store.headPosition();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const slowStream = stream();
    subject.setBeforeCommit?.(async (s) => {
      if (s !== slowStream) return;
      inside();
      await held;
    });

    // The slow append takes its transaction id first, then stays open.
    const slow = store.append(slowStream, [event('slow')], 'no-stream');
    await entered;
    const fast = await store.append(stream(), [event('fast')], 'no-stream');

    // The fast append committed, but an older transaction may still add events before it.
    expect(await store.readAll({ after: start })).toEqual([]);
    expect(await store.headPosition()).toBe(start);
    expect(await store.countAfter(start)).toBe(0);

    release();
    const slowResult = await slow;
    subject.setBeforeCommit?.(undefined);
    expect(slowResult.position).toBeLessThan(fast.position);
    // Other transactions on the shared server may hold the log back a little longer.
    const deadline = Date.now() + 30_000;
    while ((await store.headPosition()) < fast.position && Date.now() < deadline) await sleep(10);
    const all = await store.readAll({ after: start });
    expect(all.map((e) => e.type)).toEqual(['slow', 'fast']);
    expect(await store.headPosition()).toBe(fast.position);
  });
  it('keeps live subscribers awake when the LISTEN connection is cut', { timeout: 60_000 }, async () => {
    const quiet = createPostgresEventStore({ connection: subject.connection, pollIntervalMs: 60_000 });
    const s = stream();
    const controller = new AbortController();
    const seen: RecordedEvent[] = [];
    const done = (async () => {
      for await (const e of quiet.subscribeToAll({
        after: await quiet.headPosition(),
        signal: controller.signal,
      })) {
        if (e.stream === s) seen.push(e);
      }
    })();
    await sleep(200);
    const { rows } = await sql<{ terminated: boolean }>`
      SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
      WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()
    `.execute(subject.connection.db);
    expect(rows.length).toBeGreaterThan(0);

    await sleep(50);
    const appendedAt = Date.now();
    await subject.store.append(s, [event('after-cut')], 'no-stream');
    while (seen.length === 0 && Date.now() - appendedAt < 30_000) await sleep(10);
    controller.abort();
    await done;
    await quiet.close();
    expect(seen.map((e) => e.type)).toEqual(['after-cut']);
  });
});
