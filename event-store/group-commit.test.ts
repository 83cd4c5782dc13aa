import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WrongExpectedRevisionError } from '../kernel/errors.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import { databaseKinds, type TestDatabase } from '../test/databases.ts';
import { newEvent } from '../test/relay.ts';
import { groupCommit } from './group-commit.ts';

/** Group commit: callers arriving during a commit share the next one, each with its own answer. */
describe('groupCommit', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await databaseKinds.find((k) => k.label === 'pglite')!.open();
  });
  afterAll(() => t?.close());

  /** The store, with each multi-stream append counted (and one that refuses any "conflict" stream). */
  function recording() {
    const groups: number[] = [];
    const counted: EventStore = {
      ...t.store,
      async appendMany(appends) {
        groups.push(appends.length);
        if (appends.some((a) => a.stream.includes('conflict'))) {
          throw new WrongExpectedRevisionError(appends[0]!.stream, 0n, 'no-stream');
        }
        return t.store.appendMany(appends);
      },
    };
    return { groups, store: groupCommit(counted) };
  }

  it('commits a lone append at once, and the appends that arrive meanwhile together', async () => {
    const { groups, store } = recording();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.append(`gc-${i}-${Date.now()}`, [newEvent('A')], 'no-stream'),
      ),
    );
    expect(results.every((r) => r.nextExpectedRevision === 0n && !r.duplicate)).toBe(true);
    // The first alone (nothing was in flight), the 19 that queued behind it in one group.
    expect(groups).toEqual([19]);
    expect(new Set(results.map((r) => r.position)).size).toBe(20);
  });

  it('answers each caller of a failed group with its own outcome', async () => {
    const { store } = recording();
    const taken = `gc-taken-${Date.now()}`;
    await t.store.append(taken, [newEvent('A')], 'no-stream');
    const first = store.append(`gc-first-${Date.now()}`, [newEvent('A')], 'no-stream');
    const outcomes = await Promise.allSettled([
      store.append(`gc-ok-conflict-${Date.now()}`, [newEvent('A')], 'no-stream'),
      store.append(taken, [newEvent('B')], 'no-stream'),
      store.append(`gc-ok2-${Date.now()}`, [newEvent('A')], 'no-stream'),
    ]);
    await first;
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
  });

  it('reads straight from the store and leaves it open on close', async () => {
    const { store } = recording();
    const stream = `gc-read-${Date.now()}`;
    await store.append(stream, [newEvent('A')], 'no-stream');
    expect(await store.streamRevision(stream)).toBe(0n);
    await store.close();
    expect(await t.store.streamRevision(stream)).toBe(0n);
  });
});
