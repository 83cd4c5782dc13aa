import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent, RecordedEvent } from '../../kernel/envelope.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { Logger } from '../../kernel/logger.ts';
import { migrateEventStore } from '../../migrations/migrate.ts';
import type { ContractSubject } from '../../test/contracts/event-store.contract.ts';
import { pgliteSubject, pgSubject } from '../../test/event-store-subjects.ts';
import { hasPostgres, services } from '../../test/services.ts';
import type { SqlConnection } from './connection.ts';
import { createPostgresEventStore } from './postgres.event-store.ts';
import { MAX_EVENTS_PER_APPEND, POSITION_STRIDE } from './schema.ts';

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

  it('an appendMany is one transaction: one transaction id, events numbered across its streams in order', async () => {
    const [a, b, c] = [stream(), stream(), stream()];
    const results = await store.appendMany([
      { stream: a, events: [event('a1'), event('a2')], expected: 'no-stream' },
      { stream: b, events: [event('b1')], expected: 'no-stream' },
      { stream: c, events: [event('c1'), event('c2'), event('c3')], expected: 'no-stream' },
    ]);
    const positions = [
      ...(await store.readStream(a)),
      ...(await store.readStream(b)),
      ...(await store.readStream(c)),
    ].map((e) => e.position);
    const base = positions[0]!;
    expect(base % POSITION_STRIDE).toBe(0n);
    expect(positions).toEqual([0n, 1n, 2n, 3n, 4n, 5n].map((i) => base + i));
    expect(results.map((r) => r.position)).toEqual([base + 1n, base + 2n, base + 5n]);
  });

  it('appendMany calls sharing streams in opposite orders neither deadlock nor interleave', async () => {
    const [a, b] = [stream(), stream()];
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.appendMany(
          (i % 2 === 0 ? [a, b] : [b, a]).map((s) => ({
            stream: s,
            events: [event(`n${i}`)],
            expected: 'any' as const,
          })),
        ),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    const [inA, inB] = [await store.readStream(a), await store.readStream(b)];
    expect(inA.map((e) => e.revision)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i)));
    // Each call committed both of its events together: the two streams saw the calls in one order.
    expect(inA.map((e) => e.type)).toEqual(inB.map((e) => e.type));
  });

  it('no reader skips an event that concurrent appenders commit out of id order', {
    timeout: 60_000,
  }, async () => {
    // Twelve appenders whose commits interleave, against a reader of pages and a live subscriber.
    // A horizon that passes an appender mid-commit lets a reader move past its events before they
    // are visible: they are then never read (pg_locks once named a committing appender's two locks
    // with two transaction names, and such a run lost a few events in ten thousand).
    const start = await store.headPosition();
    // Long enough on PostgreSQL to catch the old horizon in most runs; PGlite commits one at a time.
    const until = Date.now() + (subject.connection.kind === 'pg' ? 12_000 : 2_000);
    const streams = Array.from({ length: 8 }, stream);
    const pick = () => streams[Math.floor(Math.random() * streams.length)]!;
    let appended = 0;
    const appenders = Array.from({ length: 12 }, async (_, i) => {
      while (Date.now() < until) {
        appended += 2;
        if (i % 2 === 0) await store.append(pick(), [event('one'), event('two')], 'any');
        else
          await store.appendMany([
            { stream: stream(), events: [event('new')], expected: 'no-stream' },
            { stream: pick(), events: [event('more')], expected: 'any' },
          ]);
      }
    });
    let appending = true;
    const pager = async () => {
      const paged: string[] = [];
      let after = start;
      for (;;) {
        const done = !appending;
        const page = await store.readAll({ after, maxCount: 200 });
        for (const e of page) paged.push(e.id);
        after = page.at(-1)?.position ?? after;
        if (page.length < 200 && done) return paged;
      }
    };
    const pagers = Array.from({ length: 4 }, pager);
    const controller = new AbortController();
    const live: string[] = [];
    const subscriber = (async () => {
      for await (const e of store.subscribeToAll({ after: start, signal: controller.signal }))
        live.push(e.id);
    })();
    await Promise.all(appenders);
    appending = false;
    const paged = await Promise.all(pagers);
    const { rows } = await sql<{ id: string }>`
      SELECT id FROM sy_es.events WHERE position > ${start.toString()}::bigint ORDER BY position
    `.execute(db);
    const logged = rows.map((r) => r.id);
    // A bound on the wait, not a measure: a loaded machine may leave the subscriber well behind.
    const deadline = Date.now() + 30_000;
    while (live.length < logged.length && Date.now() < deadline) await sleep(20);
    controller.abort();
    await subscriber;
    expect(logged).toHaveLength(appended);
    for (const p of paged) expect(p).toEqual(logged);
    expect(live).toEqual(logged);
  });

  it('an append whose server backend is ended mid-transaction fails alone; the store carries on', async () => {
    if (subject.connection.kind !== 'pg') return;
    // The pool listens for errors on idle clients only: a checked-out client whose backend ends
    // between two statements used to emit an unhandled 'error' and take the process down.
    subject.setBeforeCommit?.(async () => {
      // The append's own backend: idle in its transaction, after its statement, before COMMIT.
      await sql`
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'idle in transaction' AND query LIKE '%append_many%'
      `.execute(db);
    });
    try {
      const held = store.append(stream(), [event('doomed')], 'no-stream');
      await expect(held).rejects.toThrow();
    } finally {
      subject.setBeforeCommit?.(undefined);
    }
    const s = stream();
    await store.append(s, [event('after')], 'no-stream');
    expect((await store.readStream(s)).map((e) => e.type)).toEqual(['after']);
  });

  it('refuses events from a transaction that did not register as an appender first', async () => {
    const row = (id: string) => sql`
      INSERT INTO sy_es.events (position, tx_id, id, stream, category, revision, type, data, metadata)
      VALUES (pg_current_xact_id()::text::bigint * ${POSITION_STRIDE.toString()}::bigint, pg_current_xact_id(),
              ${id}::uuid, 'rogue-1', 'rogue', 0, 'x', '{}', '{}')`;
    await expect(row(randomUUID()).execute(db)).rejects.toThrow(/register_appender/);
    // Registering after the transaction took an id is too late: readers may already be past it.
    await expect(
      db.transaction().execute(async (trx) => {
        await sql`SELECT pg_current_xact_id()`.execute(trx);
        await sql`SELECT sy_es.register_appender()`.execute(trx);
      }),
    ).rejects.toThrow(/before the transaction takes a transaction id/);
    expect(await store.readStream('rogue-1')).toEqual([]);
  });

  // The poll interval is a minute: only the NOTIFY can deliver the event this soon. The horizon
  // waits for appenders to this log only, so nothing else on a shared server can delay it (it used
  // to wait for the oldest transaction of the whole server, and flaked on CI).
  it('wakes live subscribers without waiting for the poll interval', { timeout: 60_000 }, async () => {
    const quiet = createPostgresEventStore({ connection: subject.connection, pollIntervalMs: 60_000 });
    const s = stream();
    const controller = new AbortController();
    const seen: RecordedEvent[] = [];
    const after = await quiet.headPosition();
    const done = (async () => {
      for await (const e of quiet.subscribeToAll({ after, signal: controller.signal })) {
        if (e.stream === s) seen.push(e);
      }
    })();
    // Not needed for correctness (the subscription LISTENs before its first read, and `after` was
    // fixed before it started), but lets the append land while the subscriber waits, as it would live.
    await sleep(200);
    const appendedAt = Date.now();
    await store.append(s, [event('ping')], 'no-stream');
    while (seen.length === 0 && Date.now() - appendedAt < 10_000) await sleep(5);
    const tookMs = Date.now() - appendedAt;
    controller.abort();
    await done;
    await quiet.close();
    expect(seen).toHaveLength(1);
    expect(tookMs).toBeLessThan(10_000);
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

  it('does not let a reader past an older transaction that is still open, and names it when it lasts', {
    timeout: 60_000,
  }, async () => {
    const { store } = subject;
    const warnings: Array<{ fields: Record<string, unknown>; message: string }> = [];
    const logger = {
      warn: (fields: Record<string, unknown>, message: string) => warnings.push({ fields, message }),
    } as unknown as Logger;
    const watched = createPostgresEventStore({
      connection: subject.connection,
      pollIntervalMs: 100,
      logger,
      stallWarnMs: 300,
    });
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
    // A reader waiting for the fast append is not caught up, whatever it follows: 'slow' may come first.
    expect(await store.caughtUp(start, fast.position)).toBe(false);
    expect(await store.caughtUp(start, fast.position, { types: ['none-such'] })).toBe(false);

    // The store says which backend holds the log, and a held-back subscriber gets it logged.
    const { rows: slowBackend } = await sql<{ pid: number }>`
      SELECT pid FROM pg_stat_activity
      WHERE datname = current_database() AND state = 'idle in transaction' AND backend_xid IS NOT NULL
    `.execute(subject.connection.db);
    expect(slowBackend).toHaveLength(1);
    const status = await watched.horizonStatus();
    expect(status.heldBy?.pid).toBe(slowBackend[0]!.pid);
    expect(status.heldBy?.state).toBe('idle in transaction');
    expect(status.horizon % 2n ** 32n).toBe(status.heldBy?.xid);
    expect(status.horizon * POSITION_STRIDE).toBeLessThan(fast.position);
    const controller = new AbortController();
    const tailed: RecordedEvent[] = [];
    const tail = (async () => {
      for await (const e of watched.subscribeToAll({ after: start, signal: controller.signal }))
        tailed.push(e);
    })();
    const deadline = Date.now() + 10_000;
    while (warnings.length === 0 && Date.now() < deadline) await sleep(20);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toMatchObject({ pid: slowBackend[0]!.pid, state: 'idle in transaction' });
    expect(warnings[0]!.message).toContain(`pid ${slowBackend[0]!.pid}`);
    expect(tailed).toEqual([]);
    expect((await watched.horizonStatus()).ageMs).toBeGreaterThanOrEqual(300);

    release();
    const slowResult = await slow;
    subject.setBeforeCommit?.(undefined);
    expect(slowResult.position).toBeLessThan(fast.position);
    // Nothing else appends to this database: the log is whole the moment the slow append ends.
    const all = await store.readAll({ after: start });
    expect(all.map((e) => e.type)).toEqual(['slow', 'fast']);
    expect(await store.headPosition()).toBe(fast.position);
    expect(await store.caughtUp(start, fast.position, { types: ['none-such'] })).toBe(true);
    expect(await watched.horizonStatus()).toMatchObject({ heldBy: undefined, ageMs: 0 });
    while (tailed.length < 2 && Date.now() < deadline) await sleep(10);
    controller.abort();
    await tail;
    await watched.close();
    expect(tailed.map((e) => e.type)).toEqual(['slow', 'fast']);
  });

  it('is not held back by transactions that do not append to it, here or in another database', {
    timeout: 60_000,
  }, async () => {
    const { store } = subject;
    // An analyst's forgotten session on another database of the server, and one on this database.
    const elsewhere = new pg.Client({ connectionString: services().databaseUrl });
    await elsewhere.connect();
    await elsewhere.query('BEGIN');
    const { rows: opened } = await elsewhere.query<{ pid: number }>(
      'SELECT pg_backend_pid() AS pid, txid_current()',
    );
    const pids = [opened[0]!.pid];
    let endLocal!: () => void;
    const localEnded = new Promise<void>((resolve) => {
      endLocal = resolve;
    });
    let localOpen!: () => void;
    const localOpened = new Promise<void>((resolve) => {
      localOpen = resolve;
    });
    const local = subject.connection.db.connection().execute(async (c) => {
      await sql`BEGIN`.execute(c);
      const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid, txid_current()`.execute(c);
      pids.push(rows[0]!.pid);
      localOpen();
      await localEnded;
      await sql`ROLLBACK`.execute(c);
    });
    try {
      await localOpened;
      const start = await store.headPosition();
      const quiet = createPostgresEventStore({ connection: subject.connection, pollIntervalMs: 60_000 });
      const controller = new AbortController();
      const seen: RecordedEvent[] = [];
      const tail = (async () => {
        for await (const e of quiet.subscribeToAll({ after: start, signal: controller.signal })) seen.push(e);
      })();
      const appended = await store.append(stream(), [event('while-others-idle')], 'no-stream');

      // At once, not after the idle transactions end: they are older, but they append nothing.
      expect((await store.readAll({ after: start })).map((e) => e.type)).toEqual(['while-others-idle']);
      expect(await store.headPosition()).toBe(appended.position);
      expect(await store.countAfter(start)).toBe(1);
      expect(await quiet.horizonStatus()).toMatchObject({ heldBy: undefined, ageMs: 0 });
      const deadline = Date.now() + 10_000;
      while (seen.length === 0 && Date.now() < deadline) await sleep(5);
      controller.abort();
      await tail;
      await quiet.close();
      expect(seen.map((e) => e.type)).toEqual(['while-others-idle']);
      // Both really were open, with transaction ids older than the append, all along.
      const { rows } = await sql<{ xid: string }>`
        SELECT backend_xid::text AS xid FROM pg_stat_activity WHERE pid = ANY(${pids}::int[])
      `.execute(subject.connection.db);
      expect(rows).toHaveLength(2);
      for (const { xid } of rows) expect(BigInt(xid) * POSITION_STRIDE).toBeLessThan(appended.position);
    } finally {
      endLocal();
      await local;
      await elsewhere.query('ROLLBACK');
      await elsewhere.end();
    }
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
