import { type Kysely, sql } from 'kysely';
import type { ChainHead, ChainLink, HashableEvent } from '../audit/chain.ts';
import type { Checkpoint } from '../audit/signing.ts';
import type { EventStoreTables } from './schema.ts';

/*
 * The tables of the tamper-evident log (migrations/event-store/2026-12-07-001-event-chain.ts) and the
 * reads the verifier makes of sy_es.events. The verifier reads the tables themselves, not the
 * store's readAll: it must see every row that is there (an inserted one too), in position order.
 */

interface ChainTables extends EventStoreTables {
  'sy_es.event_chain': {
    position: string;
    seq: string;
    stream: string;
    revision: string;
    event_hash: string;
    stream_hash: string;
    chain_hash: string;
  };
  'sy_es.event_chain_checkpoints': {
    position: string;
    seq: string;
    chain_hash: string;
    signed_at: Date;
    key_id: string;
    signature: string;
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the connection's Kysely is shared by several table sets
type AnyDb = Kysely<any>;
const chainDb = (db: AnyDb | Kysely<ChainTables>) => db as Kysely<ChainTables>;

/** Thrown when another sealer moved the chain meanwhile: start again from the stored head. */
export class ChainMovedError extends Error {}

/** Second key of the advisory lock that serializes writers of the chain (first: 'SYES'). */
const CHAIN_LOCK = sql`pg_advisory_xact_lock(1398359379, 1128808782)`;

export async function readChainHead(db: AnyDb | Kysely<ChainTables>): Promise<ChainHead | undefined> {
  const row = await chainDb(db)
    .selectFrom('sy_es.event_chain')
    .select(['position', 'seq', 'chain_hash'])
    .orderBy('position', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && { position: BigInt(row.position), seq: BigInt(row.seq), chainHash: row.chain_hash };
}

/**
 * The last sealed link of each of these streams (streams with none are absent); with `atOrBefore`,
 * the last at or before that position: where each stream stood when a range of the log begins.
 */
export async function readStreamHeads(
  db: AnyDb,
  streams: readonly string[],
  atOrBefore?: bigint,
): Promise<Map<string, { revision: bigint; streamHash: string }>> {
  const heads = new Map<string, { revision: bigint; streamHash: string }>();
  if (streams.length === 0) return heads;
  const before = atOrBefore === undefined ? sql`` : sql`AND c.position <= ${atOrBefore.toString()}`;
  // One probe of the (stream, revision) index per stream, whatever the planner's statistics say: a
  // DISTINCT ON over `stream = ANY(…)` was planned as a scan of the chain while the sealer grew it
  // faster than autovacuum analysed it (25 ms a batch at 40,000 links, sealing slower as it went).
  // ORDER BY names the table's column: the text alias would sort '9' after '10'.
  const { rows } = await sql<{ stream: string; revision: string; stream_hash: string }>`
    SELECT s.stream, c.revision::text AS revision, c.stream_hash
    FROM unnest(${[...streams]}::text[]) AS s(stream)
    CROSS JOIN LATERAL (
      SELECT c.revision, c.stream_hash FROM sy_es.event_chain c
      WHERE c.stream = s.stream ${before} ORDER BY c.revision DESC LIMIT 1
    ) c`.execute(db);
  for (const r of rows) heads.set(r.stream, { revision: BigInt(r.revision), streamHash: r.stream_hash });
  return heads;
}

/** The links numbered `seqs` that exist, in position order: where parallel verification splits the log. */
export async function readLinksAtSeqs(db: AnyDb, seqs: readonly bigint[]): Promise<ChainHead[]> {
  if (seqs.length === 0) return [];
  const { rows } = await sql<{ position: string; seq: string; chain_hash: string }>`
    SELECT position::text AS position, seq::text AS seq, chain_hash FROM sy_es.event_chain
    WHERE seq = ANY(${seqs.map(String)}::bigint[]) ORDER BY position`.execute(db);
  return rows.map((r) => ({ position: BigInt(r.position), seq: BigInt(r.seq), chainHash: r.chain_hash }));
}

/**
 * Appends links (and checkpoints) in one transaction, only if the chain's head is still `expected`:
 * a second sealer (leadership changing hands) cannot fork the chain.
 */
export async function appendLinks(
  db: AnyDb,
  expected: ChainHead,
  links: readonly ChainLink[],
  checkpoints: readonly Checkpoint[],
): Promise<void> {
  await chainDb(db)
    .transaction()
    .execute(async (trx) => {
      await sql`SELECT ${CHAIN_LOCK}`.execute(trx);
      const head = (await readChainHead(trx))?.seq ?? 0n;
      if (head !== expected.seq) throw new ChainMovedError(`the chain is at ${head}, not ${expected.seq}`);
      if (links.length > 0)
        await trx
          .insertInto('sy_es.event_chain')
          .values(
            links.map((l) => ({
              position: l.position.toString(),
              seq: l.seq.toString(),
              stream: l.stream,
              revision: l.revision.toString(),
              event_hash: l.eventHash,
              stream_hash: l.streamHash,
              chain_hash: l.chainHash,
            })),
          )
          .execute();
      if (checkpoints.length > 0)
        await trx
          .insertInto('sy_es.event_chain_checkpoints')
          .values(
            checkpoints.map((c) => ({
              position: c.position.toString(),
              seq: c.seq.toString(),
              chain_hash: c.chainHash,
              signed_at: c.signedAt,
              key_id: c.keyId,
              signature: c.signature,
            })),
          )
          .execute();
    });
}

export async function readCheckpoints(db: AnyDb): Promise<Checkpoint[]> {
  const rows = await chainDb(db)
    .selectFrom('sy_es.event_chain_checkpoints')
    .selectAll()
    .orderBy('position', 'asc')
    .execute();
  return rows.map((r) => ({
    position: BigInt(r.position),
    seq: BigInt(r.seq),
    chainHash: r.chain_hash,
    signedAt: new Date(r.signed_at),
    keyId: r.key_id,
    signature: r.signature,
  }));
}

const PAGE = 2_000;

/**
 * Keyset pages in position order after `after`, the next page read while the caller works through
 * this one: the verifier hashes one page while the database reads the next.
 */
async function* pages<T>(
  read: (after: bigint) => Promise<T[]>,
  positionOf: (row: T) => bigint,
  after: bigint,
): AsyncGenerator<T[]> {
  let next = read(after);
  for (;;) {
    const rows = await next;
    const full = rows.length === PAGE;
    if (full) {
      next = read(positionOf(rows.at(-1)!));
      // A caller that stops early leaves it unawaited: not an unhandled rejection.
      next.catch(() => undefined);
    }
    yield rows;
    if (!full) return;
  }
}

/**
 * The rows of sy_es.events after `after` and up to `through`, in position order, a page at a time,
 * with the fields the chain hashes: recorded_at as JavaScript writes an ISO time (both truncate to
 * the millisecond), not parsed into a Date to be printed again.
 */
export function eventPages(db: AnyDb, through: bigint, after = 0n): AsyncGenerator<HashableEvent[]> {
  return pages(
    async (from) =>
      (
        await sql<HashableEvent>`
          SELECT position, id, stream, revision, type, data, metadata,
                 to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "recordedAt"
          FROM sy_es.events WHERE position > ${from.toString()} AND position <= ${through.toString()}
          ORDER BY position LIMIT ${PAGE}`.execute(db)
      ).rows,
    (e) => BigInt(e.position),
    after,
  );
}

/** The links of sy_es.event_chain after `after` (and up to `through`), in position order, a page at a time. */
export function linkPages(db: AnyDb, after = 0n, through?: bigint): AsyncGenerator<ChainLink[]> {
  return pages(
    async (from) => {
      let query = chainDb(db)
        .selectFrom('sy_es.event_chain')
        .selectAll()
        .where('position', '>', from.toString());
      if (through !== undefined) query = query.where('position', '<=', through.toString());
      return (await query.orderBy('position', 'asc').limit(PAGE).execute()).map((r) => ({
        position: BigInt(r.position),
        seq: BigInt(r.seq),
        stream: r.stream,
        revision: BigInt(r.revision),
        eventHash: r.event_hash,
        streamHash: r.stream_hash,
        chainHash: r.chain_hash,
      }));
    },
    (l) => l.position,
    after,
  );
}
