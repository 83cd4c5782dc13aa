/** Leadership held by one process; see LeaderLock. */
export interface Lease {
  /** Aborts when leadership ends for any reason: lost connection, failed health check, release. */
  readonly lost: AbortSignal;
  /** Gives leadership up so that a waiting process can take it. Safe to call twice. */
  release(): Promise<void>;
}

/**
 * A named lock that at most one process holds at a time, used so that only one relay publishes.
 * Adapters: Postgres session advisory lock (postgres-leader-lock.ts), in-process (embedded mode).
 */
export interface LeaderLock {
  /**
   * Waits until this caller holds the lock named `name`. Rejects with `signal.reason` when `signal`
   * aborts first. The holder must stop acting as leader as soon as `lease.lost` aborts.
   */
  acquire(name: string, signal: AbortSignal): Promise<Lease>;
}

export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
