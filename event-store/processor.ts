import { batched, sleep } from '../kernel/async.ts';
import type { RecordedEvent } from '../kernel/envelope.ts';
import type { AllFilter, EventStore, SubscribeOptions } from '../kernel/event-store.port.ts';
import type { Logger } from '../kernel/logger.ts';

/** Where a processor starts, and where it keeps how far it got. */
export interface ProcessorCheckpoint {
  /** Position to start after (exclusive). */
  load(): Promise<bigint>;
  /** Called after each event was handled; a failed save is retried like a failed handler. */
  save?(position: bigint): Promise<void>;
}

export interface ProcessorOptions {
  /** Names the processor in logs and in its status. */
  name: string;
  store: EventStore;
  filter?: AllFilter;
  checkpoint: ProcessorCheckpoint;
  /** Handles one event; a throw retries the same event after a backoff (never skips it). */
  handle?(event: RecordedEvent): Promise<void>;
  /**
   * Handles the events that arrived together (up to `batchSize`, in order) instead of `handle`.
   * When a batch of several fails, its events are handled one at a time, so that those before the
   * culprit land and the culprit is the one retried. `failures`: how often this one event failed
   * in a row before this attempt (0 for a batch).
   */
  handleBatch?(events: readonly RecordedEvent[], attempt: { failures: number }): Promise<void>;
  /** Most events handed to handleBatch at once (default 200; `handle` takes one at a time). */
  batchSize?: number;
  /** How long a batch that is not full waits for more events (default 0; kernel/async.ts batched). */
  lingerMs?: number;
  /** Where the events come from (default: the store's subscription after the checkpoint). */
  source?(options: SubscribeOptions & { signal: AbortSignal }): AsyncIterable<RecordedEvent>;
  /**
   * Errors that mean "start again from the stored checkpoint" (another process moved it): the
   * checkpoint is loaded again and the source re-opened, and no failure is counted.
   */
  restartOn?(error: unknown): boolean;
  /** An event reached `poisonAfter` failures (called once per run of failures). */
  onStuck?(event: RecordedEvent, error: unknown): Promise<void>;
  /** The event that was stuck has been handled (or the processor started again from its checkpoint). */
  onRecovered?(): Promise<void>;
  logger: Logger;
  /** Backoff after a failure: doubles from firstMs to maxMs (default 100 ms … 5 s). */
  retry?: { firstMs?: number; maxMs?: number };
  /** After this many failures of one event it is reported as poison (logged as an error, in status). */
  poisonAfter?: number;
}

export interface ProcessorStatus {
  name: string;
  /** Position of the last event handled (or the start position). */
  position: bigint;
  /** Consecutive failures of the current event or subscription (0 when healthy). */
  failures: number;
  lastError: string | undefined;
  /** The event that failed poisonAfter times or more and is still being retried. */
  stuckOn: { eventId: string; position: bigint; type: string } | undefined;
}

export interface Processor {
  stop(): Promise<void>;
  status(): ProcessorStatus;
}

/** From the log's head: readers that only care about what happens from now on (change feeds). */
export function fromHead(store: EventStore): ProcessorCheckpoint {
  let head: bigint | undefined;
  return {
    load: async () => {
      head ??= await store.headPosition();
      return head;
    },
  };
}

/** From a position known to the caller, kept in memory only. */
export function fromPosition(after: bigint): ProcessorCheckpoint {
  return { load: async () => after };
}

/**
 * The one way to follow the log: subscribe after the checkpoint, hand each event (or each batch of
 * the events that arrived together) to the handler, save the checkpoint, and move on. Whatever
 * fails — the subscription, the handler, the checkpoint — is retried with exponential backoff from
 * the last event handled, so a reader never stops for good and never skips an event. An event that
 * keeps failing is reported (logged as an error once it reaches `poisonAfter` failures, shown in
 * `status().stuckOn`, told to `onStuck`) and retried at the longest backoff until it succeeds or
 * the processor stops; projections, which may skip an event, do so only by an operator's recorded
 * quarantine (projections/quarantine.ts).
 */
export function startProcessor(options: ProcessorOptions): Processor {
  const log = options.logger.child({ processor: options.name });
  const firstMs = options.retry?.firstMs ?? 100;
  const maxMs = options.retry?.maxMs ?? 5_000;
  const poisonAfter = options.poisonAfter ?? 10;
  const handleBatch = batchHandler(options);
  const batchSize = options.handleBatch ? (options.batchSize ?? 200) : 1;
  const source = options.source ?? ((subscribe: SubscribeOptions) => options.store.subscribeToAll(subscribe));
  const abort = new AbortController();
  const status: ProcessorStatus = {
    name: options.name,
    position: 0n,
    failures: 0,
    lastError: undefined,
    stuckOn: undefined,
  };

  async function backoff(): Promise<void> {
    const ms = Math.min(maxMs, firstMs * 2 ** Math.min(status.failures - 1, 20));
    await sleep(ms, abort.signal);
  }

  async function failed(e: unknown, event: RecordedEvent | undefined): Promise<void> {
    status.failures++;
    status.lastError = e instanceof Error ? e.message : String(e);
    const where = event && { eventId: event.id, position: event.position, type: event.type };
    if (event && status.failures >= poisonAfter) {
      status.stuckOn = { eventId: event.id, position: event.position, type: event.type };
      if (status.failures === poisonAfter || status.failures % 100 === 0)
        log.error({ err: e, ...where, failures: status.failures }, 'an event keeps failing; retrying');
      if (status.failures === poisonAfter) await tell(() => options.onStuck?.(event, e));
    } else {
      log.warn({ err: e, ...where, failures: status.failures }, 'processing failed; retrying');
    }
  }

  async function succeeded(position: bigint): Promise<void> {
    const wasStuck = status.stuckOn !== undefined;
    status.position = position;
    status.failures = 0;
    status.lastError = undefined;
    status.stuckOn = undefined;
    if (wasStuck) await tell(() => options.onRecovered?.());
  }

  /** A hook's own failure is logged, never the processor's. */
  async function tell(hook: () => Promise<void> | undefined): Promise<void> {
    try {
      await hook();
    } catch (e) {
      log.error({ err: e }, 'a processor hook failed');
    }
  }

  /** Handles events and saves the checkpoint; a throw is the handler's, after no retry. */
  async function attempt(events: readonly RecordedEvent[], failures: number): Promise<void> {
    await handleBatch(events, { failures });
    await options.checkpoint.save?.(events.at(-1)!.position);
    await succeeded(events.at(-1)!.position);
  }

  /** Handles one batch to its end; false when the processor stopped meanwhile. */
  async function handleAll(batch: readonly RecordedEvent[]): Promise<boolean> {
    const pending = batch.filter((e) => e.position > status.position);
    if (pending.length === 0) return true;
    if (pending.length > 1) {
      try {
        await attempt(pending, 0);
        return true;
      } catch (e) {
        if (abort.signal.aborted) return false;
        if (options.restartOn?.(e)) throw e;
        log.warn({ err: e, events: pending.length }, 'a batch failed; handling its events one by one');
      }
    }
    for (const event of pending) {
      // A failed event is retried in place until it succeeds (or the processor stops).
      for (;;) {
        if (abort.signal.aborted) return false;
        try {
          await attempt([event], status.failures);
          break;
        } catch (e) {
          if (abort.signal.aborted) return false;
          if (options.restartOn?.(e)) throw e;
          await failed(e, event);
          await backoff();
        }
      }
    }
    return true;
  }

  async function load(): Promise<boolean> {
    for (;;) {
      try {
        status.position = await options.checkpoint.load();
        return true;
      } catch (e) {
        if (abort.signal.aborted) return false;
        await failed(e, undefined);
        await backoff();
      }
    }
  }

  async function run(): Promise<void> {
    if (!(await load())) return;
    status.failures = 0;
    while (!abort.signal.aborted) {
      const subscription = new AbortController();
      const stop = () => subscription.abort();
      abort.signal.addEventListener('abort', stop, { once: true });
      try {
        const events = source({
          after: status.position,
          ...(options.filter && { filter: options.filter }),
          signal: subscription.signal,
          ...(options.handleBatch && { batchSize }),
        });
        const batches =
          batchSize > 1 ? batched(events, batchSize, subscription, options.lingerMs) : singles(events);
        for await (const batch of batches) if (!(await handleAll(batch))) return;
        if (!abort.signal.aborted) throw new Error('the subscription to the log ended');
      } catch (e) {
        if (abort.signal.aborted) return;
        if (options.restartOn?.(e)) {
          log.info({ err: e }, 'starting again from the stored checkpoint');
          subscription.abort();
          if (!(await load())) return;
          await succeeded(status.position);
          continue;
        }
        await failed(e, undefined);
        await backoff();
      } finally {
        abort.signal.removeEventListener('abort', stop);
        subscription.abort();
      }
    }
  }

  const running = run();
  return {
    async stop() {
      abort.abort();
      await running;
    },
    status: () => ({ ...status }),
  };
}

/** The handler as batches: `handle` one event at a time, or `handleBatch`. */
function batchHandler(options: ProcessorOptions): NonNullable<ProcessorOptions['handleBatch']> {
  if (options.handleBatch) return options.handleBatch;
  const handle = options.handle;
  if (!handle) throw new Error(`processor ${options.name}: give handle or handleBatch`);
  return async (events) => {
    for (const event of events) await handle(event);
  };
}

async function* singles(events: AsyncIterable<RecordedEvent>): AsyncGenerator<RecordedEvent[]> {
  for await (const event of events) yield [event];
}
