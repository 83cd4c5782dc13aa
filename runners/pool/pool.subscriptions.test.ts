import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/logger.ts';
import { eventually, fixtureTransport, newMarker, processesWith, spec, textOf } from '../../test/runners.ts';
import { createUpstreamPool, type UpstreamPool } from './pool.ts';

/** Resource subscriptions of several callers over the shared upstream sessions of the pool. */
describe('upstream pool: resource subscriptions', () => {
  const marker = newMarker();
  const updates: Array<{ serverId: string; uri: string }> = [];
  let pool: UpstreamPool;

  /** What each process of a server received, by pid (calls are spread: ask until all answered). */
  async function received(serverId: string, processes = 1): Promise<Map<number, string[]>> {
    const byPid = new Map<number, string[]>();
    await eventually(async () => {
      const answer = textOf(await pool.callTool(serverId, 'subscriptions', {}));
      const { pid, received: log } = JSON.parse(answer) as { pid: number; received: string[] };
      byPid.set(pid, log);
      return byPid.size === processes;
    });
    return byPid;
  }

  beforeAll(() => {
    pool = createUpstreamPool({ logger: silentLogger(), restart: { baseDelayMs: 50, maxDelayMs: 500 } });
    pool.onResourceUpdated((serverId, uri) => updates.push({ serverId, uri }));
  });

  afterAll(async () => {
    await pool.close();
    expect(await processesWith(marker)).toEqual([]);
  });

  it('subscribes every instance once for all callers, and unsubscribes when the last caller leaves', async () => {
    const s = spec(fixtureTransport('subscribe', marker), { name: 'notes', replicas: 2 });
    await pool.ensure(s);
    const subscribe = (caller: string) =>
      pool.request(s.serverId, 'resources/subscribe', { uri: 'note://a' }, { caller });
    const unsubscribe = (caller: string) =>
      pool.request(s.serverId, 'resources/unsubscribe', { uri: 'note://a' }, { caller });

    expect(await subscribe('alice')).toEqual({});
    await subscribe('bob');
    await subscribe('alice');
    const once = await received(s.serverId, 2);
    expect([...once.values()]).toEqual([['subscribe note://a'], ['subscribe note://a']]);

    // Whichever instance sees the change, the update reaches the listeners.
    for (let i = 0; i < 2; i++) {
      expect(textOf(await pool.callTool(s.serverId, 'touch', { uri: 'note://a' }))).toBe('notified');
    }
    await eventually(() => updates.length === 2, { what: 'two updates' });
    expect(updates).toEqual([
      { serverId: s.serverId, uri: 'note://a' },
      { serverId: s.serverId, uri: 'note://a' },
    ]);

    // A caller that never subscribed, then one of two: the upstream hears nothing.
    await unsubscribe('carol');
    await unsubscribe('alice');
    expect([...(await received(s.serverId, 2)).values()]).toEqual([...once.values()]);
    await unsubscribe('bob');
    const after = await received(s.serverId, 2);
    expect([...after.values()]).toEqual([
      ['subscribe note://a', 'unsubscribe note://a'],
      ['subscribe note://a', 'unsubscribe note://a'],
    ]);
    expect(textOf(await pool.callTool(s.serverId, 'touch', { uri: 'note://a' }))).toBe('not subscribed');
    await pool.stop(s.serverId);
  });

  it('subscribes a restarted instance again to what callers still want', async () => {
    updates.length = 0;
    const s = spec(fixtureTransport('subscribe', marker), { name: 'notes' });
    await pool.ensure(s);
    await pool.request(s.serverId, 'resources/subscribe', { uri: 'note://b' }, { caller: 'alice' });
    const before = textOf(await pool.callTool(s.serverId, 'pid', {}));
    await pool.callTool(s.serverId, 'crash', {}).catch(() => undefined);
    const after = await eventually(async () => {
      const pid = await pool
        .callTool(s.serverId, 'pid', {})
        .then(textOf)
        .catch(() => undefined);
      return pid !== undefined && pid !== before ? pid : undefined;
    });
    expect(after).not.toBe(before);
    await eventually(
      async () => {
        const log = (await received(s.serverId)).get(Number(after));
        return JSON.stringify(log) === JSON.stringify(['subscribe note://b']);
      },
      { what: 'the new process to be subscribed' },
    );
    expect(textOf(await pool.callTool(s.serverId, 'touch', { uri: 'note://b' }))).toBe('notified');
    await eventually(() => updates.length === 1, { what: 'the update' });
    expect(updates).toEqual([{ serverId: s.serverId, uri: 'note://b' }]);
    await pool.stop(s.serverId);
  });
});
