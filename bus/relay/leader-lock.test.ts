import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/logger.ts';
import { eventually } from '../../test/contracts/bus.contract.ts';
import { createTestDatabase, services, uniqueName } from '../../test/services.ts';
import { createInProcessLeaderLock } from './in-process-leader-lock.ts';
import type { LeaderLock } from './leader-lock.port.ts';
import { createPostgresLeaderLock } from './postgres-leader-lock.ts';

const databaseUrl = services().databaseUrl;
if (!databaseUrl) console.warn('!!! DATABASE_URL missing: the Postgres leader lock tests are SKIPPED');

function describeLeaderLockContract(
  name: string,
  make: () => Promise<{ locks: () => LeaderLock; teardown(): Promise<void> }>,
  skip = false,
): void {
  describe.skipIf(skip)(`LeaderLock contract: ${name}`, () => {
    const never = new AbortController().signal;

    it('has one holder at a time; a waiter takes over when the holder releases', async () => {
      const { locks, teardown } = await make();
      try {
        const lockName = uniqueName('lock');
        const first = await locks().acquire(lockName, never);
        let second: Awaited<ReturnType<LeaderLock['acquire']>> | undefined;
        const waiting = locks()
          .acquire(lockName, never)
          .then((l) => {
            second = l;
            return l;
          });
        await new Promise((r) => setTimeout(r, 400));
        expect(second).toBeUndefined();
        expect(first.lost.aborted).toBe(false);
        await first.release();
        expect(first.lost.aborted).toBe(true);
        const taken = await waiting;
        expect(taken.lost.aborted).toBe(false);
        await taken.release();
        await taken.release();
      } finally {
        await teardown();
      }
    });

    it('keeps different names independent', async () => {
      const { locks, teardown } = await make();
      try {
        const a = await locks().acquire(uniqueName('lock'), never);
        const b = await locks().acquire(uniqueName('lock'), never);
        await Promise.all([a.release(), b.release()]);
      } finally {
        await teardown();
      }
    });

    it('stops waiting when the signal aborts, and leaves the lock usable', async () => {
      const { locks, teardown } = await make();
      try {
        const lockName = uniqueName('lock');
        const holder = await locks().acquire(lockName, never);
        const abort = new AbortController();
        const waiting = locks().acquire(lockName, abort.signal);
        setTimeout(() => abort.abort(new Error('shutting down')), 200);
        await expect(waiting).rejects.toThrow('shutting down');
        await holder.release();
        const next = await locks().acquire(lockName, never);
        await next.release();
      } finally {
        await teardown();
      }
    });
  });
}

describeLeaderLockContract('in-process', async () => {
  const lock = createInProcessLeaderLock();
  return { locks: () => lock, teardown: async () => {} };
});

describeLeaderLockContract(
  'postgres',
  async () => {
    const database = await createTestDatabase('sy_lock');
    // A new adapter per call, as if each holder were its own process.
    return {
      locks: () => createPostgresLeaderLock({ url: database.url, logger: silentLogger(), retryMs: 50 }),
      teardown: () => database.drop(),
    };
  },
  !databaseUrl,
);

describe.skipIf(!databaseUrl)('Postgres leader lock', () => {
  it('loses the lease when its connection dies, and frees the lock for another process', async () => {
    const database = await createTestDatabase('sy_lock');
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const lockName = uniqueName('lock');
      const make = () => createPostgresLeaderLock({ url: database.url, logger: silentLogger(), retryMs: 50 });
      const lease = await make().acquire(lockName, new AbortController().signal);
      const terminated = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [`switchyard-lock:${lockName}`],
      );
      expect(terminated.rowCount).toBe(1);
      await eventually(() => lease.lost.aborted, { what: 'the lease to be lost' });
      expect(String(lease.lost.reason)).toContain('lost');
      const next = await make().acquire(lockName, new AbortController().signal);
      await next.release();
      await lease.release();
    } finally {
      await admin.end();
      await database.drop();
    }
  });
});
