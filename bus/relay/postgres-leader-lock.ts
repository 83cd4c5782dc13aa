import pg from 'pg';
import { sleep } from '../../kernel/async.ts';
import type { Logger } from '../../kernel/logger.ts';
import { abortReason, type LeaderLock, type Lease } from './leader-lock.port.ts';

export interface PostgresLeaderLockOptions {
  /** postgres:// URL; every acquire opens its own connection, which holds the lock. */
  url: string;
  logger: Logger;
  /** How often a waiting process tries the lock again (default 1 s). */
  retryMs?: number;
  /** How often the holder checks that its connection is alive (default 5 s). */
  healthCheckMs?: number;
}

// First key of the two-key advisory locks taken here: 'SYRL'. The event store uses its own namespace.
const LOCK_NAMESPACE = 0x5359_524c;
const QUERY_TIMEOUT_MS = 10_000;

/**
 * Leadership as a session-level `pg_advisory_lock` on a dedicated connection: Postgres releases it
 * when the session ends, so a process that dies (even by SIGKILL) frees it within a TCP round trip,
 * and a holder whose connection drops knows it is no longer leader (`lease.lost`). Waiting polls
 * `pg_try_advisory_lock` instead of blocking in `pg_advisory_lock`, so that an abort is prompt.
 */
export function createPostgresLeaderLock(options: PostgresLeaderLockOptions): LeaderLock {
  const retryMs = options.retryMs ?? 1000;
  const healthCheckMs = options.healthCheckMs ?? 5000;

  async function open(name: string): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: options.url,
      keepAlive: true,
      query_timeout: QUERY_TIMEOUT_MS,
      connectionTimeoutMillis: QUERY_TIMEOUT_MS,
      application_name: `switchyard-lock:${name}`.slice(0, 63),
    });
    // Until a lease owns it, a connection error only needs to not crash the process.
    client.on('error', () => {});
    await client.connect();
    return client;
  }

  function lease(name: string, client: pg.Client, log: Logger): Lease {
    const lost = new AbortController();
    const lose = (reason: string) => {
      if (lost.signal.aborted) return;
      log.warn({ lock: name, reason }, 'leader lock lost');
      lost.abort(new Error(`leader lock ${name} lost: ${reason}`));
      clearInterval(health);
      client.end().catch(() => {});
    };
    client.on('error', (e) => lose(e.message));
    client.on('end', () => lose('connection ended'));
    const health = setInterval(() => {
      client.query('SELECT 1').catch((e: Error) => lose(`health check failed: ${e.message}`));
    }, healthCheckMs);
    return {
      lost: lost.signal,
      async release() {
        if (lost.signal.aborted) return;
        clearInterval(health);
        lost.abort(new Error(`leader lock ${name} released`));
        try {
          await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_NAMESPACE, name]);
        } catch {
          // Ending the session below releases the lock anyway.
        }
        await client.end().catch(() => {});
      },
    };
  }

  return {
    async acquire(name, signal) {
      const log = options.logger.child({ module: 'leader-lock' });
      while (!signal.aborted) {
        let client: pg.Client | undefined;
        try {
          client = await open(name);
          while (!signal.aborted) {
            const r = await client.query<{ ok: boolean }>(
              'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok',
              [LOCK_NAMESPACE, name],
            );
            if (r.rows[0]?.ok) {
              if (!signal.aborted) return lease(name, client, log);
              break;
            }
            await sleep(retryMs, signal);
          }
        } catch (e) {
          log.warn({ lock: name, err: (e as Error).message }, 'leader lock connection failed; retrying');
        }
        // Reached on abort or failure; the lease path returned above. Ending the session frees a lock
        // obtained just as the abort came.
        await client?.end().catch(() => {});
        await sleep(retryMs, signal);
      }
      throw abortReason(signal);
    },
  };
}
