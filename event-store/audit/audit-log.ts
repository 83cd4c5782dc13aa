import type { Kysely } from 'kysely';
import { chainLinks, eventRowsThrough, readChainHead, readCheckpoints } from '../postgres/event-chain.ts';
import { type CheckpointJson, checkpointToJson } from './signing.ts';
import { type VerifyReport, verifyChain } from './verify.ts';

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
}): AuditLog {
  const { db } = options;
  return {
    async verify() {
      const checkpoints = await readCheckpoints(db);
      const head = await readChainHead(db);
      // Past the last link too when a checkpoint is: a log cut short below a signed checkpoint.
      const last = checkpoints.at(-1)?.position ?? 0n;
      const through = head && head.position > last ? head.position : last;
      return verifyChain({
        events: eventRowsThrough(db, through),
        links: chainLinks(db),
        checkpoints,
        publicKeyPem: options.publicKeyPem,
        through,
      });
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
