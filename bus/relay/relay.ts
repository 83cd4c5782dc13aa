import { sleep } from '../../kernel/async.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { Logger } from '../../kernel/logger.ts';
import { batchSpans, SpanKind } from '../../kernel/tracing.ts';
import type { Bus } from '../bus.port.ts';
import { errorText } from '../wire.ts';
import { batches } from './batches.ts';
import type { LeaderLock, Lease } from './leader-lock.port.ts';

/** Where the relay has got to, kept by the caller for observability (e.g. a Postgres row). */
export interface RelayCheckpoint {
  load(): Promise<bigint>;
  save(position: bigint): Promise<void>;
}

export interface RelayOptions {
  store: EventStore;
  bus: Bus;
  lock: LeaderLock;
  logger: Logger;
  /** Most events per bus.publish (default 500). */
  batchSize?: number;
  /**
   * Not where the relay starts — the bus's last message is (see `reconcile`) — but saved after every
   * acked publish so that operators can see progress.
   */
  checkpoint?: RelayCheckpoint;
  /** Name of the leader lock; relays sharing it elect one leader (default 'switchyard-relay'). */
  lockName?: string;
  /** First back-off after a failure, doubled up to `maxRetryMs` (defaults 500 ms, 10 s). */
  retryMs?: number;
  maxRetryMs?: number;
  /** How long a batch waits for more live events before it is published (default 5 ms). */
  lingerMs?: number;
}

export interface RelayStatus {
  leader: boolean;
  /** Position of the last event known to be on the bus, once leader. */
  lastPublishedPosition: bigint | undefined;
  /** Events this relay published since it started. */
  eventsPublished: number;
  lastError: string | undefined;
}

export interface Relay {
  /** Starts competing for leadership in the background; resolves at once. */
  start(): Promise<void>;
  /** Stops publishing and gives leadership up. */
  stop(): Promise<void>;
  status(): RelayStatus;
}

/**
 * The relay: the one component that moves events from the event store to the bus, exactly once and
 * in store order. One relay is active at a time (leader lock). On becoming leader, and after any
 * failure, it reconciles with the bus itself — it resumes after the bus's last message, not after a
 * checkpoint, so a wiped NATS gets everything again and a crash mid-batch republishes nothing twice.
 */
export function createRelay(options: RelayOptions): Relay {
  const { store, bus, lock } = options;
  const log = options.logger.child({ module: 'relay' });
  const batchSize = options.batchSize ?? 500;
  const retryMs = options.retryMs ?? 500;
  const maxRetryMs = options.maxRetryMs ?? 10_000;
  const lockName = options.lockName ?? 'switchyard-relay';
  const status: RelayStatus = {
    leader: false,
    lastPublishedPosition: undefined,
    eventsPublished: 0,
    lastError: undefined,
  };
  let stopping: AbortController | undefined;
  let running: Promise<void> | undefined;
  /** The bus's last event id as this relay left it (null: empty); each batch must follow it. */
  let previousId: string | null = null;
  /**
   * While leading, the bus position up to which this relay's events are counted. A publish that
   * fails after some of its messages were acked (an ack timed out) counts nothing; the next
   * reconcile finds them on the bus and counts them then.
   */
  let countedThrough: bigint | undefined;

  async function reconcile(): Promise<bigint> {
    const last = await bus.lastPublished();
    previousId = last?.eventId ?? null;
    const after = last?.position ?? 0n;
    status.lastPublishedPosition = last?.position;
    if (countedThrough !== undefined && after > countedThrough) {
      const [from, to] = await Promise.all([store.countAfter(countedThrough), store.countAfter(after)]);
      status.eventsPublished += from - to;
    }
    countedThrough = after;
    if (last) {
      // The bus's last event should be in the store at that position; if not, the two come from
      // different histories (a store restored or replaced) and an operator has to look.
      const [atPosition] = await store.readAll({ after: after - 1n, maxCount: 1 });
      if (atPosition?.id !== last.eventId) {
        log.error(
          { busEventId: last.eventId, position: after.toString(), storeEventId: atPosition?.id },
          'the last event on the bus is not in the event store at its position',
        );
      }
    }
    const saved = options.checkpoint ? await options.checkpoint.load().catch(() => undefined) : undefined;
    if (saved !== undefined && saved > after) {
      log.warn(
        { checkpoint: saved.toString(), bus: after.toString() },
        'the bus is behind the relay checkpoint (NATS wiped?); republishing from the bus position',
      );
    }
    log.info({ after: after.toString(), lastEventId: last?.eventId }, 'relay reconciled with the bus');
    return after;
  }

  async function published(batch: RecordedEvent[]): Promise<void> {
    const last = batch.at(-1)!;
    status.lastPublishedPosition = last.position;
    status.eventsPublished += batch.length;
    countedThrough = last.position;
    status.lastError = undefined;
    try {
      await options.checkpoint?.save(last.position);
    } catch (e) {
      log.warn({ err: errorText(e) }, 'could not save the relay checkpoint');
    }
  }

  /** Publishes from the bus position onwards until `signal` aborts or something fails. */
  async function lead(signal: AbortSignal): Promise<void> {
    let backoff = retryMs;
    while (!signal.aborted) {
      const attempt = new AbortController();
      const attemptSignal = AbortSignal.any([signal, attempt.signal]);
      try {
        const after = await reconcile();
        const feed = store.subscribeToAll({ after, signal: attemptSignal, batchSize });
        for await (const batch of batches(feed, batchSize, options.lingerMs ?? 5)) {
          if (signal.aborted) break;
          const started = new Date();
          try {
            await bus.publish(batch, { previousId });
            previousId = batch.at(-1)!.id;
          } catch (e) {
            attempt.abort();
            throw e;
          }
          batchSpans(
            'publish events',
            SpanKind.PRODUCER,
            batch.map((e) => e.metadata.traceparent),
            started,
            { 'messaging.system': 'nats', 'messaging.batch.message_count': batch.length },
          );
          await published(batch);
          backoff = retryMs;
        }
        if (!signal.aborted) throw new Error('the event store subscription ended');
      } catch (e) {
        if (signal.aborted) break;
        status.lastError = errorText(e);
        log.error({ err: status.lastError, retryInMs: backoff }, 'relay failed; will reconcile and resume');
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, maxRetryMs);
      } finally {
        attempt.abort();
      }
    }
  }

  async function run(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      let lease: Lease;
      try {
        lease = await lock.acquire(lockName, stop);
      } catch (e) {
        if (stop.aborted) return;
        log.warn({ err: errorText(e) }, 'could not wait for the relay lock; retrying');
        await sleep(retryMs, stop);
        continue;
      }
      status.leader = true;
      // What reached the bus before this lease was another leader's (or this relay's, counted).
      countedThrough = undefined;
      log.info({ lock: lockName }, 'relay is the leader');
      try {
        await lead(AbortSignal.any([stop, lease.lost]));
      } finally {
        status.leader = false;
        await lease.release().catch(() => {});
      }
      if (!stop.aborted) log.warn('relay lost leadership; waiting to get it back');
    }
  }

  return {
    async start() {
      if (running) return;
      stopping = new AbortController();
      running = run(stopping.signal).catch((e) =>
        log.error({ err: errorText(e) }, 'relay stopped on an error'),
      );
    },
    async stop() {
      stopping?.abort();
      await running;
      running = undefined;
    },
    status: () => ({ ...status }),
  };
}
