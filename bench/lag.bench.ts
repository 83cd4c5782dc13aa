import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { makeServerCommands, type ServerCommands } from '../domains/servers/handlers.ts';
import { parseRegistration } from '../domains/servers/index.ts';
import { createPostgresEventStore } from '../event-store/index.ts';
import { openPostgres } from '../event-store/postgres/connection.ts';
import { systemClock } from '../kernel/clock.ts';
import type { CommandMeta } from '../kernel/decider.ts';
import type { RecordedEvent } from '../kernel/envelope.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import { createProjectionRunner, type ProjectionRunner, serversProjection } from '../projections/index.ts';
import { type BenchContext, cpuTimes } from './context.ts';
import { openPgStore, registry, secrets, timedProjection } from './fixtures.ts';
import type { BenchResult, Note, Row } from './report.ts';
import { PhaseTimer, summarize } from './stats.ts';

const now = () => performance.timeOrigin + performance.now();

function meta(): CommandMeta {
  return { commandId: randomUUID(), actor: 'user:bench', correlationId: randomUUID(), issuedAt: new Date() };
}

interface Sample {
  /** Epoch ms (sub-ms precision) when the poll's answer arrived. */
  at: number;
  /** The servers projection's checkpoint. */
  checkpoint: bigint;
  /** The store's readable head (what readAll may return: below the oldest running transaction). */
  head: bigint;
}

interface HorizonSample {
  /** Database of the oldest transaction holding an xid anywhere in the cluster ('' if none). */
  database: string;
  /** Its application_name (the projector's connections are named PROJECTOR_APP). */
  application: string;
  ageMs: number;
}

const PROJECTOR_APP = 'sy_bench_projector';

/**
 * Polls, every ~`everyMs`, the servers projection's checkpoint and the store's readable head (the
 * query of headPosition). The checkpoint moves in the same transaction as the read-model rows, so
 * "checkpoint ≥ p" is exactly "the row of the event at p is visible"; "head ≥ p" is "readAll can
 * return the event at p" — which splits the lag into the store's visibility horizon and the
 * projection's own work. Every 25th poll also notes which database holds the oldest transaction
 * id of the whole cluster: the store's horizon is cluster-wide, so other databases' transactions
 * hold it back too.
 */
function pollCheckpoint(url: string, everyMs: number) {
  const samples: Sample[] = [];
  const horizon: HorizonSample[] = [];
  let stop = false;
  const client = new pg.Client({ connectionString: url });
  const done = (async () => {
    await client.connect();
    try {
      for (let k = 0; !stop; k++) {
        const { rows } = await client.query<{ checkpoint: string | null; head: string | null }>(
          `SELECT (SELECT position FROM projection_checkpoints WHERE name = 'servers') AS checkpoint,
                  (SELECT position FROM sy_es.events WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
                   ORDER BY position DESC LIMIT 1) AS head`,
        );
        samples.push({
          at: now(),
          checkpoint: BigInt(rows[0]?.checkpoint ?? '0'),
          head: BigInt(rows[0]?.head ?? '0'),
        });
        if (k % 25 === 0) {
          const { rows: oldest } = await client.query<{
            datname: string | null;
            application_name: string | null;
            age_ms: number;
          }>(
            `SELECT datname, application_name, extract(epoch FROM clock_timestamp() - xact_start) * 1000 AS age_ms
             FROM pg_stat_activity WHERE backend_xid IS NOT NULL ORDER BY xact_start LIMIT 1`,
          );
          horizon.push({
            database: oldest[0]?.datname ?? '',
            application: oldest[0]?.application_name ?? '',
            ageMs: Number(oldest[0]?.age_ms ?? 0),
          });
        }
        await new Promise((r) => setTimeout(r, everyMs));
      }
    } finally {
      await client.end();
    }
  })();
  return {
    samples,
    horizon,
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** Earliest sample whose `field` is at or past `position`; both fields only grow over time. */
function firstAt(
  samples: readonly Sample[],
  field: 'checkpoint' | 'head',
  position: bigint,
): number | undefined {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid]![field] >= position) hi = mid;
    else lo = mid + 1;
  }
  return samples[lo]?.at;
}

interface LagSetup {
  url: string;
  databaseName: string;
  store: EventStore;
  commands: ServerCommands;
  runner: ProjectionRunner;
  serverIds: string[];
  /** When the projector's subscription handed each event (by position) to the runner. */
  delivered: Map<bigint, number>;
  applyTimer: PhaseTimer;
}

/** Paced (open-loop) UpdateServer commands at `targetRate` for `durationMs`; lag measured per event. */
async function runAtRate(
  setup: LagSetup,
  targetRate: number,
  durationMs: number,
  aim: boolean,
): Promise<BenchResult> {
  const { commands, runner, store, serverIds } = setup;
  setup.applyTimer.reset();
  const poller = pollCheckpoint(setup.url, 2);
  const cpuStart = await cpuTimes();
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const intervalMs = 1000 / targetRate;
  const total = Math.round((durationMs / 1000) * targetRate);
  const maxInFlight = 256;
  const results: Array<{ scheduled: number; acked: number; position: bigint }> = [];
  const failures: string[] = [];
  let inFlight = 0;
  let skipped = 0;
  const pending = new Set<Promise<void>>();
  const start = now() + 50;
  for (let i = 0; i < total; i++) {
    const scheduled = start + i * intervalMs;
    const wait = scheduled - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (inFlight >= maxInFlight) {
      skipped++;
      continue;
    }
    inFlight++;
    const serverId = serverIds[i % serverIds.length]!;
    const p = commands
      .update(serverId, { description: `update ${i}`, tags: ['bench', `n${i % 7}`] }, meta())
      .then(
        (r) => {
          if (r.position !== undefined) results.push({ scheduled, acked: now(), position: r.position });
        },
        (e: unknown) => {
          failures.push(String(e));
        },
      )
      .finally(() => {
        inFlight--;
        pending.delete(p);
      });
    pending.add(p);
  }
  await Promise.all([...pending]);
  const issuedMs = now() - start;
  let maxPosition = 0n;
  let first: bigint | undefined;
  for (const r of results) {
    if (r.position > maxPosition) maxPosition = r.position;
    if (first === undefined || r.position < first) first = r.position;
  }
  await runner.waitForPosition('servers', maxPosition, 120_000);
  await new Promise((r) => setTimeout(r, 20));
  await poller.stop();
  loopDelay.disable();

  // recordedAt of every event appended during the run (the append transaction's now()).
  const recordedAt = new Map<bigint, number>();
  let after = (first ?? 1n) - 1n;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 1000 });
    for (const e of page) recordedAt.set(e.position, e.recordedAt.getTime());
    if (page.length < 1000) break;
    after = page.at(-1)!.position;
  }

  const fromAck: number[] = [];
  const fromRecorded: number[] = [];
  const toReadable: number[] = [];
  const readableToVisible: number[] = [];
  const readableToDelivered: number[] = [];
  const deliveredToVisible: number[] = [];
  const commandLatency: number[] = [];
  let unseen = 0;
  for (const r of results) {
    commandLatency.push(r.acked - r.scheduled);
    const visible = firstAt(poller.samples, 'checkpoint', r.position);
    const readable = firstAt(poller.samples, 'head', r.position);
    const rec = recordedAt.get(r.position);
    if (visible === undefined || rec === undefined) {
      unseen++;
      continue;
    }
    // The row can become visible before the client has read the COMMIT's answer: that is 0 lag.
    fromAck.push(Math.max(0, visible - r.acked));
    fromRecorded.push(visible - rec);
    if (readable !== undefined) {
      toReadable.push(readable - rec);
      readableToVisible.push(Math.max(0, visible - readable));
    }
    const delivered = setup.delivered.get(r.position);
    if (delivered !== undefined) {
      if (readable !== undefined) readableToDelivered.push(Math.max(0, delivered - readable));
      deliveredToVisible.push(Math.max(0, visible - delivered));
    }
  }
  const subscription = summarize(readableToDelivered);
  const applying = summarize(deliveredToVisible);
  const lag = summarize(fromRecorded);
  const lagAck = summarize(fromAck);
  const readableLag = summarize(toReadable);
  const projectionWork = summarize(readableToVisible);
  const cmd = summarize(commandLatency);
  const achieved = (results.length * 1000) / issuedMs;
  const pollGaps = summarize(poller.samples.slice(1).map((s, i) => s.at - poller.samples[i]!.at));
  const foreign = poller.horizon.filter((h) => h.database !== '' && h.database !== setup.databaseName);
  const ownSamples = poller.horizon.filter((h) => h.database === setup.databaseName);
  const own = summarize(ownSamples.map((h) => h.ageMs));
  const byProjector = summarize(
    ownSamples.filter((h) => h.application === PROJECTOR_APP).map((h) => h.ageMs),
  );
  const cpuEnd = await cpuTimes();
  const cpuBusy = (cpuEnd.busy - cpuStart.busy) / (cpuEnd.total - cpuStart.total);
  const apply = setup.applyTimer.get('apply');
  setup.applyTimer.reset();
  const label = 'UpdateServer command latency';
  const rows: Row[] = [
    {
      bench: 'lag',
      metric: `p50 projection lag (recordedAt → row visible), ${targetRate} cmd/s`,
      unit: 'ms',
      value: lag.p50,
      baseline: cmd.p50,
      baselineLabel: label,
      better: 'lower',
    },
    {
      bench: 'lag',
      metric: `p99 projection lag (recordedAt → row visible), ${targetRate} cmd/s`,
      unit: 'ms',
      value: lag.p99,
      baseline: cmd.p99,
      baselineLabel: label,
      better: 'lower',
      ...(aim && { aim: { text: 'p99 ≤ 100 ms', met: lag.p99 <= 100 } }),
    },
  ];
  const ms = (v: number) => v.toFixed(1);
  const notes: Note[] = [
    {
      bench: 'lag',
      text: `${targetRate} cmd/s for ${durationMs / 1000} s: ${results.length} commands acked, ${achieved.toFixed(0)} cmd/s achieved, ${skipped} not sent (${maxInFlight} already in flight), ${failures.length} failed${failures[0] ? ` (first: ${failures[0]})` : ''}, ${unseen} not matched; lag max ${ms(lag.max)} ms; from command ack: p50 ${ms(lagAck.p50)} ms, p99 ${ms(lagAck.p99)} ms; all CPUs ${(cpuBusy * 100).toFixed(0)}% busy; event-loop delay p99 ${ms(loopDelay.percentile(99) / 1e6)} ms; checkpoint polled every ${ms(pollGaps.p50)} ms (p50 gap; the resolution of these figures)`,
    },
    {
      bench: 'lag',
      text: `${targetRate} cmd/s, lag split: recordedAt → readable by readAll (store visibility horizon) p50 ${ms(readableLag.p50)} ms, p99 ${ms(readableLag.p99)} ms; readable → row visible p50 ${ms(projectionWork.p50)} ms, p99 ${ms(projectionWork.p99)} ms, of which readable → delivered by the subscription p50 ${ms(subscription.p50)} ms, p99 ${ms(subscription.p99)} ms and delivered → visible (batching, apply, commit) p50 ${ms(applying.p50)} ms, p99 ${ms(applying.p99)} ms; read-model writes (apply/applyBatch) ${ms((apply.ms * 1000) / Math.max(1, apply.items))} µs per event on average over ${apply.items} events in ${apply.calls} calls; age of the oldest transaction holding an xid (= holding the horizon back) in the bench database p50 ${ms(own.p50)} ms, p99 ${ms(own.p99)} ms (${own.count} samples), held by the projector's own batch transaction in ${byProjector.count} of them (p50 ${ms(byProjector.p50)} ms); it was in another database in ${foreign.length} of ${poller.horizon.length} samples${foreign.length ? ` (oldest ${ms(Math.max(...foreign.map((f) => f.ageMs)))} ms)` : ''}`,
    },
  ];
  return { rows, notes };
}

export async function lagBench(ctx: BenchContext): Promise<BenchResult> {
  const db = await openPgStore(ctx, 'lag', 24);
  const databaseName = new URL(db.url).pathname.slice(1);
  const commands = makeServerCommands({ store: db.store, registry, secrets, clock: systemClock });
  // The projector as its own role: its own pool and store, as in a distributed deployment, so its
  // queries never queue behind the commands' in the pool.
  const projectorUrl = new URL(db.url);
  projectorUrl.searchParams.set('application_name', PROJECTOR_APP);
  const projectorSql = openPostgres({ url: projectorUrl.toString(), max: 4 });
  const projectorStore = createPostgresEventStore({ connection: projectorSql });
  const delivered = new Map<bigint, number>();
  async function* tap(source: AsyncIterable<RecordedEvent>): AsyncGenerator<RecordedEvent> {
    for await (const e of source) {
      delivered.set(e.position, now());
      yield e;
    }
  }
  const observedStore: EventStore = {
    ...projectorStore,
    subscribeToAll: (options) => tap(projectorStore.subscribeToAll(options)),
  };
  const applyTimer = new PhaseTimer();

  const runner = createProjectionRunner({
    store: observedStore,
    db: projectorSql.db,
    projections: [timedProjection(serversProjection, applyTimer, 'apply')],
    registry,
  });
  const serverCount = 500;
  try {
    await runner.start();
    ctx.log(`lag: registering ${serverCount} servers`);
    const serverIds: string[] = [];
    let n = 0;
    let lastPosition = 0n;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (n < serverCount) {
          const i = n++;
          const r = await commands.register(
            parseRegistration({
              name: `lag-${i}`,
              transport: { type: 'streamable-http', url: `https://mcp.example.com/${i}`, headers: {} },
              tags: ['bench'],
            }),
            meta(),
          );
          serverIds.push(r.serverId);
          if (r.position !== undefined && r.position > lastPosition) lastPosition = r.position;
        }
      }),
    );
    if (!(await runner.waitForPosition('servers', lastPosition, 60_000)))
      throw new Error('projection did not catch up');
    const setup: LagSetup = {
      url: db.url,
      databaseName,
      store: db.store,
      commands,
      runner,
      serverIds,
      delivered,
      applyTimer,
    };
    const rows: Row[] = [];
    const notes: Note[] = [];
    for (const [rate, durationMs, aim] of [
      [500, ctx.scale(20_000, 6_000), true],
      [250, ctx.scale(10_000, 3_000), false],
      [100, ctx.scale(10_000, 3_000), false],
    ] as const) {
      ctx.log(`lag: ${rate} UpdateServer commands/s for ${durationMs / 1000} s, projection runner live`);
      const r = await runAtRate(setup, rate, durationMs, aim);
      rows.push(...r.rows);
      notes.push(...r.notes);
    }
    return { rows, notes };
  } finally {
    await runner.stop();
    await projectorStore.close();
    await projectorSql.close();
    await db.close();
  }
}
