import { availableParallelism } from 'node:os';
import { sql } from 'kysely';
import {
  createAuditLog,
  createCheckpointSigner,
  generateSigningKeyPem,
  parseSigningKey,
  startSealer,
} from '../event-store/audit/index.ts';
import { readChainHead } from '../event-store/postgres/event-chain.ts';
import { createLogger } from '../kernel/logger.ts';
import { verifyThroughGateway } from './audit-gateway.ts';
import { type BenchContext, withCpu } from './context.ts';
import { openPgStore } from './fixtures.ts';
import { replayBare } from './replay.bench.ts';
import type { BenchResult, Row } from './report.ts';
import { rate } from './stats.ts';

/**
 * The tamper-evident log (docs/audit.md): how fast the sealer chains a log it catches up on, and how
 * fast `audit verify` checks it, each next to a bare keyset SELECT over the same table (what reading
 * the rows costs before any hashing). Verify is measured as a user asks for it — a gateway started
 * as the README starts one (the bundled program), on its threads and then on its own thread, with
 * its /health probed meanwhile — and in this process, on threads and on the calling thread, with the
 * CPU each verified event costs here and in the database, which bounds the rate the machine's cores
 * allow. The log is 1,000,000 tool-call-like events (100,000 with --quick), written by one
 * INSERT … SELECT (an appender like any other: it registers first), four events per stream. The
 * append path has no hashing to measure: the sealer is off it.
 */
export async function auditBench(ctx: BenchContext): Promise<BenchResult> {
  const count = ctx.scale(1_000_000, 100_000);
  const db = await openPgStore(ctx, 'audit');
  try {
    ctx.log(`audit: filling a log of ${count} events`);
    await db.sql.db.transaction().execute(async (trx) => {
      await sql`SELECT sy_es.register_appender()`.execute(trx);
      await sql`
        INSERT INTO sy_es.events (position, tx_id, id, stream, category, revision, type, data, metadata)
        SELECT pg_current_xact_id()::text::bigint * 1048576 + g, pg_current_xact_id(), gen_random_uuid(),
               'toolcall-' || (g / 4), 'toolcall', g % 4, 'ToolCallSucceeded',
               jsonb_build_object('callId', g, 'server', 'everything', 'tool', 'echo', 'durationMs', g % 97,
                                  'result', jsonb_build_object('content', jsonb_build_array(
                                    jsonb_build_object('type', 'text', 'text', 'hello ' || g)))),
               jsonb_build_object('correlationId', gen_random_uuid(), 'causationId', gen_random_uuid(),
                                  'actor', 'principal-bench', 'tenant', 'default', 'schemaVersion', 1)
        FROM generate_series(0, ${count - 1}::int) AS g`.execute(trx);
    });
    await sql`ANALYZE sy_es.events`.execute(db.sql.db);
    const head = await db.store.headPosition();

    const signer = createCheckpointSigner(parseSigningKey(generateSigningKeyPem()));
    const t0 = performance.now();
    const sealer = startSealer({
      store: db.store,
      db: db.sql.db,
      signer,
      logger: createLogger({ level: 'silent' }),
    });
    while (((await readChainHead(db.sql.db))?.position ?? 0n) < head)
      await new Promise((r) => setTimeout(r, 50));
    const sealMs = performance.now() - t0;
    await sealer.stop();
    // Settled tables, as a log verified later would be: a million fresh rows are otherwise read with
    // autovacuum at work on them and their hint bits still to be written by the first reader.
    await sql`VACUUM (ANALYZE) sy_es.events`.execute(db.sql.db);
    await sql`VACUUM (ANALYZE) sy_es.event_chain`.execute(db.sql.db);

    const bare = await replayBare(db.url, 2000);
    const threads = availableParallelism();
    const verify = (threadCount: number) =>
      withCpu(async () => {
        const t0 = performance.now();
        const report = await createAuditLog({
          db: db.sql.db,
          publicKeyPem: signer.publicKeyPem,
          keyId: signer.keyId,
          ...(threadCount > 0 && { threads: { url: db.url, count: threadCount } }),
        }).verify();
        if (!report.ok || report.checked !== count)
          throw new Error(`audit bench: verify failed ${JSON.stringify(report.firstBad)}`);
        return { report, elapsedMs: performance.now() - t0 };
      });
    const alone = await verify(0);
    const parallel = await verify(threads);
    ctx.log('audit: verify through a gateway (the bundled program), on its own thread, then on threads');
    const gateway = async (threadCount: number | undefined) => {
      const run = await verifyThroughGateway(ctx, {
        url: db.url,
        publicKeyPem: signer.publicKeyPem,
        threads: threadCount,
        what: `audit${threadCount ?? ''}`,
      });
      if (!run.report.ok || run.report.checked !== count)
        throw new Error(`audit bench: the gateway's verify failed ${JSON.stringify(run.report.firstBad)}`);
      return run;
    };
    const gatewayAlone = await gateway(0);
    const gatewayThreads = await gateway(undefined);
    const baseline = rate(bare.events, bare.elapsedMs);
    const verifyRate = rate(count, gatewayThreads.elapsedMs);
    const signatures = parallel.report.checkpoints.verified;
    const rows: Row[] = [
      {
        bench: 'audit',
        metric: `GET /api/v1/audit/verify of a gateway (${threads} threads), ${count} events (hashes, chains, ${signatures} signatures)`,
        unit: 'events/s',
        value: verifyRate,
        baseline,
        baselineLabel: 'bare keyset SELECT',
        better: 'higher',
        aim: { text: '≥ 100,000 events/s', met: verifyRate >= 100_000 },
      },
      {
        bench: 'audit',
        metric: `the gateway's /health p50 while it verifies on ${threads} threads (every 100 ms)`,
        unit: 'ms',
        value: gatewayThreads.healthMs.p50,
        baseline: gatewayAlone.healthMs.p50,
        baselineLabel: 'verifying on its own thread',
        better: 'lower',
      },
      {
        bench: 'audit',
        metric: `audit verify in process on ${threads} threads`,
        unit: 'events/s',
        value: rate(count, parallel.elapsedMs),
        baseline,
        baselineLabel: 'bare keyset SELECT',
        better: 'higher',
      },
      {
        bench: 'audit',
        metric: `audit verify in process on the calling thread`,
        unit: 'events/s',
        value: rate(count, alone.elapsedMs),
        baseline,
        baselineLabel: 'bare keyset SELECT',
        better: 'higher',
      },
      {
        bench: 'audit',
        metric: `sealer catching up on ${count} events`,
        unit: 'events/s',
        value: rate(count, sealMs),
        baseline,
        baselineLabel: 'bare keyset SELECT',
        better: 'higher',
      },
    ];
    const perEvent = (run: typeof parallel) => {
      const wallUs = run.elapsedMs * 1000;
      const own = (run.processCores * wallUs) / count;
      const rest = (run.machineBusy * threads * wallUs) / count - own;
      return { own, rest, ceiling: Math.round((threads * 1e6) / (own + rest)) };
    };
    const p = perEvent(parallel);
    const a = perEvent(alone);
    const notes = [
      `the gateway verified in ${Math.round(gatewayThreads.elapsedMs)} ms on ${threads} threads and in ${Math.round(gatewayAlone.elapsedMs)} ms on its own thread; /health max ${Math.round(gatewayThreads.healthMs.max)} ms against ${Math.round(gatewayAlone.healthMs.max)} ms meanwhile`,
      `CPU per verified event on ${threads} threads: ${p.own.toFixed(1)} µs in this process, ${p.rest.toFixed(1)} µs elsewhere (the database); ${threads} cores at that cost allow at most ${p.ceiling.toLocaleString('en-US')} events/s`,
      `CPU per verified event on the calling thread: ${a.own.toFixed(1)} µs in this process, ${a.rest.toFixed(1)} µs elsewhere`,
    ];
    return {
      rows,
      notes: [
        ...notes.map((text) => ({ bench: 'audit', text })),
        {
          bench: 'audit',
          text: 'appends pay nothing for the chain: the sealer follows the log off the append path',
        },
      ],
    };
  } finally {
    await db.close();
  }
}
