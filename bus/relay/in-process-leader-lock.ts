import { abortReason, type LeaderLock, type Lease } from './leader-lock.port.ts';

/**
 * Leadership between the components of one process (embedded mode), with the same contract as the
 * Postgres lock: one holder per name, waiters take over in arrival order when it is released.
 */
export function createInProcessLeaderLock(): LeaderLock {
  const held = new Set<string>();
  const waiting = new Map<string, Array<() => void>>();

  function wakeNext(name: string): void {
    const queue = waiting.get(name);
    const next = queue?.shift();
    if (queue?.length === 0) waiting.delete(name);
    next?.();
  }

  return {
    async acquire(name, signal) {
      while (held.has(name)) {
        if (signal.aborted) throw abortReason(signal);
        await new Promise<void>((resolve) => {
          const queue = waiting.get(name) ?? [];
          const wake = () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = () => {
            const i = queue.indexOf(wake);
            if (i !== -1) queue.splice(i, 1);
            resolve();
          };
          queue.push(wake);
          waiting.set(name, queue);
          signal.addEventListener('abort', onAbort, { once: true });
        });
      }
      if (signal.aborted) {
        wakeNext(name);
        throw abortReason(signal);
      }
      held.add(name);
      const lost = new AbortController();
      const lease: Lease = {
        lost: lost.signal,
        async release() {
          if (lost.signal.aborted) return;
          lost.abort(new Error(`leader lock ${name} released`));
          held.delete(name);
          wakeNext(name);
        },
      };
      return lease;
    },
  };
}
