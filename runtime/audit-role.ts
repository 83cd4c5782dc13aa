import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import type { LeaderLock } from '../bus/relay/leader-lock.port.ts';
import {
  type AuditLog,
  createAuditLog,
  createCheckpointSigner,
  generateSigningKeyPem,
  keyIdOf,
  parseSigningKey,
  startSealer,
} from '../event-store/audit/index.ts';
import { loadOrCreateSigningKey } from '../event-store/audit/signing-key-file.ts';
import type { SqlConnection } from '../event-store/postgres/connection.ts';
import { runWhileLeader } from './leadership.ts';
import type { RoleContext } from './role-context.ts';

/**
 * The tamper-evident log (docs/audit.md), on the Postgres event store only: the sealer, one active in
 * the deployment (leader lock) on the relay role, which follows the log already; and the audit log
 * the gateway verifies and exports. Undefined with EventStoreDB, which has no chain.
 */
export async function startAudit(
  ctx: RoleContext,
  sql: SqlConnection,
  lock: LeaderLock,
): Promise<AuditLog | undefined> {
  const { config } = ctx;
  const logger = ctx.logger.child({ module: 'audit' });
  if (config.eventStoreUrl) {
    logger.info('the audit hash chain is kept for the Postgres event store only: off with EventStoreDB');
    return undefined;
  }
  const key = config.audit.signingKey
    ? parseSigningKey(config.audit.signingKey)
    : config.dataDir === 'memory://'
      ? parseSigningKey(generateSigningKeyPem())
      : config.mode === 'embedded'
        ? await loadOrCreateSigningKey(join(config.dataDir, 'audit-signing.key'))
        : undefined;
  const signer = key && createCheckpointSigner(key);
  // A gateway that only verifies needs the public half alone: the private key stays with the sealer.
  const publicKeyPem = signer?.publicKeyPem ?? config.audit.publicKey;
  const sealing = config.roles.includes('relay');
  if (sealing && !signer)
    logger.warn('SWITCHYARD_AUDIT_SIGNING_KEY is not set: the log is chained, but no checkpoint is signed');
  if (sealing) {
    const stop = runWhileLeader(
      lock,
      'switchyard-audit-sealer',
      async () => {
        const sealer = startSealer({
          store: ctx.store,
          db: sql.db,
          signer,
          checkpointEvery: config.audit.checkpointEvery,
          checkpointIntervalMs: config.audit.checkpointIntervalMs,
          logger,
        });
        return () => sealer.stop();
      },
      logger,
    );
    ctx.onClose('audit sealer', stop);
  }
  return createAuditLog({
    db: sql.db,
    publicKeyPem,
    keyId: publicKeyPem && keyIdOf(createPublicKey(publicKeyPem)),
    // Off the thread that serves requests, and on every core: a PostgreSQL server takes the
    // threads' connections; PGlite has one connection, and verifies here.
    ...(sql.kind === 'pg' &&
      config.databaseUrl &&
      config.audit.verifyThreads > 0 && {
        threads: { url: config.databaseUrl, count: config.audit.verifyThreads },
      }),
  });
}
