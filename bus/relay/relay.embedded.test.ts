import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPGlite, type SqlConnection } from '../../event-store/postgres/connection.ts';
import { createPostgresEventStore } from '../../event-store/postgres/postgres.event-store.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { migrateEventStore } from '../../migrations/migrate.ts';
import { eventually } from '../../test/contracts/bus.contract.ts';
import { appendMany, readWholeStore } from '../../test/relay.ts';
import type { Bus, Consumer } from '../bus.port.ts';
import { createInProcessBus } from '../in-process/in-process.bus.ts';
import { createInProcessLeaderLock } from './in-process-leader-lock.ts';
import { createRelay, type Relay } from './relay.ts';

/** The embedded mode's wiring: PGlite event store, in-process bus and lock. Needs no services. */
describe('relay: embedded (PGlite store → in-process bus)', () => {
  let connection: SqlConnection;
  let store: EventStore;
  let bus: Bus;
  const relays: Relay[] = [];
  const consumers: Consumer[] = [];

  beforeEach(async () => {
    connection = await openPGlite({ dataDir: 'memory://' });
    await migrateEventStore(connection.db);
    store = createPostgresEventStore({ connection, pollIntervalMs: 100 });
    bus = createInProcessBus({ logger: silentLogger() });
  });

  afterEach(async () => {
    await Promise.allSettled(relays.splice(0).map((r) => r.stop()));
    await Promise.allSettled(consumers.splice(0).map((c) => c.stop()));
    await bus.close();
    await store.close();
    await connection.close();
  });

  it('relays every event once, in store order, across a leader hand-over', async () => {
    const lock = createInProcessLeaderLock();
    const make = () => {
      const r = createRelay({ store, bus, lock, logger: silentLogger(), batchSize: 25, retryMs: 50 });
      relays.push(r);
      return r;
    };
    const seen: RecordedEvent[] = [];
    consumers.push(await bus.consume({ name: 'audit', handler: async (e) => void seen.push(e) }));
    const [a, b] = [make(), make()];
    await a.start();
    await b.start();
    await eventually(() => a.status().leader !== b.status().leader, { what: 'one leader' });
    const [leader, follower] = a.status().leader ? [a, b] : [b, a];

    await appendMany(store, { total: 120, streams: 8, writers: 3 });
    const head = await store.headPosition();
    await eventually(() => leader.status().lastPublishedPosition === head, {
      what: 'the leader to catch up',
    });
    expect(follower.status()).toMatchObject({ leader: false, eventsPublished: 0 });

    await leader.stop();
    await eventually(() => follower.status().leader, { what: 'the follower to take over' });
    await appendMany(store, { total: 60, streams: 8, writers: 3 });
    const end = await store.headPosition();
    await eventually(() => follower.status().lastPublishedPosition === end, {
      what: 'the new leader to catch up',
    });
    expect(follower.status().eventsPublished).toBe(60);

    const all = await readWholeStore(store);
    await eventually(() => seen.length === all.length, { what: 'the consumer to see everything' });
    expect(seen.map((e) => e.id)).toEqual(all.map((e) => e.id));
  });

  it('counts the events of a publish that failed after they reached the bus (an ack timed out)', async () => {
    let failOnce = true;
    const flaky: Bus = {
      ...bus,
      async publish(batch, options) {
        await bus.publish(batch, options);
        if (failOnce) {
          failOnce = false;
          throw new Error('timed out waiting for the last ack');
        }
      },
    };
    const relay = createRelay({
      store,
      bus: flaky,
      lock: createInProcessLeaderLock(),
      logger: silentLogger(),
      batchSize: 25,
      retryMs: 20,
    });
    relays.push(relay);
    await relay.start();
    await appendMany(store, { total: 60, streams: 4, writers: 2 });
    const head = await store.headPosition();
    await eventually(() => relay.status().lastPublishedPosition === head && !failOnce, {
      what: 'the relay to catch up after the failure',
    });
    await eventually(() => relay.status().eventsPublished === 60, { what: 'all 60 counted' });
    expect(relay.status().eventsPublished).toBe(60);
  });
});
