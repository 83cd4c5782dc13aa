import nats, { type ConsumerConfig, type JetStreamClient, type JetStreamManager, type JsMsg } from 'nats';
import { sleep } from '../../kernel/async.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import { type BusNames, type ConsumeOptions, type Consumer, filterSubjects } from '../bus.port.ts';
import { assertToken, matchesAny } from '../subjects.ts';
import { decodeEvent, errorText } from '../wire.ts';
import { isConsumerNotFound } from './nats-errors.ts';

const { AckPolicy, DeliverPolicy, ReplayPolicy, nanos } = nats;

export interface NatsConsumerDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: BusNames;
  logger: Logger;
  /** Creates the streams if needed; `recheck` looks again even if they existed before (a wipe). */
  ensureStreams(recheck?: boolean): Promise<void>;
  /** Stores a parked event on the dead-letter stream; resolves once it is durable. */
  park(consumer: string, event: RecordedEvent, error: string, deliveryCount: number): Promise<void>;
  /** Servers before 2.10 take a single filter subject per consumer. */
  multiFilter: boolean;
  ackWaitMs: number;
}

const DEFAULT_MAX_DELIVER = 5;
const DEFAULT_RETRY_DELAY_MS = 200;
/**
 * One pull request per message, never one outstanding while a handler runs: a standing pull would
 * take message n+1 the moment n is acked, and if the consumer stopped in between, n+1 would sit
 * unacked in a closed inbox until the ack wait ran out. The server ends an idle pull with a 408
 * after this long, so a long value costs nothing but a slow stop() of an idle consumer — and stop()
 * does not wait for it.
 */
const PULL_EXPIRES_MS = 30_000;
const MAX_RESTART_BACKOFF_MS = 5_000;

function serverFilter(
  deps: NatsConsumerDeps,
  subjects: string[],
): Pick<ConsumerConfig, 'filter_subject' | 'filter_subjects'> {
  if (subjects.length === 1) return { filter_subject: subjects[0]! };
  if (deps.multiFilter) return { filter_subjects: subjects };
  // Older servers: take everything and filter in the client (see `handle`).
  return { filter_subject: `${deps.names.subjectPrefix}.events.>` };
}

function filtersOf(c: Partial<ConsumerConfig>): string {
  return JSON.stringify(
    c.filter_subjects?.length ? c.filter_subjects : c.filter_subject ? [c.filter_subject] : [],
  );
}

/**
 * Creates the durable consumer, or brings an existing one in line. max_ack_pending 1 is what makes
 * delivery ordered: the server hands out message n+1 only once n is acked or terminated (a nak with
 * a delay keeps n pending). max_deliver is unlimited so that this module, not the server, decides
 * when a message is parked — the server would otherwise drop it silently.
 */
async function ensureDurable(
  deps: NatsConsumerDeps,
  options: ConsumeOptions,
  subjects: string[],
): Promise<void> {
  const stream = deps.names.eventsStream;
  const want: Partial<ConsumerConfig> = {
    durable_name: options.name,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(deps.ackWaitMs),
    max_deliver: -1,
    max_ack_pending: 1,
    replay_policy: ReplayPolicy.Instant,
    ...serverFilter(deps, subjects),
  };
  try {
    const info = await deps.jsm.consumers.info(stream, options.name);
    const have = info.config;
    if (filtersOf(have) !== filtersOf(want)) {
      try {
        // Both keys: the update merges into the current config, and a server refuses both set at once.
        await deps.jsm.consumers.update(stream, options.name, {
          filter_subject: want.filter_subject,
          filter_subjects: want.filter_subjects,
        } as Partial<ConsumerConfig>);
      } catch (e) {
        throw new AppError(
          'conflict',
          'BUS.CONSUMER_CONFLICT',
          `consumer ${options.name} exists with filter ${filtersOf(have)}, wanted ${filtersOf(want)}; ` +
            `the server refused to change it (${errorText(e)}) — delete the consumer to start it over`,
        );
      }
    }
    if (have.max_ack_pending !== 1 || have.ack_wait !== want.ack_wait || have.max_deliver !== -1) {
      await deps.jsm.consumers.update(stream, options.name, {
        max_ack_pending: 1,
        ack_wait: want.ack_wait!,
        max_deliver: -1,
      });
    }
  } catch (e) {
    if (!isConsumerNotFound(e)) throw e;
    await deps.jsm.consumers.add(stream, {
      ...want,
      deliver_policy: options.startAt === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    });
  }
}

/** Starts a durable, ordered, one-at-a-time consumer of the events stream. */
export async function startNatsConsumer(deps: NatsConsumerDeps, options: ConsumeOptions): Promise<Consumer> {
  assertToken(options.name, 'consumer name');
  const maxDeliver = Math.max(1, options.maxDeliver ?? DEFAULT_MAX_DELIVER);
  const retryDelayMs = Math.max(0, options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS);
  const subjects = filterSubjects(deps.names, options.filter);
  const log = deps.logger.child({ consumer: options.name });
  const stop = new AbortController();
  let current: Promise<void> | undefined;

  // Set up once before returning, so configuration errors reach the caller.
  await deps.ensureStreams();
  await ensureDurable(deps, options, subjects);

  async function handle(m: JsMsg): Promise<void> {
    const attempt = m.info.deliveryCount;
    let event: RecordedEvent;
    try {
      event = decodeEvent(m.data);
    } catch (e) {
      // Not an event at all: no handler could ever succeed, and there is no event to park.
      log.error(
        { subject: m.subject, seq: m.seq, err: errorText(e) },
        'dropping a message that is not an event',
      );
      m.term();
      return;
    }
    if (!matchesAny(subjects, m.subject)) {
      await m.ackAck().catch(() => false);
      return;
    }
    // A message that keeps coming back without ever failing cleanly is crashing its process.
    if (attempt > maxDeliver * 2) {
      await parkAndTerm(
        m,
        event,
        `delivered ${attempt} times without an outcome (handler crashing?)`,
        attempt,
      );
      return;
    }
    const keepAlive = setInterval(() => m.working(), Math.max(1000, deps.ackWaitMs / 3));
    let failure: unknown;
    let failed = false;
    try {
      await options.handler(event, { deliveryCount: attempt });
    } catch (e) {
      failed = true;
      failure = e;
    } finally {
      clearInterval(keepAlive);
    }
    if (!failed) {
      const acked = await m.ackAck().catch(() => false);
      if (!acked)
        log.warn({ eventId: event.id, seq: m.seq }, 'ack not confirmed; the event may be redelivered');
      return;
    }
    if (attempt >= maxDeliver) {
      await parkAndTerm(m, event, errorText(failure), attempt);
      return;
    }
    log.info(
      { eventId: event.id, type: event.type, attempt, err: errorText(failure) },
      'handler failed; will retry',
    );
    m.nak(retryDelayMs * attempt);
  }

  async function parkAndTerm(m: JsMsg, event: RecordedEvent, error: string, attempt: number): Promise<void> {
    try {
      await deps.park(options.name, event, error, attempt);
    } catch (e) {
      log.error({ eventId: event.id, err: errorText(e) }, 'could not park the event; will retry');
      m.nak(Math.max(retryDelayMs, 1000) * attempt);
      return;
    }
    m.term();
    log.warn(
      { eventId: event.id, type: event.type, stream: event.stream, attempts: attempt, error },
      `event parked on ${deps.names.subjectPrefix}.dlq.${options.name}`,
    );
  }

  async function run(): Promise<void> {
    let backoffMs = 250;
    let first = true;
    while (!stop.signal.aborted) {
      try {
        if (!first) {
          await deps.ensureStreams(true);
          await ensureDurable(deps, options, subjects);
        }
        first = false;
        const c = await deps.js.consumers.get(deps.names.eventsStream, options.name);
        while (!stop.signal.aborted) {
          const m = await c.next({ expires: PULL_EXPIRES_MS });
          if (!m) continue;
          // Landed in a pull made before stop(): hand it straight back for the next instance.
          if (stop.signal.aborted) {
            m.nak();
            break;
          }
          current = handle(m).catch((e) =>
            log.warn({ err: errorText(e), seq: m.seq }, 'could not settle a message'),
          );
          await current;
          current = undefined;
          backoffMs = 250;
        }
      } catch (e) {
        if (stop.signal.aborted) break;
        // Typically the consumer or its stream vanished (NATS wiped); set them up again.
        log.warn({ err: errorText(e) }, 'consumer interrupted; restarting');
      }
      if (!stop.signal.aborted) {
        await sleep(backoffMs, stop.signal);
        backoffMs = Math.min(backoffMs * 2, MAX_RESTART_BACKOFF_MS);
      }
    }
  }

  run().catch((e) => log.error({ err: errorText(e) }, 'consumer stopped on an error'));
  return {
    async stop() {
      stop.abort();
      // Waits for a handler in progress (its ack still counts), not for an idle pull to expire:
      // whatever that pull still brings is nak'ed by the loop.
      await current;
    },
  };
}
