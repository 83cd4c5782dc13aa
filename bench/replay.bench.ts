import pg from 'pg';
import type { EventStore } from '../kernel/event-store.port.ts';
import type { BenchContext } from './context.ts';
import { serverLog } from './fixtures.ts';
import type { BenchResult, Row } from './report.ts';
import { rate } from './stats.ts';

export const REPLAY_PAGE = 1000;

export interface ReadRun {
  events: number;
  elapsedMs: number;
}

/** The whole global log through the store, page by page. */
export async function replayStore(store: EventStore, page = REPLAY_PAGE): Promise<ReadRun> {
  const t0 = performance.now();
  let after = 0n;
  let events = 0;
  for (;;) {
    const batch = await store.readAll({ after, maxCount: page });
    if (batch.length === 0) break;
    events += batch.length;
    after = batch.at(-1)!.position;
    if (batch.length < page) break;
  }
  return { events, elapsedMs: performance.now() - t0 };
}

/**
 * The baseline: a bare keyset-paged `SELECT *` over the same table through one pg client, rows
 * as pg hands them over (jsonb parsed, int8 as strings), nothing else; optionally only one
 * category (`category = $3`, which the (category, position) index serves in order).
 */
export async function replayBare(url: string, page = REPLAY_PAGE, category?: string): Promise<ReadRun> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const t0 = performance.now();
    let after = '0';
    let events = 0;
    for (;;) {
      const { rows } = await c.query<{ position: string }>(
        category === undefined
          ? 'SELECT * FROM sy_es.events WHERE position > $1 ORDER BY position LIMIT $2'
          : 'SELECT * FROM sy_es.events WHERE category = $3 AND position > $1 ORDER BY position LIMIT $2',
        category === undefined ? [after, page] : [after, page, category],
      );
      if (rows.length === 0) break;
      events += rows.length;
      after = rows.at(-1)!.position;
      if (rows.length < page) break;
    }
    return { events, elapsedMs: performance.now() - t0 };
  } finally {
    await c.end();
  }
}

/** Alternates bare, store, bare, store … and sums each side. */
export async function alternateReads(
  rounds: number,
  store: () => Promise<ReadRun>,
  bare: () => Promise<ReadRun>,
): Promise<{ store: ReadRun; bare: ReadRun }> {
  await bare(); // warm the cache (both read the same pages)
  const total = { store: { events: 0, elapsedMs: 0 }, bare: { events: 0, elapsedMs: 0 } };
  for (let r = 0; r < rounds; r++) {
    const b = await bare();
    const s = await store();
    total.bare.events += b.events;
    total.bare.elapsedMs += b.elapsedMs;
    total.store.events += s.events;
    total.store.elapsedMs += s.elapsedMs;
  }
  return total;
}

export async function replayBench(ctx: BenchContext): Promise<BenchResult> {
  const log = await serverLog(ctx);
  ctx.log(`replay: reading ${log.count} events in pages of ${REPLAY_PAGE}`);
  const result = await alternateReads(
    ctx.scale(3, 2),
    () => replayStore(log.store),
    () => replayBare(log.url),
  );
  const value = rate(result.store.events, result.store.elapsedMs);
  const rows: Row[] = [
    {
      bench: 'replay',
      metric: `store.readAll, ${log.count} events, pages of ${REPLAY_PAGE}`,
      unit: 'events/s',
      value,
      baseline: rate(result.bare.events, result.bare.elapsedMs),
      baselineLabel: 'bare keyset SELECT',
      better: 'higher',
      aim: { text: '≥ 50,000 events/s', met: value >= 50_000 },
    },
  ];
  return { rows, notes: [] };
}
