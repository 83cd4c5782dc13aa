import type { RecordedEvent } from '../kernel/envelope.ts';
import type { AllFilter, EventStore } from '../kernel/event-store.port.ts';
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
  handle(event: RecordedEvent): Promise<void>;
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
 * The one way to follow the log: subscribe after the checkpoint, hand each event to `handle`,
 * save the checkpoint, and move on. Whatever fails — the subscription, the handler, the
 * checkpoint — is retried with exponential backoff from the last event handled, so a reader never
 * stops for good and never skips an event. An event that keeps failing is reported (logged as an
 * error once it reaches `poisonAfter` failures, shown in `status().stuckOn`) and retried at the
 * longest backoff until it succeeds or the processor stops; projections, which may skip an event,
 * do so only by an operator's recorded quarantine (projections/quarantine.ts).
 */
export function startProcessor(options: ProcessorOptions): Processor {
  const log = options.logger.child({ processor: options.name });
  const firstMs = options.retry?.firstMs ?? 100;
  const maxMs = options.retry?.maxMs ?? 5_000;
  const poisonAfter = options.poisonAfter ?? 10;
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
    await new Promise<void>((resolve) => {
      // The listener goes when the pause ends either way: a long run of failures adds none.
      const done = () => {
        clearTimeout(timer);
        abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  function failed(e: unknown, event: RecordedEvent | undefined): void {
    status.failures++;
    status.lastError = e instanceof Error ? e.message : String(e);
    const where = event && { eventId: event.id, position: event.position, type: event.type };
    if (event && status.failures >= poisonAfter) {
      status.stuckOn = { eventId: event.id, position: event.position, type: event.type };
      if (status.failures === poisonAfter || status.failures % 100 === 0)
        log.error({ err: e, ...where, failures: status.failures }, 'an event keeps failing; retrying');
    } else {
      log.warn({ err: e, ...where, failures: status.failures }, 'processing failed; retrying');
    }
  }

  async function handleOne(event: RecordedEvent): Promise<boolean> {
    try {
      await options.handle(event);
      await options.checkpoint.save?.(event.position);
      status.position = event.position;
      status.failures = 0;
      status.lastError = undefined;
      status.stuckOn = undefined;
      return true;
    } catch (e) {
      if (abort.signal.aborted) return false;
      failed(e, event);
      await backoff();
      return false;
    }
  }

  async function run(): Promise<void> {
    for (;;) {
      try {
        status.position = await options.checkpoint.load();
        break;
      } catch (e) {
        if (abort.signal.aborted) return;
        failed(e, undefined);
        await backoff();
      }
    }
    status.failures = 0;
    while (!abort.signal.aborted) {
      try {
        for await (const event of options.store.subscribeToAll({
          after: status.position,
          ...(options.filter && { filter: options.filter }),
          signal: abort.signal,
        })) {
          // A failed event is retried in place until it succeeds (or the processor stops).
          while (!(await handleOne(event))) if (abort.signal.aborted) return;
        }
        if (!abort.signal.aborted) throw new Error('the subscription to the log ended');
      } catch (e) {
        if (abort.signal.aborted) return;
        failed(e, undefined);
        await backoff();
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
