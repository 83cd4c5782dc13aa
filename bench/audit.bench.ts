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
import type { BenchContext } from './context.ts';
import { openPgStore } from './fixtures.ts';
import { replayBare } from './replay.bench.ts';
import type { BenchResult, Row } from './report.ts';
import { rate } from './stats.ts';

/**
 * The tamper-evident log (docs/audit.md): how fast the sealer chains a log it catches up on, and how
 * fast `audit verify` checks it, each next to a bare keyset SELECT over the same table (what reading
 * the rows costs before any hashing). The log is 1,000,000 tool-call-like events (100,000 with
 * --quick), written by one INSERT … SELECT (an appender like any other: it registers first), four
 * events per stream. The append path has no hashing to measure: the sealer is off it.
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

    const bare = await replayBare(db.url, 2000);
    const t1 = performance.now();
    const report = await createAuditLog({
      db: db.sql.db,
      publicKeyPem: signer.publicKeyPem,
      keyId: signer.keyId,
    }).verify();
    const verifyMs = performance.now() - t1;
    if (!report.ok || report.checked !== count)
      throw new Error(`audit bench: verify failed ${JSON.stringify(report.firstBad)}`);
    const baseline = rate(bare.events, bare.elapsedMs);
    const verifyRate = rate(count, verifyMs);
    const rows: Row[] = [
      {
        bench: 'audit',
        metric: `audit verify, ${count} events (hashes, chains, ${report.checkpoints.verified} signatures)`,
        unit: 'events/s',
        value: verifyRate,
        baseline,
        baselineLabel: 'bare keyset SELECT',
        better: 'higher',
        aim: { text: '≥ 100,000 events/s', met: verifyRate >= 100_000 },
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
    return {
      rows,
      notes: [
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
