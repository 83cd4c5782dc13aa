import { randomUUID } from 'node:crypto';
import type { KyselyPlugin, RootOperationNode } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NewEvent, RecordedEvent } from '../../kernel/envelope.ts';
import type { AllFilter, EventStore } from '../../kernel/event-store.port.ts';
import { migrateEventStore } from '../../migrations/migrate.ts';
import { createTestDatabase, hasPostgres } from '../../test/services.ts';
import { openPGlite, openPostgres, type SqlConnection } from './connection.ts';
import { createPostgresEventStore } from './postgres.event-store.ts';

/**
 * The live tail (live-tail.ts): subscriptions at the live end of the log share one read per
 * wake-up, and still each get exactly the events they follow, in order — also one that falls out
 * of the tail's window and must read for itself again.
 */
const metadata = { correlationId: 'c', causationId: 'k', actor: 'test', schemaVersion: 1 };
const event = (type: string): NewEvent => ({ id: randomUUID(), type, data: {}, metadata });

/** Counts the subscriptions' page reads (read.ts readLogPage, readLogPageSerialized) that reach the database. */
function pageReadCounter(): KyselyPlugin & { count: number } {
  const counter = {
    count: 0,
    transformQuery(args: { node: RootOperationNode }) {
      const node = args.node as { kind: string; sqlFragments?: readonly string[] };
      const text = node.kind === 'RawNode' ? (node.sqlFragments?.join('') ?? '') : '';
      if (text.includes('WITH h AS') || text.includes('WITH page AS')) counter.count++;
      return args.node;
    },
    async transformResult<R>(args: { result: R }): Promise<R> {
      return args.result;
    },
  };
  return counter;
}

interface Target {
  connection: SqlConnection;
  drop: () => Promise<void>;
}

const targets: Array<[string, () => Promise<Target>]> = [
  ['PGlite', async () => ({ connection: await openPGlite({ dataDir: 'memory://' }), drop: async () => {} })],
];
if (hasPostgres()) {
  targets.unshift([
    'pg',
    async () => {
      const database = await createTestDatabase('sy_tail');
      return { connection: openPostgres({ url: database.url, max: 24 }), drop: () => database.drop() };
    },
  ]);
} else {
  console.warn('\n!!! DATABASE_URL not set: the live tail is tested on PGlite only\n');
}

describe.each(targets)('the live tail of the Postgres event store (%s)', (name, open) => {
  let target: Target;
  let store: EventStore;
  const reads = pageReadCounter();
  const abort = new AbortController();

  beforeAll(async () => {
    target = await open();
    await migrateEventStore(target.connection.db);
    store = createPostgresEventStore({
      connection: { ...target.connection, db: target.connection.db.withPlugin(reads) },
      pollIntervalMs: 250,
    });
  });
  afterAll(async () => {
    abort.abort();
    await store?.close();
    await target?.connection.close();
    await target?.drop();
  });

  /** Follows the log from `after` into `into` until the test ends; `pause` holds it between events. */
  function follow(
    after: bigint,
    filter: AllFilter | undefined,
    into: RecordedEvent[],
    pause?: () => Promise<void>,
  ): void {
    void (async () => {
      for await (const e of store.subscribeToAll({ after, filter, signal: abort.signal })) {
        into.push(e);
        await pause?.();
      }
    })();
  }

  it('subscriptions at the live end share one read per wake-up and each get exactly their events', async () => {
    const start = await store.headPosition();
    const filters: Array<AllFilter | undefined> = [
      undefined,
      { categories: ['tailalpha'] },
      { categories: ['tailbeta'] },
      { categories: ['tailidle'] },
      { categories: ['tailalpha', 'tailbeta'], types: ['second'] },
      { types: ['first'] },
    ];
    const subscriptions = [...filters, ...filters].map((filter) => ({ filter, seen: [] as RecordedEvent[] }));
    for (const s of subscriptions) follow(start, s.filter, s.seen);
    // Let each read its way to the live end once (a first page of its own each).
    await new Promise((r) => setTimeout(r, 500));

    reads.count = 0;
    const appended: RecordedEvent[] = [];
    const APPENDS = 60;
    for (let i = 0; i < APPENDS; i++) {
      const stream = `${i % 2 === 0 ? 'tailalpha' : 'tailbeta'}-${randomUUID()}`;
      await store.append(stream, [event('first'), event('second')], 'no-stream');
      appended.push(...(await store.readStream(stream)));
    }
    const matches = (e: RecordedEvent, f: AllFilter | undefined) =>
      (!f?.categories || f.categories.includes(e.stream.split('-')[0]!)) &&
      (!f?.types || f.types.includes(e.type));
    for (const s of subscriptions) {
      const expected = appended.filter((e) => matches(e, s.filter)).map((e) => e.id);
      await vi.waitFor(() => expect(s.seen.map((e) => e.id)).toEqual(expected), {
        timeout: 20_000,
        interval: 20,
      });
    }
    // Each on its own would read at least once per append: 12 × 60 = 720 reads. Shared, the tail
    // reads about once per append (more when a read finds a later append still running). On
    // PGlite (one transaction at a time) the store hands the tail what it committed, and the tail
    // reads only when its poll interval passes without news.
    expect(reads.count).toBeLessThan(name === 'PGlite' ? APPENDS / 4 : APPENDS * 3);
  });

  it('hands subscribers each event exactly as a read of the log gives it, key order included', async () => {
    const start = await store.headPosition();
    const seen: RecordedEvent[] = [];
    follow(start, { categories: ['tailshape'] }, seen);
    await new Promise((r) => setTimeout(r, 300));
    const stream = `tailshape-${randomUUID()}`;
    const data = {
      zeta: 1,
      a: { y: [{ d: 1, c: 2 }], b: null },
      ab: 'x',
      é: 1,
      e: 2,
      dup: 1,
      skip: undefined,
    };
    await store.append(stream, [{ ...event('shaped'), data }, event('plain')], 'no-stream');
    await vi.waitFor(() => expect(seen).toHaveLength(2), { timeout: 10_000, interval: 20 });
    const read = await store.readStream(stream);
    const shape = (e: RecordedEvent) =>
      JSON.stringify({ ...e, revision: String(e.revision), position: String(e.position) });
    expect(seen.map(shape)).toEqual(read.map(shape));
  });

  it('a subscription that falls out of the window reads for itself and loses nothing', async () => {
    const start = await store.headPosition();
    const seen: RecordedEvent[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    follow(start, { categories: ['tailslow'] }, seen, () => (seen.length === 1 ? held : Promise.resolve()));
    const live: RecordedEvent[] = [];
    follow(start, { categories: ['tailslow'] }, live);

    const streams = Array.from({ length: 7 }, () => `tailslow-${randomUUID()}`);
    for (const s of streams) {
      await store.append(
        s,
        Array.from({ length: 1_000 }, () => event('bulk')),
        'no-stream',
      );
    }
    await vi.waitFor(() => expect(live).toHaveLength(7_000), { timeout: 30_000, interval: 20 });
    expect(seen).toHaveLength(1);
    release();
    await vi.waitFor(() => expect(seen).toHaveLength(7_000), { timeout: 30_000, interval: 20 });
    const positions = seen.map((e) => e.position);
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(seen.map((e) => e.id)).size).toBe(7_000);
    expect(seen.map((e) => e.id)).toEqual(live.map((e) => e.id));
  });

  it('hands every subscriber the same frozen event, so none can change what another sees', async () => {
    const start = await store.headPosition();
    const a: RecordedEvent[] = [];
    const b: RecordedEvent[] = [];
    follow(start, { categories: ['tailfrozen'] }, a);
    follow(start, { categories: ['tailfrozen'] }, b);
    await new Promise((r) => setTimeout(r, 300));
    await store.append(`tailfrozen-${randomUUID()}`, [{ ...event('x'), data: { n: 1 } }], 'no-stream');
    await vi.waitFor(() => expect([a.length, b.length]).toEqual([1, 1]), { timeout: 10_000, interval: 20 });
    expect(() => {
      (a[0]!.data as { n: number }).n = 2;
    }).toThrow(TypeError);
    expect(b[0]!.data).toEqual({ n: 1 });
  });
});
