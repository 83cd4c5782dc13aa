import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../bus/bus.port.ts';
import { createNatsBus } from '../bus/nats/nats.bus.ts';
import { createInProcessLeaderLock } from '../bus/relay/in-process-leader-lock.ts';
import { createRelay, type Relay } from '../bus/relay/relay.ts';
import type { NewEvent } from '../kernel/envelope.ts';
import { silentLogger } from '../kernel/logger.ts';
import { databaseKinds, type TestDatabase } from '../test/databases.ts';
import { hasNats, hasPostgres, services, uniqueName } from '../test/services.ts';
import { busFeed } from './bus-feed.ts';
import type { Projection } from './projection.ts';
import { createProjectionRunner, type ProjectionRunner } from './runner.ts';

const enabled = hasPostgres() && hasNats();
if (!enabled) console.warn('!!! bus-fed projections SKIPPED: needs DATABASE_URL and NATS_URL');

const ledger: Projection = {
  name: 'ledger',
  version: 1,
  filter: { categories: ['ledger'] },
  tables: ['ledger'],
  async apply(trx, event, tables) {
    await sql`INSERT INTO ${sql.id(tables.ledger!)} (event_id) VALUES (${event.id})`.execute(trx);
  },
};

function newEvent(): NewEvent {
  return {
    id: randomUUID(),
    type: 'Entry',
    data: {},
    metadata: { correlationId: 'c', causationId: randomUUID(), actor: 'test', schemaVersion: 1 },
  };
}

/** A projection woken by a watch on JetStream, with its data read from the store. */
describe.skipIf(!enabled)('bus-fed projection [postgres + NATS]', () => {
  let t: TestDatabase;
  let bus: Bus;
  let relay: Relay;
  let runner: ProjectionRunner;
  const prefix = uniqueName('bf').toLowerCase();
  const names = {
    subjectPrefix: prefix,
    eventsStream: prefix.toUpperCase(),
    deadLetterStream: `${prefix.toUpperCase()}_DLQ`,
  };

  const rows = async () =>
    Number((await sql<{ n: string }>`SELECT count(*) AS n FROM ledger`.execute(t.db)).rows[0]!.n);
  const until = async (f: () => Promise<boolean>, ms = 15_000) => {
    const deadline = Date.now() + ms;
    while (!(await f())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    t = await databaseKinds.find((k) => k.label === 'postgres')!.open();
    await sql`CREATE TABLE ledger (event_id uuid PRIMARY KEY)`.execute(t.db);
    bus = await createNatsBus({ url: services().natsUrl, names, logger: silentLogger() });
    relay = createRelay({ store: t.store, bus, lock: createInProcessLeaderLock(), logger: silentLogger() });
    await relay.start();
    runner = createProjectionRunner({
      store: t.store,
      db: t.db,
      projections: [ledger],
      // A long fallback poll: within this test only the bus can wake the projection quickly.
      liveFeed: busFeed({ bus, store: t.store, logger: silentLogger(), fallbackPollMs: 60_000 }),
    });
    await runner.start();
  });

  afterAll(async () => {
    await runner?.stop();
    await relay?.stop();
    const { connect } = await import('nats');
    const nc = await connect({ servers: services().natsUrl });
    const jsm = await nc.jetstreamManager();
    await bus?.close();
    for (const s of [names.eventsStream, names.deadLetterStream])
      await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
    await t?.close();
  });

  it('applies every event exactly once, woken by its watch on the bus', async () => {
    for (let i = 0; i < 20; i++) await t.store.append(`ledger-${i % 4}`, [newEvent(), newEvent()], 'any');
    await until(async () => (await rows()) === 40);
    const info = await bus.info();
    const consumer = info.consumers.find((c) => c.name.startsWith('projections_'));
    expect(consumer).toBeDefined();
    await until(async () => {
      const c = (await bus.info()).consumers.find((x) => x.name.startsWith('projections_'));
      return c?.pending === 0 && c.ackPending === 0;
    });
    const [status] = await runner.status();
    expect(status?.lagEvents).toBe(0);
  });

  it('fills from the store what the bus never delivered', async () => {
    // With the relay stopped nothing reaches NATS; then only the *last* new event is published, as
    // if the bus had lost the four before it. The projection must still apply all five.
    await relay.stop();
    for (let i = 0; i < 5; i++) await t.store.append('ledger-x', [newEvent()], 'any');
    await new Promise((r) => setTimeout(r, 300));
    expect(await rows()).toBe(40);
    // Appends become readable once no older transaction on the server is still open: wait for it.
    let fresh: Awaited<ReturnType<typeof t.store.readAll>> = [];
    await until(async () => {
      fresh = (await t.store.readAll({ filter: { categories: ['ledger'] } })).filter(
        (e) => e.stream === 'ledger-x',
      );
      return fresh.length === 5;
    });
    await bus.publish([fresh.at(-1)!]);
    await until(async () => (await rows()) === 45);
  });
});
