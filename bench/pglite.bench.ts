import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { createPostgresEventStore } from '../event-store/index.ts';
import { openPGlite } from '../event-store/postgres/connection.ts';
import { migrateEventStore } from '../migrations/migrate.ts';
import { BASELINE_DDL, INSERT_ONE } from './append.bench.ts';
import type { BenchContext } from './context.ts';
import { smallEvent } from './fixtures.ts';
import { alternate, latency, throughput } from './load.ts';
import { REPLAY_PAGE, type ReadRun, replayStore } from './replay.bench.ts';
import type { BenchResult, Row } from './report.ts';
import { rate } from './stats.ts';

const pgliteOptions = { parsers: { [types.INT8]: (value: string) => value } };

async function bareReplay(client: PGlite): Promise<ReadRun> {
  const t0 = performance.now();
  let after = '0';
  let events = 0;
  for (;;) {
    const { rows } = await client.query<{ position: string }>(
      'SELECT * FROM sy_es.events WHERE position > $1 ORDER BY position LIMIT $2',
      [after, REPLAY_PAGE],
    );
    if (rows.length === 0) break;
    events += rows.length;
    after = rows.at(-1)!.position;
    if (rows.length < REPLAY_PAGE) break;
  }
  return { events, elapsedMs: performance.now() - t0 };
}

/**
 * Embedded mode: the Postgres event store on PGlite with its data on disk, against bare PGlite
 * (its own query API, no Kysely, no mutex) on disk. One writer only: PGlite is a single session,
 * so more writers just queue on it.
 */
export async function pgliteBench(ctx: BenchContext): Promise<BenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'sy-bench-pglite-'));
  const rows: Row[] = [];
  try {
    ctx.log('pglite: creating two databases on disk');
    const [connection, bare] = await Promise.all([
      openPGlite({ dataDir: join(dir, 'store') }).then(async (c) => {
        await migrateEventStore(c.db);
        return c;
      }),
      PGlite.create(join(dir, 'bare'), pgliteOptions).then(async (p) => {
        for (const ddl of BASELINE_DDL) await p.exec(ddl);
        return p;
      }),
    ]);
    const store = createPostgresEventStore({ connection });

    ctx.log('pglite: single-event appends, 1 writer');
    let revision = -1;
    let plainRevision = -1;
    const pair = await alternate({
      subject: async (_w, i) => {
        const r = await store.append(
          'pglite-append',
          [smallEvent(i)],
          revision < 0 ? 'no-stream' : BigInt(revision),
        );
        revision = Number(r.nextExpectedRevision);
      },
      baseline: async (_w, i) => {
        const e = smallEvent(i);
        plainRevision++;
        await bare.query('BEGIN');
        await bare.query(INSERT_ONE, [
          e.id,
          'pglite-plain',
          plainRevision,
          e.type,
          JSON.stringify(e.data),
          JSON.stringify(e.metadata),
        ]);
        await bare.query('COMMIT');
      },
      concurrency: 1,
      sliceMs: ctx.scale(2_000, 750),
      rounds: 2,
      warmupMs: ctx.scale(500, 200),
    });
    const s = latency(pair.subject);
    const b = latency(pair.baseline);
    rows.push(
      {
        bench: 'pglite',
        metric: 'single-event appends, 1 writer (on disk)',
        unit: 'appends/s',
        value: throughput(pair.subject),
        baseline: throughput(pair.baseline),
        baselineLabel: 'bare PGlite INSERT tx',
        better: 'higher',
      },
      {
        bench: 'pglite',
        metric: 'p50 latency, 1 writer',
        unit: 'ms',
        value: s.p50,
        baseline: b.p50,
        baselineLabel: 'bare PGlite INSERT tx',
        better: 'lower',
      },
      {
        bench: 'pglite',
        metric: 'p99 latency, 1 writer',
        unit: 'ms',
        value: s.p99,
        baseline: b.p99,
        baselineLabel: 'bare PGlite INSERT tx',
        better: 'lower',
      },
    );
    await bare.close();

    const count = ctx.scale(50_000, 10_000);
    ctx.log(`pglite: filling ${count} events for the replay`);
    for (let n = 0; n < count; n += 500) {
      await store.append(
        `pglite-replay-${n}`,
        Array.from({ length: 500 }, (_, k) => smallEvent(n + k)),
        'no-stream',
      );
    }
    ctx.log('pglite: replay through the store');
    await replayStore(store);
    const viaStore = await replayStore(store);
    await store.close();
    await connection.close();
    // The same data directory, opened by bare PGlite (two instances must never share a directory).
    ctx.log('pglite: replay, bare keyset SELECT on the same data directory');
    const reopened = await PGlite.create(join(dir, 'store'), pgliteOptions);
    await bareReplay(reopened);
    const viaBare = await bareReplay(reopened);
    await reopened.close();
    rows.push({
      bench: 'pglite',
      metric: `store.readAll, ${viaStore.events} events, pages of ${REPLAY_PAGE}`,
      unit: 'events/s',
      value: rate(viaStore.events, viaStore.elapsedMs),
      baseline: rate(viaBare.events, viaBare.elapsedMs),
      baselineLabel: 'bare PGlite keyset SELECT',
      better: 'higher',
    });
    return { rows, notes: [] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
