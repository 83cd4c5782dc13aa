import nats, { type ConsumerMessages, type JetStreamClient, type JsMsg } from 'nats';
import { type BusNames, type Consumer, filterSubjects, type WatchOptions } from '../bus.port.ts';
import { assertToken, matchesAny } from '../subjects.ts';
import { EVENT_HEADERS } from './nats-publish.ts';

const { DeliverPolicy } = nats;

export interface NatsWatchDeps {
  js: JetStreamClient;
  names: BusNames;
  /** Servers before 2.10 take a single filter subject per consumer. */
  multiFilter: boolean;
}

/** Messages asked for per pull: a burst of appends arrives in a few pulls, not one per event. */
const BATCH = 256;
/**
 * An idle pull ends after this long and another is made; it also bounds how long the watch waits
 * before creating its consumer again after the stream was wiped.
 */
const PULL_EXPIRES_MS = 10_000;
/** The server removes the consumer of a watcher that died without stopping after this long. */
const INACTIVE_THRESHOLD_MS = 60_000;

/**
 * `Bus.watch` on JetStream: an ordered consumer per watcher (ephemeral, in the server's memory, no
 * acks, headers only: the `Sy-Position` header is all it reads). The client recreates it by itself
 * after a gap, a reconnect or a wiped stream, and deletes it on stop(); the server removes the
 * consumer of a watcher that died without stopping. (Projections used to pull one message at a
 * time from a durable consumer each, with a confirmed ack per event, for a signal whose events are
 * read from the store anyway.)
 */
export async function startNatsWatch(deps: NatsWatchDeps, options: WatchOptions): Promise<Consumer> {
  assertToken(options.name, 'watch name');
  const { js, names } = deps;
  const subjects = filterSubjects(names, options.filter);
  const serverSide =
    subjects.length === 1 || deps.multiFilter ? subjects : [`${names.subjectPrefix}.events.>`];
  const filterHere = serverSide !== subjects;

  const consumer = await js.consumers.get(names.eventsStream, {
    name_prefix: `${options.name}_`,
    filterSubjects: serverSide.length === 1 ? serverSide[0]! : serverSide,
    deliver_policy: DeliverPolicy.New,
    headers_only: true,
    inactive_threshold: INACTIVE_THRESHOLD_MS,
  });
  const onMessage = (m: JsMsg) => {
    if (filterHere && !matchesAny(subjects, m.subject)) return;
    const position = m.headers?.get(EVENT_HEADERS.position);
    if (position && /^\d{1,20}$/.test(position)) options.onPosition(BigInt(position), m.subject);
  };
  const messages: ConsumerMessages = await consumer.consume({
    max_messages: BATCH,
    expires: PULL_EXPIRES_MS,
    callback: onMessage,
  });
  return {
    async stop() {
      await messages.close().catch(() => undefined);
      await consumer.delete().catch(() => false);
    },
  };
}
