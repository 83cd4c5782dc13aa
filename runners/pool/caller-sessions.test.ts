import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/logger.ts';
import { CallerSessions } from './caller-sessions.ts';
import type { Connection } from './connection.ts';

/** Caller sessions over connections that only remember being closed. */
function sessions(max: number, evictAfterMs = 0) {
  const closed: string[] = [];
  let opened = 0;
  const pool = new CallerSessions({
    max,
    evictAfterMs,
    logger: silentLogger(),
    open: async () => {
      const name = `s${++opened}`;
      return {
        name,
        closed: new Promise<void>(() => undefined),
        close: async () => void closed.push(name),
      } as unknown as Connection;
    },
  });
  return { pool, closed, opened: () => opened };
}

const nameOf = async (s: { connection: Promise<Connection> } | undefined) =>
  ((await s?.connection) as unknown as { name: string } | undefined)?.name;

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('caller sessions', () => {
  it('makes room for a new caller by closing the least recently used idle session', async () => {
    const { pool, closed } = sessions(2);
    pool.get('a');
    await tick();
    pool.get('b');
    await tick();
    pool.get('a');
    expect(pool.get('c')).toBeDefined();
    await tick();
    expect(closed).toEqual(['s2']);
    await pool.closeAll();
  });

  it('closes no session for another caller before it has been without a call for evictAfterMs', async () => {
    const { pool, closed } = sessions(1, 60_000);
    const a = pool.get('a')!;
    a.router.enter({}, new AbortController().signal).leave();
    // a called a moment ago: b gets none (and shares the instance's session), a keeps its own.
    expect(pool.get('b')).toBeUndefined();
    await tick();
    expect(closed).toEqual([]);
    expect(pool.has('a')).toBe(true);
    await pool.closeAll();
  });

  it("closes a caller's session when it is done, once no call of it is in flight", async () => {
    const { pool, closed } = sessions(2);
    const a = pool.get('a')!;
    const call = a.router.enter({ caller: 'a' }, new AbortController().signal);
    pool.done('a');
    await tick();
    expect(closed).toEqual([]);
    call.leave();
    pool.done('a');
    await tick();
    expect(closed).toEqual(['s1']);
    expect(pool.has('a')).toBe(false);
    await pool.closeAll();
  });

  it('gives none past the cap while every session has a call in flight', async () => {
    const { pool, closed } = sessions(1);
    const a = pool.get('a')!;
    const call = a.router.enter({}, new AbortController().signal);
    expect(pool.get('b')).toBeUndefined();
    call.leave();
    expect(pool.get('b')).toBeDefined();
    await tick();
    expect(closed).toEqual(['s1']);
    await pool.closeAll();
  });

  it('keeps a spare open within the cap, so that a new caller does not wait for one to start', async () => {
    const { pool, closed, opened } = sessions(3);
    pool.warm();
    pool.warm();
    expect(opened()).toBe(1);
    // A new caller takes the spare; another is opened behind it, while the cap has room.
    expect(await nameOf(pool.get('a'))).toBe('s1');
    expect(opened()).toBe(2);
    expect(await nameOf(pool.get('b'))).toBe('s2');
    expect(opened()).toBe(3);
    // Two callers and a spare fill the cap: the next caller takes the spare, none is opened.
    expect(await nameOf(pool.get('c'))).toBe('s3');
    expect(opened()).toBe(3);
    await pool.closeAll();
    expect(closed.sort()).toEqual(['s1', 's2', 's3']);
  });

  it('closes the spare with the rest, and opens none once closed', async () => {
    const { pool, closed, opened } = sessions(4);
    pool.warm();
    expect(opened()).toBe(1);
    await pool.closeAll();
    expect(closed).toEqual(['s1']);
    pool.warm();
    expect(pool.get('a')).toBeUndefined();
    expect(opened()).toBe(1);
  });
});
