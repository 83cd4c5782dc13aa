import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { makeServerCommands } from '../domains/servers/handlers.ts';
import { parseRegistration } from '../domains/servers/index.ts';
import { systemClock } from '../kernel/clock.ts';
import type { NewEvent } from '../kernel/envelope.ts';
import type { ExpectedRevision } from '../kernel/event-store.port.ts';
import type { BenchContext } from './context.ts';
import { openPgStore, registry, secrets, smallEvent } from './fixtures.ts';
import { alternate, latency, type Operation, type PairResult, throughput } from './load.ts';
import type { BenchResult, Row } from './report.ts';

/**
 * The "bare" baseline table: the columns and indexes of sy_es.events (so index upkeep costs the
 * same), but no trigger, no streams table, no lock, no revision check — one INSERT per event.
 */
export const BASELINE_DDL = [
  `CREATE TABLE bench_plain (
    position bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    stream text NOT NULL,
    category text NOT NULL,
    revision bigint NOT NULL,
    type text NOT NULL,
    data jsonb NOT NULL,
    metadata jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream, revision)
  )`,
  `CREATE INDEX bench_plain_category_position ON bench_plain (category, position)`,
  `CREATE INDEX bench_plain_type_position ON bench_plain (type, position)`,
];

export const INSERT_ONE = `INSERT INTO bench_plain (id, stream, category, revision, type, data, metadata)
  VALUES ($1, $2, 'bench', $3, $4, $5::jsonb, $6::jsonb)`;

function insertMany(rows: number): string {
  const values = Array.from({ length: rows }, (_, r) => {
    const b = r * 6;
    return `($${b + 1}, $${b + 2}, 'bench', $${b + 3}, $${b + 4}, $${b + 5}::jsonb, $${b + 6}::jsonb)`;
  });
  return `INSERT INTO bench_plain (id, stream, category, revision, type, data, metadata) VALUES ${values.join(', ')}`;
}

function rowParams(stream: string, revision: number, e: NewEvent): unknown[] {
  return [e.id, stream, revision, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)];
}

/** Each writer owns `streamsPerWriter` streams and cycles through them, tracking their revisions. */
class Streams {
  private readonly revisions = new Map<string, number>();
  constructor(
    private readonly prefix: string,
    private readonly streamsPerWriter: number,
  ) {}

  pick(worker: number, i: number): { stream: string; revision: number } {
    const stream = `${this.prefix}-w${worker}s${i % this.streamsPerWriter}`;
    return { stream, revision: this.revisions.get(stream) ?? -1 };
  }

  advance(stream: string, to: number): void {
    this.revisions.set(stream, to);
  }
}

const expectedOf = (revision: number): ExpectedRevision => (revision < 0 ? 'no-stream' : BigInt(revision));

export async function appendBench(ctx: BenchContext): Promise<BenchResult> {
  const db = await openPgStore(ctx, 'append', 24);
  const pool = new pg.Pool({ connectionString: db.url, max: 24 });
  const rows: Row[] = [];
  const notes: BenchResult['notes'] = [];
  try {
    for (const ddl of BASELINE_DDL) await pool.query(ddl);
    const sliceMs = ctx.scale(3_000, 1_000);
    const rounds = 2;
    const warmupMs = ctx.scale(1_000, 300);
    let run = 0;

    const single = (): { subject: Operation; baseline: Operation } => {
      const tag = `r${run++}`;
      const storeStreams = new Streams(`append_${tag}`, 100);
      const plainStreams = new Streams(`plain_${tag}`, 100);
      return {
        subject: async (w, i) => {
          const { stream, revision } = storeStreams.pick(w, i);
          const r = await db.store.append(stream, [smallEvent(i)], expectedOf(revision));
          storeStreams.advance(stream, Number(r.nextExpectedRevision));
        },
        baseline: async (w, i) => {
          const { stream, revision } = plainStreams.pick(w, i);
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query(INSERT_ONE, rowParams(stream, revision + 1, smallEvent(i)));
            await c.query('COMMIT');
          } finally {
            c.release();
          }
          plainStreams.advance(stream, revision + 1);
        },
      };
    };

    const pairRows = (metric: string, concurrency: number, p: PairResult, aim?: boolean) => {
      const s = latency(p.subject);
      const b = latency(p.baseline);
      const sRate = throughput(p.subject);
      const bRate = throughput(p.baseline);
      rows.push({
        bench: 'append',
        metric: `${metric}, ${concurrency} writer${concurrency > 1 ? 's' : ''}`,
        unit: 'appends/s',
        value: sRate,
        baseline: bRate,
        baselineLabel: 'bare INSERT tx',
        better: 'higher',
        ...(aim && { aim: { text: '≥ 50% of bare', met: sRate >= 0.5 * bRate } }),
      });
      for (const [q, sv, bv] of [
        ['p50', s.p50, b.p50],
        ['p99', s.p99, b.p99],
      ] as const) {
        rows.push({
          bench: 'append',
          metric: `${q} latency, ${concurrency} writer${concurrency > 1 ? 's' : ''}`,
          unit: 'ms',
          value: sv,
          baseline: bv,
          baselineLabel: 'bare INSERT tx',
          better: 'lower',
        });
      }
    };

    for (const concurrency of [1, 16]) {
      ctx.log(`append: single events, ${concurrency} writer(s)`);
      const pair = await alternate({ ...single(), concurrency, sliceMs, rounds, warmupMs });
      pairRows('single-event appends', concurrency, pair, concurrency === 16);
    }

    // Full commands: register = read server stream, read the name's reservation stream, append the
    // reservation, load the server stream again (handleCommand), append ServerRegistered.
    ctx.log('append: RegisterServer commands through makeServerCommands, 16 writers');
    const commands = makeServerCommands({ store: db.store, registry, secrets, clock: systemClock });
    let registered = 0;
    const plain = single();
    const cmdPair = await alternate({
      subject: async (w, i) => {
        await commands.register(
          parseRegistration({
            name: `bench-${w}-${i}-${registered++}`,
            description: 'GitHub tools',
            transport: {
              type: 'stdio',
              command: 'npx',
              args: ['-y', '@modelcontextprotocol/server-github'],
              env: { GITHUB_TOKEN: 'ghp_not_a_real_token' },
            },
            tags: ['scm', 'github'],
          }),
          {
            commandId: randomUUID(),
            actor: 'user:bench',
            correlationId: randomUUID(),
            issuedAt: new Date(),
          },
        );
      },
      baseline: plain.baseline,
      concurrency: 16,
      sliceMs,
      rounds,
      warmupMs,
    });
    rows.push({
      bench: 'append',
      metric: 'RegisterServer commands/s, 16 writers',
      unit: 'cmd/s',
      value: throughput(cmdPair.subject),
      baseline: throughput(cmdPair.baseline),
      baselineLabel: 'bare INSERT tx',
      better: 'higher',
    });
    const cmdLatency = latency(cmdPair.subject);
    notes.push({
      bench: 'append',
      text: `RegisterServer = 2 appends (name reservation, then ServerRegistered) plus 3 stream reads; command latency p50 ${cmdLatency.p50.toFixed(1)} ms, p99 ${cmdLatency.p99.toFixed(1)} ms at 16 writers (SQL statements per command: npm run bench -- anatomy)`,
    });

    // Batched appends: 100 events per append vs one 100-row INSERT per transaction.
    const batch = 100;
    const batchWriters = 4;
    ctx.log(`append: ${batch}-event appends, ${batchWriters} writers`);
    const batchStore = new Streams(`batch_${run}`, 20);
    const batchPlain = new Streams(`batchplain_${run}`, 20);
    const multiInsert = insertMany(batch);
    const batchPair = await alternate({
      subject: async (w, i) => {
        const { stream, revision } = batchStore.pick(w, i);
        const events = Array.from({ length: batch }, (_, k) => smallEvent(k));
        const r = await db.store.append(stream, events, expectedOf(revision));
        batchStore.advance(stream, Number(r.nextExpectedRevision));
      },
      baseline: async (w, i) => {
        const { stream, revision } = batchPlain.pick(w, i);
        const params = Array.from({ length: batch }, (_, k) =>
          rowParams(stream, revision + 1 + k, smallEvent(k)),
        ).flat();
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          await c.query(multiInsert, params);
          await c.query('COMMIT');
        } finally {
          c.release();
        }
        batchPlain.advance(stream, revision + batch);
      },
      concurrency: batchWriters,
      sliceMs,
      rounds,
      warmupMs,
    });
    rows.push({
      bench: 'append',
      metric: `${batch}-event appends, ${batchWriters} writers`,
      unit: 'events/s',
      value: throughput(batchPair.subject, batch),
      baseline: throughput(batchPair.baseline, batch),
      baselineLabel: `bare ${batch}-row INSERT tx`,
      better: 'higher',
    });
    return { rows, notes };
  } finally {
    await pool.end();
    await db.close();
  }
}
