import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { makeServerCommands } from '../domains/servers/handlers.ts';
import { systemClock } from '../kernel/clock.ts';
import type { CommandMeta } from '../kernel/decider.ts';
import { createProjectionRunner, serversProjection } from '../projections/index.ts';
import type { BenchContext } from './context.ts';
import { openPgStore, registry, secrets } from './fixtures.ts';
import type { BenchResult, Row } from './report.ts';
import { summarize } from './stats.ts';

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

/**
 * Polls, every ~`everyMs`, the servers projection's checkpoint and the store's readable head (the
 * query of headPosition). The checkpoint moves in the same transaction as the read-model rows, so
 * "checkpoint ≥ p" is exactly "the row of the event at p is visible"; "head ≥ p" is "readAll can
 * return the event at p" — which splits the lag into the store's visibility horizon and the
 * projection's own work.
 */
function pollCheckpoint(url: string, everyMs: number) {
  const samples: Sample[] = [];
  let stop = false;
  const client = new pg.Client({ connectionString: url });
  const done = (async () => {
    await client.connect();
    try {
      while (!stop) {
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
        await new Promise((r) => setTimeout(r, everyMs));
      }
    } finally {
      await client.end();
    }
  })();
  return {
    samples,
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

export async function lagBench(ctx: BenchContext): Promise<BenchResult> {
  const db = await openPgStore(ctx, 'lag', 24);
  const commands = makeServerCommands({ store: db.store, registry, secrets, clock: systemClock });
  const runner = createProjectionRunner({
    store: db.store,
    db: db.sql.db,
    projections: [serversProjection],
    registry,
  });
  const targetRate = 500;
  const durationMs = ctx.scale(20_000, 8_000);
  const serverCount = 500;
  try {
    await runner.start();
    ctx.log(`lag: registering ${serverCount} servers`);
    const ids: string[] = [];
    let n = 0;
    let lastPosition = 0n;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (n < serverCount) {
          const i = n++;
          const r = await commands.register(
            {
              name: `lag-${i}`,
              transport: { type: 'streamable-http', url: `https://mcp.example.com/${i}`, headers: {} },
              tags: ['bench'],
            },
            meta(),
          );
          ids.push(r.serverId);
          if (r.position !== undefined && r.position > lastPosition) lastPosition = r.position;
        }
      }),
    );
    if (!(await runner.waitForPosition('servers', lastPosition, 30_000)))
      throw new Error('projection did not catch up');

    ctx.log(`lag: ${targetRate} UpdateServer commands/s for ${durationMs / 1000} s, projection runner live`);
    const poller = pollCheckpoint(db.url, 2);
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
      const serverId = ids[i % ids.length]!;
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
    await runner.waitForPosition('servers', maxPosition, 30_000);
    await new Promise((r) => setTimeout(r, 20));
    await poller.stop();

    // recordedAt of every event appended during the run (the append transaction's now()).
    const recordedAt = new Map<bigint, number>();
    let after = (first ?? 1n) - 1n;
    for (;;) {
      const page = await db.store.readAll({ after, maxCount: 1000 });
      for (const e of page) recordedAt.set(e.position, e.recordedAt.getTime());
      if (page.length < 1000) break;
      after = page.at(-1)!.position;
    }

    const fromAck: number[] = [];
    const fromRecorded: number[] = [];
    const toReadable: number[] = [];
    const readableToVisible: number[] = [];
    const commandLatency: number[] = [];
    let unseen = 0;
    for (const r of results) {
      commandLatency.push(r.acked - r.scheduled);
      const visible = firstAt(poller.samples, 'checkpoint', r.position);
      const readable = firstAt(poller.samples, 'head', r.position);
      if (visible === undefined) {
        unseen++;
        continue;
      }
      // The row can become visible before the client has read the COMMIT's answer: that is 0 lag.
      fromAck.push(Math.max(0, visible - r.acked));
      const rec = recordedAt.get(r.position);
      if (rec !== undefined) fromRecorded.push(visible - rec);
      if (rec !== undefined && readable !== undefined) {
        toReadable.push(readable - rec);
        readableToVisible.push(Math.max(0, visible - readable));
      }
    }
    const readableLag = summarize(toReadable);
    const projectionWork = summarize(readableToVisible);
    const lagAck = summarize(fromAck);
    const lagRec = summarize(fromRecorded);
    const cmd = summarize(commandLatency);
    const achieved = (results.length * 1000) / issuedMs;
    const pollGaps = poller.samples.slice(1).map((s, i) => s.at - poller.samples[i]!.at);
    const label = 'UpdateServer command latency';
    const rows: Row[] = [
      {
        bench: 'lag',
        metric: `p50 projection lag (recordedAt → row visible), ${targetRate} cmd/s`,
        unit: 'ms',
        value: lagRec.p50,
        baseline: cmd.p50,
        baselineLabel: label,
        better: 'lower',
      },
      {
        bench: 'lag',
        metric: `p99 projection lag (recordedAt → row visible), ${targetRate} cmd/s`,
        unit: 'ms',
        value: lagRec.p99,
        baseline: cmd.p99,
        baselineLabel: label,
        better: 'lower',
        aim: { text: 'p99 ≤ 100 ms', met: lagRec.p99 <= 100 },
      },
      {
        bench: 'lag',
        metric: `p50 projection lag (command acked → row visible)`,
        unit: 'ms',
        value: lagAck.p50,
        baseline: cmd.p50,
        baselineLabel: label,
        better: 'lower',
      },
      {
        bench: 'lag',
        metric: `p99 projection lag (command acked → row visible)`,
        unit: 'ms',
        value: lagAck.p99,
        baseline: cmd.p99,
        baselineLabel: label,
        better: 'lower',
      },
    ];
    const notes = [
      {
        bench: 'lag',
        text: `${results.length} commands acked at ${achieved.toFixed(0)} cmd/s achieved (target ${targetRate}), ${skipped} skipped at ${maxInFlight} in flight, ${failures.length} failed${failures[0] ? ` (first: ${failures[0]})` : ''}, ${unseen} never seen by the poller; lag max ${lagRec.max.toFixed(1)} ms; checkpoint polled every ${summarize(pollGaps).p50.toFixed(1)} ms (p50 gap), so lag figures carry up to that much resolution error`,
      },
      {
        bench: 'lag',
        text: `lag split: recordedAt → readable by readAll (store visibility horizon) p50 ${readableLag.p50.toFixed(1)} ms, p99 ${readableLag.p99.toFixed(1)} ms; readable → row visible (subscription + apply + commit) p50 ${projectionWork.p50.toFixed(1)} ms, p99 ${projectionWork.p99.toFixed(1)} ms`,
      },
    ];
    return { rows, notes };
  } finally {
    await runner.stop();
    await db.close();
  }
}
