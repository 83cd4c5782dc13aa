import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../kernel/envelope.ts';
import { createLogger } from '../../kernel/logger.ts';
import type { ContractSubject } from '../../test/contracts/event-store.contract.ts';
import { pgliteSubject, pgSubject } from '../../test/event-store-subjects.ts';
import { hasPostgres } from '../../test/services.ts';
import type { SqlConnection } from '../postgres/connection.ts';
import { eventPages, readChainHead } from '../postgres/event-chain.ts';
import { type AuditLog, createAuditLog } from './audit-log.ts';
import { type ChainHead, EMPTY_HEAD, nextLink } from './chain.ts';
import { type Sealer, startSealer } from './sealer.ts';
import {
  type CheckpointSigner,
  checkpointFromJson,
  createCheckpointSigner,
  generateSigningKeyPem,
  parseSigningKey,
} from './signing.ts';
import { verifyChain } from './verify.ts';

type Subject = ContractSubject & { connection: SqlConnection; url?: string };

const metadata = { correlationId: 'c', causationId: 'k', actor: 'auditor-test', schemaVersion: 1 };
const event = (n: number): NewEvent => ({
  id: randomUUID(),
  type: 'Counted',
  data: { n, nested: { z: 'last', a: [1, 2.5, 'x'] } },
  metadata,
});

const targets: Array<[string, () => Promise<Subject>]> = [['PGlite', () => pgliteSubject('memory')]];
if (hasPostgres()) targets.unshift(['PostgreSQL', pgSubject]);
else console.warn('\n!!! DATABASE_URL not set: the tamper tests run on PGlite only\n');

/**
 * The tamper-evident log against a real database: events appended through the store, sealed by the
 * sealer, then rows changed behind the store's back with its triggers disabled — as a database
 * superuser could — and each change found at its position by `audit verify`.
 */
describe.each(targets)('audit: sealing and tamper detection (%s)', (name, factory) => {
  let subject: Subject;
  let db: SqlConnection['db'];
  let sealer: Sealer;
  let signer: CheckpointSigner;
  let audit: AuditLog;
  /** On PostgreSQL, the same log verified on two threads in ranges of four events (parallel-verify.ts). */
  let threaded: AuditLog | undefined;
  let positions: bigint[];

  /** The report of `audit verify`; on PostgreSQL, the threaded verify must answer exactly the same. */
  const verify = async () => {
    const report = await audit.verify();
    if (threaded) expect(await threaded.verify()).toEqual(report);
    return report;
  };

  /** Runs `change` with the events' (or the chain's) triggers off, as an attacker with superuser rights. */
  const behindTheStore = async (table: string, change: () => Promise<unknown>) => {
    await sql.raw(`ALTER TABLE ${table} DISABLE TRIGGER ALL`).execute(db);
    try {
      await change();
    } finally {
      await sql.raw(`ALTER TABLE ${table} ENABLE TRIGGER ALL`).execute(db);
    }
  };

  beforeAll(async () => {
    subject = await factory();
    db = subject.connection.db;
    const { store } = subject;
    signer = createCheckpointSigner(parseSigningKey(generateSigningKeyPem()));
    // Five streams, single appends and multi-stream appends interleaved.
    let n = 0;
    for (let round = 0; round < 6; round++) {
      for (let s = 0; s < 3; s++) await store.append(`count-${s}`, [event(n++)], 'any');
      await store.appendMany([
        { stream: 'count-3', events: [event(n++), event(n++)], expected: 'any' },
        { stream: 'count-4', events: [event(n++)], expected: 'any' },
      ]);
    }
    sealer = startSealer({
      store,
      db,
      signer,
      checkpointEvery: 10,
      logger: createLogger({ level: 'silent' }),
    });
    const head = await store.headPosition();
    const deadline = Date.now() + 10_000;
    while (((await readChainHead(db))?.position ?? 0n) < head) {
      if (Date.now() > deadline) throw new Error('the sealer did not reach the head');
      await new Promise((r) => setTimeout(r, 20));
    }
    await sealer.checkpointNow();
    await sealer.stop();
    positions = (await store.readAll({ maxCount: 1000 })).map((e) => e.position);
    audit = createAuditLog({ db, publicKeyPem: signer.publicKeyPem, keyId: signer.keyId });
    if (subject.url)
      threaded = createAuditLog({
        db,
        publicKeyPem: signer.publicKeyPem,
        keyId: signer.keyId,
        threads: { url: subject.url, count: 2, minRangeEvents: 4 },
      });
  });

  afterAll(async () => {
    await sealer?.stop();
    await subject?.teardown();
  });

  it('seals every event and signs checkpoints; verify passes and says how far', async () => {
    // A verify asked for while one runs shares it.
    const running = audit.verify();
    expect(audit.verify()).toBe(running);
    await running;
    const r = await verify();
    expect(r.firstBad).toBeUndefined();
    expect(r).toMatchObject({ ok: true, checked: 36, sealedThrough: positions.at(-1) });
    expect(r.checkpoints.verified).toBeGreaterThanOrEqual(4);
    expect(r.checkpoints.lastVerified).toBe(positions.at(-1));
  });

  // Threads take connections of their own: a PostgreSQL server's, not PGlite's.
  if (name === 'PostgreSQL')
    it('a verify whose threads cannot reach the database fails with the reason, and the next one works', async () => {
      const unreachable = createAuditLog({
        db,
        publicKeyPem: signer.publicKeyPem,
        keyId: signer.keyId,
        threads: { url: 'postgres://postgres@127.0.0.1:1/none', count: 2, minRangeEvents: 4 },
      });
      await expect(unreachable.verify()).rejects.toThrow(/audit verify: .*ECONNREFUSED/);
      expect((await verify()).ok).toBe(true);
    });

  it('the chain and its checkpoints refuse UPDATE and DELETE', async () => {
    await expect(sql`UPDATE sy_es.event_chain SET stream = 'x'`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM sy_es.event_chain_checkpoints`.execute(db)).rejects.toThrow(/append-only/);
  });

  it('finds an altered event at its position, and passes again once it is put back', async () => {
    const p = positions[7]!.toString();
    await behindTheStore('sy_es.events', () =>
      sql`UPDATE sy_es.events SET data = jsonb_set(data, '{n}', '700') WHERE position = ${p}::bigint`.execute(
        db,
      ),
    );
    expect((await verify()).firstBad).toMatchObject({ position: positions[7], code: 'altered' });
    await behindTheStore('sy_es.events', () =>
      sql`UPDATE sy_es.events SET data = jsonb_set(data, '{n}', '7') WHERE position = ${p}::bigint`.execute(
        db,
      ),
    );
    expect((await verify()).ok).toBe(true);
  });

  // positions[12] lies inside a range of the threaded verify; positions[9] (link 10, a checkpoint's)
  // is where one range ends and the next starts from its stored link.
  it.each([12, 9])('finds a removed event at its position (event %i)', async (i) => {
    const p = positions[i]!.toString();
    const { rows } = await sql<
      Record<string, unknown>
    >`SELECT * FROM sy_es.events WHERE position = ${p}::bigint`.execute(db);
    await behindTheStore('sy_es.events', () =>
      sql`DELETE FROM sy_es.events WHERE position = ${p}::bigint`.execute(db),
    );
    expect((await verify()).firstBad).toMatchObject({ position: positions[i], code: 'removed' });
    await behindTheStore('sy_es.events', () => db.insertInto('sy_es.events').values(rows[0]!).execute());
    expect((await verify()).ok).toBe(true);
  });

  it('finds an event inserted below the sealed head at its position', async () => {
    // The slot after an append's last event is free (positions are tx_id * 2^20 + index).
    const last = (
      await sql<{ position: string; tx_id: string }>`
      SELECT position::text AS position, tx_id::text AS tx_id FROM sy_es.events
      WHERE stream = 'count-0' ORDER BY position LIMIT 1 OFFSET 2`.execute(db)
    ).rows[0]!;
    const forged = BigInt(last.position) + 1n;
    await behindTheStore('sy_es.events', () =>
      sql`INSERT INTO sy_es.events (position, tx_id, id, stream, category, revision, type, data, metadata)
          VALUES (${forged.toString()}::bigint, ${last.tx_id}::xid8, ${randomUUID()}, 'forged-1', 'forged', 0,
                  'Counted', '{"n": -1}', ${JSON.stringify(metadata)}::jsonb)`.execute(db),
    );
    expect((await verify()).firstBad).toMatchObject({ position: forged, code: 'inserted' });
    await behindTheStore('sy_es.events', () =>
      sql`DELETE FROM sy_es.events WHERE position = ${forged.toString()}::bigint`.execute(db),
    );
    expect((await verify()).ok).toBe(true);
  });

  it('finds two events swapped in the order at the first of them', async () => {
    const [a, b] = [positions[4]!.toString(), positions[9]!.toString()];
    // Through a free position (1: transaction 0 never appends), the primary key being checked per row.
    const move = (from: string, to: string) =>
      sql`UPDATE sy_es.events SET position = ${to}::bigint WHERE position = ${from}::bigint`.execute(db);
    const swap = async () => {
      await move(a, '1');
      await move(b, a);
      await move('1', b);
    };
    await behindTheStore('sy_es.events', swap);
    expect((await verify()).firstBad).toMatchObject({ position: positions[4], code: 'altered' });
    await behindTheStore('sy_es.events', swap);
    expect((await verify()).ok).toBe(true);
  });

  it('finds a checkpoint whose signature is not the key’s', async () => {
    const { rows } = await sql<{ position: string; signature: string }>`
      SELECT position::text AS position, signature FROM sy_es.event_chain_checkpoints ORDER BY position LIMIT 1`.execute(
      db,
    );
    const c = rows[0]!;
    const forged = Buffer.alloc(64, 1).toString('base64');
    const set = (signature: string) =>
      behindTheStore('sy_es.event_chain_checkpoints', () =>
        sql`UPDATE sy_es.event_chain_checkpoints SET signature = ${signature} WHERE position = ${c.position}::bigint`.execute(
          db,
        ),
      );
    await set(forged);
    expect((await verify()).firstBad).toMatchObject({
      position: BigInt(c.position),
      code: 'checkpoint-signature',
    });
    await set(c.signature);
    expect((await verify()).ok).toBe(true);
  });

  // Last: it leaves the log rewritten.
  it('an event altered and the chain and checkpoints rewritten to match: caught by the exported checkpoints', async () => {
    const exported = JSON.parse(JSON.stringify(await audit.checkpoints()));
    expect(exported.publicKey).toBe(signer.publicKeyPem);
    const target = positions[20]!;
    await behindTheStore('sy_es.events', () =>
      sql`UPDATE sy_es.events SET data = jsonb_set(data, '{n}', '2000') WHERE position = ${target.toString()}::bigint`.execute(
        db,
      ),
    );
    // The attacker recomputes every link from the events (no secret needed) and drops the checkpoints
    // it cannot sign again.
    await behindTheStore('sy_es.event_chain', async () => {
      await behindTheStore('sy_es.event_chain_checkpoints', () =>
        sql`DELETE FROM sy_es.event_chain_checkpoints`.execute(db),
      );
      await sql`DELETE FROM sy_es.event_chain`.execute(db);
      let head: ChainHead = EMPTY_HEAD;
      const streams = new Map<string, { streamHash: string }>();
      const events = [];
      for await (const page of eventPages(db, positions.at(-1)!)) events.push(...page);
      for (const e of events) {
        const l = nextLink(head, e, streams.get(e.stream));
        streams.set(e.stream, l);
        head = { position: l.position, seq: l.seq, chainHash: l.chainHash };
        await db
          .insertInto('sy_es.event_chain')
          .values({
            position: l.position.toString(),
            seq: l.seq.toString(),
            stream: l.stream,
            revision: l.revision.toString(),
            event_hash: l.eventHash,
            stream_hash: l.streamHash,
            chain_hash: l.chainHash,
          })
          .execute();
      }
    });
    // The database's own chain is now consistent: only the exported, signed checkpoints tell.
    expect((await verify()).ok).toBe(true);
    const checkpoints = exported.checkpoints.map(checkpointFromJson);
    const r = await verifyChain({
      events: eventPages(db, checkpoints.at(-1).position),
      checkpoints,
      publicKeyPem: exported.publicKey,
      through: checkpoints.at(-1).position,
    });
    expect(r.ok).toBe(false);
    expect(r.firstBad?.code).toBe('checkpoint-mismatch');
    expect(r.firstBad!.after! < target && target <= r.firstBad!.position).toBe(true);
  });
});

describe.each(targets)(
  'audit: two sealers at once, following appends as they come (%s)',
  (_name, factory) => {
    let subject: Subject | undefined;
    afterAll(async () => subject?.teardown());

    it('never fork the chain: the one that loses the race starts again from the stored head', async () => {
      subject = await factory();
      const { store, connection } = subject;
      const db = connection.db;
      const signer = createCheckpointSigner(parseSigningKey(generateSigningKeyPem()));
      const logger = createLogger({ level: 'silent' });
      // No leader lock here on purpose: the chain's own head check is what keeps them apart.
      const sealers = [1, 2].map(() =>
        startSealer({ store, db, signer, checkpointEvery: 7, logger, retry: { firstMs: 5, maxMs: 20 } }),
      );
      try {
        for (let i = 0; i < 40; i++) {
          await store.appendMany([
            { stream: `race-${i % 5}`, events: [event(i)], expected: 'any' },
            { stream: `other-${i % 3}`, events: [event(i), event(i)], expected: 'any' },
          ]);
        }
        const head = await store.headPosition();
        const deadline = Date.now() + 15_000;
        while (((await readChainHead(db))?.position ?? 0n) < head) {
          if (Date.now() > deadline) throw new Error('the sealers did not reach the head');
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        for (const s of sealers) await s.stop();
      }
      const r = await createAuditLog({ db, publicKeyPem: signer.publicKeyPem, keyId: signer.keyId }).verify();
      expect(r.firstBad).toBeUndefined();
      expect(r.checked).toBe(120);
      expect(r.checkpoints.verified).toBeGreaterThanOrEqual(120 / 7 - 1);
    });
  },
);
