import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../kernel/envelope.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import { silentLogger } from '../kernel/logger.ts';
import { databaseKinds, type TestDatabase } from '../test/databases.ts';
import { until } from '../test/e2e/program.ts';
import { newEvent } from '../test/relay.ts';
import { fromPosition, startProcessor } from './processor.ts';

/** The one way to follow the log: nothing skipped, nothing stops it for good. */
describe('startProcessor', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await databaseKinds.find((k) => k.label === 'pglite')!.open();
  });
  afterAll(() => t?.close());

  const append = (stream: string, type = 'ThingHappened') => t.store.append(stream, [newEvent(type)], 'any');
  const fast = { firstMs: 5, maxMs: 20 };

  it('hands every matching event over in order, saving the checkpoint after each', async () => {
    const start = await t.store.headPosition();
    const seen: string[] = [];
    const saved: bigint[] = [];
    const p = startProcessor({
      name: 'order',
      store: t.store,
      filter: { categories: ['order'] },
      checkpoint: { load: async () => start, save: async (position) => void saved.push(position) },
      handle: async (e) => void seen.push(e.stream),
      logger: silentLogger(),
      retry: fast,
    });
    await append('order-1');
    await append('other-1');
    await append('order-2');
    await until(async () => (seen.length === 2 ? true : undefined), 10_000);
    await p.stop();
    expect(seen).toEqual(['order-1', 'order-2']);
    expect(saved).toHaveLength(2);
    expect(p.status().position).toBe(saved[1]);
  });

  it('retries a failing event in place, reports it once it is poison, and never skips it', async () => {
    const start = await t.store.headPosition();
    let broken = true;
    const seen: string[] = [];
    const p = startProcessor({
      name: 'poison',
      store: t.store,
      filter: { categories: ['poison'] },
      checkpoint: fromPosition(start),
      handle: async (e) => {
        if (e.stream === 'poison-bad' && broken) throw new Error('refused');
        seen.push(e.stream);
      },
      logger: silentLogger(),
      retry: fast,
      poisonAfter: 3,
    });
    await append('poison-bad');
    await append('poison-after');
    await until(async () => (p.status().stuckOn ? true : undefined), 10_000);
    expect(p.status()).toMatchObject({ stuckOn: { type: 'ThingHappened' }, lastError: 'refused' });
    expect(seen).toEqual([]);
    broken = false; // fixed (a database back, a bug deployed away): it goes on where it stopped
    await until(async () => (seen.length === 2 ? true : undefined), 10_000);
    expect(seen).toEqual(['poison-bad', 'poison-after']);
    expect(p.status()).toMatchObject({ failures: 0, stuckOn: undefined });
    await p.stop();
  });

  it('resubscribes after the store fails, from the last event handled', async () => {
    const start = await t.store.headPosition();
    let subscriptions = 0;
    // A store whose first subscriptions break after one event (a dropped connection).
    const flaky: EventStore = {
      ...t.store,
      subscribeToAll(options) {
        subscriptions++;
        const inner = t.store.subscribeToAll(options);
        if (subscriptions > 2) return inner;
        return (async function* () {
          for await (const e of inner) {
            yield e;
            throw new Error('connection lost');
          }
        })();
      },
    };
    const seen: RecordedEvent[] = [];
    const p = startProcessor({
      name: 'flaky',
      store: flaky,
      filter: { categories: ['flaky'] },
      checkpoint: fromPosition(start),
      handle: async (e) => void seen.push(e),
      logger: silentLogger(),
      retry: fast,
    });
    for (let i = 0; i < 4; i++) await append(`flaky-${i}`);
    await until(async () => (seen.length === 4 ? true : undefined), 10_000);
    await p.stop();
    expect(seen.map((e) => e.stream)).toEqual(['flaky-0', 'flaky-1', 'flaky-2', 'flaky-3']);
    expect(subscriptions).toBeGreaterThanOrEqual(3);
  });
});
