import type { Kysely } from 'kysely';
import { readChainHead, readCheckpoints, readLinksAtSeqs } from '../postgres/event-chain.ts';
import { EMPTY_HEAD } from './chain.ts';
import { planRanges, splitSeqs, verifyOnThreads } from './parallel-verify.ts';
import { type CheckpointJson, checkpointToJson } from './signing.ts';
import type { VerifyReport } from './verify.ts';
import { verifyRange } from './verify-range.ts';

/** The file `switchyard audit checkpoints --export` writes: all a third party needs besides the log. */
export interface CheckpointExport {
  format: 'switchyard-audit-checkpoints/1';
  /** SPKI PEM of the key that signs the checkpoints (undefined: none configured on this gateway). */
  publicKey: string | undefined;
  keyId: string | undefined;
  exportedAt: string;
  checkpoints: CheckpointJson[];
}

/** What the gateway asks of the tamper-evident log. */
export interface AuditLog {
  /** Recomputes the sealed part of the log against its chain and its signed checkpoints. */
  verify(): Promise<VerifyReport>;
  /** The signed checkpoints with the public key, for export. */
  checkpoints(): Promise<CheckpointExport>;
}

/** The audit log of a Postgres event store, read straight from its tables (event-chain.ts). */
export function createAuditLog(options: {
  // biome-ignore lint/suspicious/noExplicitAny: shared connection, typed by event-chain.ts
  db: Kysely<any>;
  /** The key checkpoints must be signed by (from the configured signing key). */
  publicKeyPem: string | undefined;
  keyId: string | undefined;
  /**
   * Verify on this many worker threads, each with a connection of its own to `url` (a PostgreSQL
   * server; parallel-verify.ts). Without it, or for a log too short to split, on this thread.
   */
  threads?: { url: string; count: number; minRangeEvents?: number };
}): AuditLog {
  const { db, publicKeyPem, threads } = options;

  async function verifyNow(): Promise<VerifyReport> {
    const checkpoints = await readCheckpoints(db);
    const head = await readChainHead(db);
    // Past the last link too when a checkpoint is: a log cut short below a signed checkpoint.
    const last = checkpoints.at(-1)?.position ?? 0n;
    const through = head && head.position > last ? head.position : last;
    const starts =
      threads && head
        ? await readLinksAtSeqs(db, splitSeqs(head.seq, threads.count, threads.minRangeEvents))
        : [];
    const ranges = planRanges(starts, through, checkpoints);
    if (threads && ranges.length > 1)
      return verifyOnThreads(ranges, { url: threads.url, publicKeyPem, threads: threads.count });
    return verifyRange(
      db,
      { from: EMPTY_HEAD, through, checkpoints, lastCheckpointBefore: undefined },
      publicKeyPem,
    );
  }

  let running: Promise<VerifyReport> | undefined;
  return {
    verify() {
      // Verifies asked for while one runs share it: a second auditor's request adds no load.
      running ??= verifyNow().finally(() => {
        running = undefined;
      });
      return running;
    },
    async checkpoints() {
      return {
        format: 'switchyard-audit-checkpoints/1',
        publicKey: options.publicKeyPem,
        keyId: options.keyId,
        exportedAt: new Date().toISOString(),
        checkpoints: (await readCheckpoints(db)).map(checkpointToJson),
      };
    },
  };
}
