import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgres, type SqlConnection } from '../../event-store/postgres/connection.ts';
import { createPostgresEventStore } from '../../event-store/postgres/postgres.event-store.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { migrateEventStore } from '../../migrations/migrate.ts';
import { eventually } from '../../test/contracts/bus.contract.ts';
import { appendMany, deleteStreams, duplicates, readWholeBus, readWholeStore } from '../../test/relay.ts';
import { createTestDatabase, services, uniqueName } from '../../test/services.ts';
import type { Bus, BusNames } from '../bus.port.ts';
import { createNatsBus } from '../nats/nats.bus.ts';
import { createPostgresLeaderLock } from './postgres-leader-lock.ts';
import { createRelay, type Relay } from './relay.ts';

const { databaseUrl, natsUrl } = services();
const missing = !databaseUrl || !natsUrl;
if (missing) console.warn('!!! DATABASE_URL or NATS_URL missing: the relay integration tests are SKIPPED');

const logger = silentLogger();
// Short, so that a relay resuming from anywhere but the bus's last message would show duplicates
// instead of having JetStream's dedup hide them.
const DUPLICATE_WINDOW_MS = 1000;

describe.skipIf(missing)('relay: Postgres event store → NATS JetStream', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let connection: SqlConnection;
  let store: EventStore;
  let bus: Bus;
  let names: BusNames;
  let lockName: string;
  const relays: Relay[] = [];

  beforeEach(async () => {
    database = await createTestDatabase('sy_relay');
    connection = openPostgres({ url: database.url, max: 12 });
    await migrateEventStore(connection.db);
    store = createPostgresEventStore({ connection, pollIntervalMs: 100 });
    const id = uniqueName('relay');
    names = {
      subjectPrefix: id,
      eventsStream: `${id}_EVENTS`.toUpperCase(),
      deadLetterStream: `${id}_DLQ`.toUpperCase(),
    };
    bus = await createNatsBus({ url: natsUrl, names, logger, duplicateWindowMs: DUPLICATE_WINDOW_MS });
    lockName = uniqueName('relay_lock');
  });

  afterEach(async () => {
    await Promise.allSettled(relays.splice(0).map((r) => r.stop()));
    await bus.close();
    await deleteStreams(natsUrl, names);
    await store.close();
    await connection.close();
    await database.drop();
  });

  function relay(checkpoint?: { load(): Promise<bigint>; save(p: bigint): Promise<void> }): Relay {
    const r = createRelay({
      store,
      bus,
      lock: createPostgresLeaderLock({ url: database.url, logger, retryMs: 100 }),
      logger,
      lockName,
      batchSize: 100,
      retryMs: 100,
      maxRetryMs: 1000,
      ...(checkpoint ? { checkpoint } : {}),
    });
    relays.push(r);
    return r;
  }

  /**
   * Waits until all `expected` events are readable in the store and the bus ends with the last one.
   * Counting first matters: the store's head lags while any transaction on the server (of any
   * database, e.g. a parallel test) is older than the latest append.
   */
  async function caughtUp(expected: number, timeoutMs = 60_000): Promise<void> {
    await eventually(
      async () => {
        if ((await store.countAfter(0n)) !== expected) return false;
        return (await bus.lastPublished())?.position === (await store.headPosition());
      },
      { timeoutMs, what: `the bus to reach the store head (${expected} events)` },
    );
  }

  async function expectBusEqualsStore(): Promise<void> {
    const [inStore, onBus] = await Promise.all([readWholeStore(store), readWholeBus(natsUrl, names)]);
    expect(duplicates(onBus)).toEqual([]);
    expect(onBus.length).toBe(inStore.length);
    expect(onBus.map((e) => e.id)).toEqual(inStore.map((e) => e.id));
    expect(onBus.map((e) => e.position)).toEqual(inStore.map((e) => e.position));
  }

  it('has one active relay; the other takes over when the leader stops', async () => {
    const a = relay();
    const b = relay();
    await a.start();
    await eventually(() => a.status().leader, { what: 'relay a to lead' });
    await b.start();
    await appendMany(store, { total: 200, streams: 10, writers: 4 });
    await caughtUp(200);
    // The relay counts a batch once its acks are in, a moment after the bus shows the messages.
    await eventually(() => a.status().eventsPublished === 200, { what: 'relay a to count 200' });
    expect(a.status().leader).toBe(true);
    expect(b.status()).toMatchObject({ leader: false, eventsPublished: 0 });

    await a.stop();
    await eventually(() => b.status().leader, { what: 'relay b to take over' });
    await appendMany(store, { total: 150, streams: 10, writers: 4 });
    await caughtUp(350);
    await eventually(() => b.status().eventsPublished === 150, { what: 'relay b to count 150' });
    expect(a.status()).toMatchObject({ leader: false, eventsPublished: 200 });
    await expectBusEqualsStore();
  });

  it('republishes everything after the NATS stream is wiped, even with the checkpoint ahead', async () => {
    const saved: bigint[] = [];
    const r = relay({ load: async () => saved.at(-1) ?? 0n, save: async (p) => void saved.push(p) });
    await r.start();
    await appendMany(store, { total: 120, streams: 6, writers: 3 });
    await caughtUp(120);
    const head = await store.headPosition();
    await eventually(() => saved.at(-1) === head, { what: 'the checkpoint to reach the head' });
    // Monotonic: the checkpoint only ever moves forward, and only after an acked publish.
    expect([...saved].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(saved);

    await deleteStreams(natsUrl, names, 'events');
    await appendMany(store, { total: 30, streams: 6, writers: 3 });
    await caughtUp(150);
    await expectBusEqualsStore();
    expect((await bus.info()).stream.messages).toBe(150);
    await eventually(() => r.status().eventsPublished === 120 + 150, { what: 'the relay to count 270' });
  });

  it('loses and duplicates nothing when relay processes are SIGKILLed mid-flow', {
    timeout: 240_000,
  }, async () => {
    const total = 3000;
    const backlog = 300;
    const progress = { appended: 0 };
    const publishedPosition = async () => (await bus.lastPublished())?.position ?? 0n;
    const progressAfter = (before: bigint, what: string) =>
      eventually(async () => ((await publishedPosition()) > before ? true : undefined), {
        timeoutMs: 90_000,
        what,
      });

    // A backlog first, so the first child is publishing batches when it dies.
    await appendMany(store, { total: backlog, streams: 40, writers: 4, progress });
    let child = startRelayProcess();
    const killedAt: number[] = [];
    let writing: Promise<void> | undefined;
    try {
      await progressAfter(0n, 'the first relay process to publish');
      writing = appendMany(store, { total: total - backlog, streams: 40, writers: 6, pauseMs: 10, progress });
      await eventually(() => progress.appended > backlog, { what: 'concurrent appends' });
      for (let kill = 0; kill < 2; kill++) {
        if (kill > 0) await progressAfter(await publishedPosition(), `relay process ${kill + 1} to publish`);
        child.kill('SIGKILL');
        await exited(child);
        killedAt.push(progress.appended);
        child = startRelayProcess();
      }
      await writing;
      await caughtUp(total, 120_000);
    } finally {
      await writing?.catch(() => {});
      child.kill('SIGTERM');
      await exited(child);
    }
    // The first kill came while events were still being appended and published.
    expect(killedAt[0]).toBeLessThan(total);
    const onBus = await readWholeBus(natsUrl, names);
    expect(onBus.length).toBe(total);
    await expectBusEqualsStore();
  });

  function startRelayProcess(): ChildProcess {
    const script = fileURLToPath(new URL('../../test/fixtures/relay-process.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        NATS_URL: natsUrl,
        SY_SUBJECT_PREFIX: names.subjectPrefix,
        SY_EVENTS_STREAM: names.eventsStream,
        SY_DLQ_STREAM: names.deadLetterStream,
        SY_DUPLICATE_WINDOW_MS: String(DUPLICATE_WINDOW_MS),
        RELAY_LOCK: lockName,
        RELAY_BATCH_SIZE: '50',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[relay ${child.pid}] ${d}`));
    return child;
  }
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
