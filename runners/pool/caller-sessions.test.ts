import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/logger.ts';
import { CallerSessions } from './caller-sessions.ts';
import type { Connection } from './connection.ts';

/** Caller sessions over connections that only remember being closed. */
function sessions(max: number) {
  const closed: string[] = [];
  let opened = 0;
  const pool = new CallerSessions({
    max,
    logger: silentLogger(),
    open: async () => {
      const name = `s${++opened}`;
      return {
        closed: new Promise<void>(() => undefined),
        close: async () => void closed.push(name),
      } as unknown as Connection;
    },
  });
  return { pool, closed };
}

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
});
