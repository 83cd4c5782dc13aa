import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createPostgresEventStore } from '../event-store/index.ts';
import { openPostgres } from '../event-store/postgres/connection.ts';
import type { RecordedEvent } from '../kernel/envelope.ts';
import { migrateEventStore } from '../migrations/migrate.ts';
import type { BenchContext } from './context.ts';
import { smallEvent } from './fixtures.ts';
import type { BenchResult, Row } from './report.ts';
import { formatNumber, summarize } from './stats.ts';

/** Categories with a few events at the very start of the log and none after: idle projections. */
const IDLE_CATEGORIES = ['template', 'project', 'deployment'];
/** Events per fill transaction: a multiple of 3 (tool calls of three events), below 2^20. */
const FILL_BATCH = 99_999;
/** The aim: at 10 M events, within 10% of an empty log. */
const AIM_RATIO = 1.1;

interface Tally {
  appendMs: number[];
  /** Append returned → the category subscriber saw the event. */
  visibleMs: number[];
  appends: number;
  seqScans: number;
  seqRows: number;
  pgCpuMs: number;
}

interface Side {
  label: string;
  url: string;
  admin: pg.Client;
}

/**
 * Does an append cost more as the log grows? One writer appends single events (each to a new
 * `toolcall-…` stream, as tool calls do) while the readers a running system has follow the log
 * live: one unfiltered (the relay), one on the written category (its projection) and three on
 * categories that saw a few events at the start and none since (idle projections).
 *
 * Two databases: one whose log stays (nearly) empty, and one filled to 100,000, 1,000,000 and
 * 10,000,000 events in turn (--quick: 100,000 only). At each size the two are measured in
 * alternating slices, so that a drift in the machine's load hits both alike; the empty log is each
 * figure's baseline. The fill is written in SQL as the store writes (registered appenders, position
 * = transaction id × 2^20 + index, three-event tool-call streams, a streams row each), 100,000
 * events per transaction, then vacuumed and analyzed as autovacuum would. Besides latencies,
 * PostgreSQL's own counters for `sy_es.events` say how many sequential scans the readers and the
 * writer caused, and /proc says how much CPU their backends used.
 */
export async function historyBench(ctx: BenchContext): Promise<BenchResult> {
  const sides: Side[] = [];
  const rows: Row[] = [];
  const notes: BenchResult['notes'] = [];
  try {
    for (const label of ['empty', 'full']) {
      const { url } = await ctx.createDatabase(`history_${label}`);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      sides.push({ label, url, admin });
      const setup = openPostgres({ url, max: 2 });
      await migrateEventStore(setup.db);
      const store = createPostgresEventStore({ connection: setup });
      for (const category of IDLE_CATEGORIES) {
        await store.append(`${category}-${randomUUID()}`, [smallEvent(0), smallEvent(1)], 'no-stream');
      }
      await store.close();
      await setup.close();
    }
    const [empty, full] = sides as [Side, Side];

    const sizes = ctx.quick ? [100_000] : [100_000, 1_000_000, 10_000_000];
    const sliceMs = ctx.scale(2_000, 1_000);
    const rounds = ctx.scale(4, 2);
    let filled = 0;
    for (const size of sizes) {
      const started = performance.now();
      ctx.log(`history: filling the log to ${size.toLocaleString('en-US')} events`);
      filled = await fill(full.admin, filled, size);
      await full.admin.query('VACUUM (ANALYZE) sy_es.events');
      await full.admin.query('VACUUM (ANALYZE) sy_es.streams');
      // The fill's dirty pages are written now, not during the measurement.
      await full.admin.query('CHECKPOINT').catch(() => {});
      const fillSeconds = (performance.now() - started) / 1000;
      const { rows: sized } = await full.admin.query<{ bytes: string }>(
        `SELECT pg_total_relation_size('sy_es.events')::text AS bytes`,
      );

      ctx.log(
        `history: single-event appends with 5 live readers, empty log vs ${size.toLocaleString('en-US')}`,
      );
      const measured = { empty: emptyTally(), full: emptyTally() };
      await measureSlice(empty, 500);
      await measureSlice(full, 500);
      for (let r = 0; r < rounds; r++) {
        add(measured.empty, await measureSlice(empty, sliceMs));
        add(measured.full, await measureSlice(full, sliceMs));
      }

      const n = size.toLocaleString('en-US');
      const last = size === sizes.at(-1);
      const against = (metric: string, unit: string, value: number, baseline: number, aim: boolean): Row => ({
        bench: 'history',
        metric: `${metric}, log of ${n} events`,
        unit,
        value,
        baseline,
        baselineLabel: 'empty log',
        better: 'lower',
        ...(aim && size >= 10_000_000
          ? { aim: { text: `≤ ×${AIM_RATIO.toFixed(2)} at 10 M`, met: value <= baseline * AIM_RATIO } }
          : {}),
      });
      const e = measured.empty;
      const f = measured.full;
      const p = (values: number[], q: 'p50' | 'p99') => summarize(values)[q];
      rows.push(
        against(
          'append p50, 1 writer, 5 live readers',
          'ms',
          p(f.appendMs, 'p50'),
          p(e.appendMs, 'p50'),
          last,
        ),
        against('append p99', 'ms', p(f.appendMs, 'p99'), p(e.appendMs, 'p99'), false),
        against(
          'append → visible to its reader, p50',
          'ms',
          p(f.visibleMs, 'p50'),
          p(e.visibleMs, 'p50'),
          false,
        ),
        against(
          'PostgreSQL CPU per append (writer + readers)',
          'ms',
          f.pgCpuMs / f.appends,
          e.pgCpuMs / e.appends,
          last,
        ),
      );
      for (const [label, t] of [
        ['empty log', e],
        [`log of ${n}`, f],
      ] as const) {
        notes.push({
          bench: 'history',
          text: `${label}: ${t.appends} appends in ${rounds} slices of ${sliceMs} ms; sy_es.events seq scans ${t.seqScans} reading ${t.seqRows} rows; PostgreSQL backends' CPU ${formatNumber(t.pgCpuMs)} ms`,
        });
      }
      notes.push({
        bench: 'history',
        text: `log of ${n}: filled, vacuumed and analyzed in ${fillSeconds.toFixed(0)} s; sy_es.events with its indexes ${(Number(sized[0]?.bytes ?? 0) / 2 ** 20).toFixed(0)} MiB`,
      });
    }
    return { rows, notes };
  } finally {
    for (const side of sides) await side.admin.end().catch(() => {});
  }
}

/**
 * Appends tool calls of three events until the log holds `to` events (rounded up to whole
 * transactions), in SQL: the log's size is what is being measured, not how fast it was written.
 */
async function fill(admin: pg.Client, from: number, to: number): Promise<number> {
  let next = from;
  while (next < to) {
    await admin.query('BEGIN');
    await admin.query('SELECT sy_es.register_appender()');
    await admin.query(
      `WITH calls AS (
         SELECT g, 'toolcall-' || md5(($1::bigint + g / 3)::text)::uuid AS stream FROM generate_series(0, $2::int - 1) AS g
       ), appended AS (
         INSERT INTO sy_es.events (position, tx_id, id, stream, category, revision, type, data, metadata)
         SELECT pg_current_xact_id()::text::bigint * 1048576 + g, pg_current_xact_id(), gen_random_uuid(), stream,
                'toolcall', g % 3, (ARRAY['ToolCallStarted', 'ToolCallSucceeded', 'ToolCallRecorded'])[g % 3 + 1],
                jsonb_build_object('callId', gen_random_uuid(), 'seq', $1::bigint + g,
                  'description', 'a description of about the length people actually write for an MCP server',
                  'tags', jsonb_build_array('bench', 'scm', 'github'), 'updatedAt', now()),
                jsonb_build_object('correlationId', gen_random_uuid(), 'causationId', gen_random_uuid(),
                  'actor', 'bench', 'schemaVersion', 1)
         FROM calls
       )
       INSERT INTO sy_es.streams (stream_name, revision) SELECT stream, 2 FROM calls WHERE g % 3 = 0`,
      [next, FILL_BATCH],
    );
    await admin.query('COMMIT');
    next += FILL_BATCH;
  }
  return next;
}

function emptyTally(): Tally {
  return { appendMs: [], visibleMs: [], appends: 0, seqScans: 0, seqRows: 0, pgCpuMs: 0 };
}

function add(into: Tally, t: Tally): void {
  into.appendMs.push(...t.appendMs);
  into.visibleMs.push(...t.visibleMs);
  into.appends += t.appends;
  into.seqScans += t.seqScans;
  into.seqRows += t.seqRows;
  into.pgCpuMs += t.pgCpuMs;
}

async function measureSlice(side: Side, measureMs: number): Promise<Tally> {
  // Its own connections, closed at the end: a backend flushes its table counters when it exits.
  const sql = openPostgres({ url: side.url, max: 8 });
  const store = createPostgresEventStore({ connection: sql, pollIntervalMs: 500 });
  const head = await store.headPosition();
  const controller = new AbortController();
  const seenAt = new Map<string, number>();
  const follow = async (
    after: bigint,
    categories: string[] | undefined,
    onEvent?: (e: RecordedEvent) => void,
  ) => {
    const filter = categories && { categories };
    for await (const e of store.subscribeToAll({
      after,
      signal: controller.signal,
      ...(filter && { filter }),
    })) {
      onEvent?.(e);
    }
  };
  const readers = [
    follow(head, undefined),
    follow(head, ['toolcall'], (e) => seenAt.set(e.stream, performance.now())),
    ...IDLE_CATEGORIES.map((c) => follow(0n, [c])),
  ];
  // The readers' catch-up (the idle ones read their category from the start) is not measured.
  await sleep(200);
  const before = await counters(side.admin);
  const cpuBefore = await backendCpuMs(side.admin);
  const appendMs: number[] = [];
  const returnedAt = new Map<string, number>();
  const deadline = performance.now() + measureMs;
  while (performance.now() < deadline) {
    const stream = `toolcall-${randomUUID()}`;
    const t0 = performance.now();
    await store.append(stream, [smallEvent(appendMs.length)], 'no-stream');
    const t1 = performance.now();
    appendMs.push(t1 - t0);
    returnedAt.set(stream, t1);
  }
  // Let the readers see the last appends before they stop.
  await sleep(200);
  const cpuAfter = await backendCpuMs(side.admin);
  let pgCpuMs = 0;
  for (const [pid, ms] of cpuAfter) pgCpuMs += ms - (cpuBefore.get(pid) ?? 0);
  controller.abort();
  await Promise.allSettled(readers);
  await store.close();
  await sql.close();
  await sleep(300);
  const after = await counters(side.admin);
  const visibleMs: number[] = [];
  for (const [stream, t] of returnedAt) {
    const seen = seenAt.get(stream);
    if (seen !== undefined) visibleMs.push(Math.max(0, seen - t));
  }
  return {
    appendMs,
    visibleMs,
    appends: appendMs.length,
    seqScans: after.seqScans - before.seqScans,
    seqRows: after.seqRows - before.seqRows,
    pgCpuMs,
  };
}

async function counters(admin: pg.Client): Promise<{ seqScans: number; seqRows: number }> {
  await admin.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await admin.query<{ seq_scan: string; seq_tup_read: string }>(
    `SELECT seq_scan, seq_tup_read FROM pg_stat_user_tables WHERE schemaname = 'sy_es' AND relname = 'events'`,
  );
  return { seqScans: Number(rows[0]?.seq_scan ?? 0), seqRows: Number(rows[0]?.seq_tup_read ?? 0) };
}

/**
 * CPU time (ms) of each of this database's backends other than `admin`'s, from /proc: the server runs
 * on this machine in the setup the benchmarks document. Empty when /proc is not readable.
 */
async function backendCpuMs(admin: pg.Client): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (stat === '') continue;
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th,
    // in clock ticks of 10 ms.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    cpu.set(pid, (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10);
  }
  return cpu;
}
