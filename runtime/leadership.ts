import type { LeaderLock } from '../bus/relay/leader-lock.port.ts';
import type { Logger } from '../kernel/logger.ts';

/**
 * Runs `start` while this process holds the named lock, stops what it started when leadership is
 * lost, and competes again. Returns the function that stops it all for good.
 */
export function runWhileLeader(
  lock: LeaderLock,
  name: string,
  start: () => Promise<() => Promise<void>>,
  logger: Logger,
): () => Promise<void> {
  const shutdown = new AbortController();
  const loop = (async () => {
    while (!shutdown.signal.aborted) {
      let lease: Awaited<ReturnType<LeaderLock['acquire']>>;
      try {
        lease = await lock.acquire(name, shutdown.signal);
      } catch {
        if (shutdown.signal.aborted) return;
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      logger.info({ lock: name }, 'leader: starting');
      let stop: (() => Promise<void>) | undefined;
      try {
        stop = await start();
        await new Promise<void>((resolve) => {
          if (lease.lost.aborted || shutdown.signal.aborted) return resolve();
          lease.lost.addEventListener('abort', () => resolve(), { once: true });
          shutdown.signal.addEventListener('abort', () => resolve(), { once: true });
        });
      } catch (e) {
        logger.error({ err: e, lock: name }, 'leader: could not start');
      } finally {
        await stop?.().catch((e: unknown) =>
          logger.warn({ err: e, lock: name }, 'leader: error while stopping'),
        );
        await lease.release().catch(() => undefined);
        logger.info({ lock: name }, 'leader: stopped');
      }
      if (!shutdown.signal.aborted) await new Promise((r) => setTimeout(r, 1_000));
    }
  })();
  return async () => {
    shutdown.abort();
    await loop;
  };
}
