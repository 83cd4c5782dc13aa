import { describe, expect, it } from 'vitest';
import { batched } from './async.ts';

/** A source that yields `items`, waiting `gapMs` before each after the first. */
async function* spaced<T>(items: readonly T[], gapMs: number): AsyncGenerator<T> {
  for (const [i, item] of items.entries()) {
    if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
    yield item;
  }
}

async function collect<T>(batches: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const batch of batches) out.push(batch);
  return out;
}

describe('batched', () => {
  it('without a linger, hands over what has arrived: items apart in time are batches of one', async () => {
    const batches = await collect(batched(spaced([1, 2, 3], 20), 10, new AbortController()));
    expect(batches).toEqual([[1], [2], [3]]);
  });

  it('with a linger, a batch waits for items that follow closely, and never beyond its size', async () => {
    const batches = await collect(batched(spaced([1, 2, 3, 4, 5], 2), 3, new AbortController(), 1_000));
    expect(batches.flat()).toEqual([1, 2, 3, 4, 5]);
    // Full batches go at once; the rest waits for the source to end, not for the whole linger.
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('with a linger, an item alone goes once the linger has passed', async () => {
    const batches = await collect(batched(spaced([1, 2], 150), 10, new AbortController(), 30));
    expect(batches).toEqual([[1], [2]]);
  });
});
