import { describe, expect, it } from 'vitest';
import { registerAccessEvents } from '../../domains/access/index.ts';
import { fixedClock } from '../../kernel/clock.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { createAccessCache } from './access-cache.ts';

const tenantCreated = (position: bigint): RecordedEvent => ({
  id: `e-${position}`,
  type: 'TenantCreated',
  stream: 'tenant-team-a',
  revision: 0n,
  position,
  data: { tenantId: 'team-a', name: 'A', createdAt: '2026-12-01T00:00:00.000Z' },
  metadata: { correlationId: 'c', causationId: 'k', actor: 'a', schemaVersion: 1 },
  recordedAt: new Date('2026-12-01T00:00:00.000Z'),
});

/** Only readAll is used by the cache; `fail` makes the log unreadable. */
function storeOf(events: RecordedEvent[], fail: { now: boolean }): EventStore {
  return {
    readAll: async ({ after = 0n } = {}) => {
      if (fail.now) throw new Error('database unreachable');
      return events.filter((e) => e.position > after);
    },
  } as Partial<EventStore> as EventStore;
}

describe('access cache', () => {
  it('fails closed: once the log has been unreadable for longer than the bound, it refuses to answer', async () => {
    const clock = fixedClock('2026-12-04T00:00:00.000Z');
    const fail = { now: false };
    const cache = createAccessCache({
      store: storeOf([tenantCreated(5n)], fail),
      registry: registerAccessEvents(new EventTypeRegistry()),
      clock,
      logger: silentLogger(),
      pollMs: 10,
      maxStalenessMs: 2_000,
    });
    await cache.start();
    try {
      expect(cache.state().tenants.has('team-a')).toBe(true);
      expect(cache.state().version).toBe(5n);
      fail.now = true;
      clock.advance(1_900);
      expect(cache.state().tenants.has('team-a')).toBe(true);
      clock.advance(200);
      expect(() => cache.state()).toThrow(
        expect.objectContaining({ code: 'AUTH.STALE', kind: 'unavailable' }),
      );
      // Readable again: trusted again.
      fail.now = false;
      await new Promise((r) => setTimeout(r, 50));
      expect(cache.state().tenants.has('team-a')).toBe(true);
    } finally {
      await cache.stop();
    }
  });

  it('folds the rules as they were at an instant', async () => {
    const later = {
      ...tenantCreated(9n),
      id: 'e-9',
      stream: 'tenant-team-b',
      data: { tenantId: 'team-b', name: 'B', createdAt: '2026-12-03T00:00:00.000Z' },
      recordedAt: new Date('2026-12-03T00:00:00.000Z'),
    };
    const cache = createAccessCache({
      store: storeOf([tenantCreated(5n), later], { now: false }),
      registry: registerAccessEvents(new EventTypeRegistry()),
      clock: fixedClock('2026-12-04T00:00:00.000Z'),
      logger: silentLogger(),
    });
    const then = await cache.stateAt(new Date('2026-12-02T00:00:00.000Z'));
    expect([...then.tenants.keys()]).toEqual(['team-a']);
    const now = await cache.stateAt(new Date('2026-12-04T00:00:00.000Z'));
    expect([...now.tenants.keys()].sort()).toEqual(['team-a', 'team-b']);
  });
});
