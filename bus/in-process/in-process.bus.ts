import { AppError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import { type Bus, type BusInfo, type BusNames, defaultBusNames } from '../bus.port.ts';
import { matchesAny } from '../subjects.ts';
import { CommandRouter } from './in-process-commands.ts';
import { type DeadLetter, type Durable, startInProcessConsumer } from './in-process-consumer.ts';
import { EventLog } from './in-process-log.ts';
import { SubjectRouter } from './in-process-subjects.ts';
import { startInProcessWatch, type Watcher } from './in-process-watch.ts';

export interface InProcessBusOptions {
  names?: BusNames;
  logger: Logger;
}

function info(
  names: BusNames,
  log: EventLog,
  durables: Map<string, Durable>,
  watchers: ReadonlySet<Watcher>,
  deadLetters: number,
): BusInfo {
  const subjects: Record<string, number> = {};
  for (const e of log.entries) subjects[e.subject] = (subjects[e.subject] ?? 0) + 1;
  const last = log.entries.length;
  return {
    stream: {
      name: names.eventsStream,
      messages: last,
      bytes: log.entries.reduce((n, e) => n + e.bytes, 0),
      firstSeq: last > 0 ? 1 : 0,
      lastSeq: last,
    },
    subjects,
    consumers: [
      ...[...durables.values()].map((d) => ({
        name: d.name,
        filterSubjects: [...d.subjects],
        pending: log.entries.slice(d.cursor).filter((e) => matchesAny(d.subjects, e.subject)).length,
        ackPending: d.inFlight || d.attempts > 0 ? 1 : 0,
        redelivered: d.redelivered,
        ackFloor: d.cursor,
        delivered: d.attempts > 0 || d.inFlight ? d.cursor + 1 : d.cursor,
      })),
      // A watch hands on each position as it is appended, and keeps no state to report.
      ...[...watchers].map((w, i) => ({
        name: `${w.name}_${i + 1}`,
        filterSubjects: [...w.subjects],
        pending: 0,
        ackPending: 0,
        redelivered: 0,
        ackFloor: last,
        delivered: last,
      })),
    ].sort((a, b) => a.name.localeCompare(b.name)),
    deadLetters,
  };
}

/**
 * The in-process adapter of the Bus port, for the embedded single-process mode: the same ordering,
 * retry, parking, dedup and queue-group semantics as NATS, in memory. It is not durable across
 * restarts, and need not be: consumers are projections and sagas that keep their own checkpoints
 * and catch up from the event store on start; the bus only carries what happens while running.
 */
export function createInProcessBus(options: InProcessBusOptions): Bus {
  const names = options.names ?? defaultBusNames;
  const logger = options.logger.child({ module: 'bus.in-process' });
  const log = new EventLog(names);
  const durables = new Map<string, Durable>();
  const deadLetters: DeadLetter[] = [];
  const commands = new CommandRouter(names, logger);
  const subjects = new SubjectRouter(names, logger);
  const consumers = new Set<{ stop(): Promise<void> }>();
  const watchers = new Set<Watcher>();
  let closed = false;
  const open = () => {
    if (closed) throw new Error('the in-process bus is closed');
  };

  return {
    names,
    async publish(events, publishOptions) {
      open();
      const expected = publishOptions?.previousId;
      const actual = log.last()?.event.id ?? null;
      // Dedup first, as JetStream does: re-publishing a stored prefix is not a broken chain.
      if (expected !== undefined && expected !== actual && !(events[0] && log.has(events[0].id))) {
        throw new AppError(
          'unavailable',
          'BUS.PUBLISH_FAILED',
          `the stream's last event is ${actual}, not ${expected}`,
        );
      }
      log.append(events);
    },
    async lastPublished() {
      const last = log.last();
      return last ? { eventId: last.event.id, position: last.event.position } : undefined;
    },
    async consume(consumeOptions) {
      open();
      const consumer = startInProcessConsumer({ log, names, logger, durables, deadLetters }, consumeOptions);
      const handle = {
        async stop() {
          consumers.delete(handle);
          await consumer.stop();
        },
      };
      consumers.add(handle);
      return handle;
    },
    async watch(watchOptions) {
      open();
      const watch = startInProcessWatch({ log, names, logger, watchers }, watchOptions);
      const handle = {
        async stop() {
          consumers.delete(handle);
          await watch.stop();
        },
      };
      consumers.add(handle);
      return handle;
    },
    async serveCommands(serveOptions) {
      open();
      return commands.serve(serveOptions);
    },
    async request(category, name, payload, requestOptions) {
      open();
      return commands.request(category, name, payload, requestOptions);
    },
    async serveSubject(serveOptions) {
      open();
      return subjects.serve(serveOptions);
    },
    async requestSubject(subject, payload, requestOptions) {
      open();
      return subjects.request(subject, payload, requestOptions);
    },
    async publishSubject(subject, payload, publishOptions) {
      open();
      return subjects.publish(subject, payload, publishOptions);
    },
    async subscribeSubject(subscribeOptions) {
      open();
      return subjects.subscribe(subscribeOptions);
    },
    async deadLetters(consumer) {
      return deadLetters
        .filter((d) => consumer === undefined || d.consumer === consumer)
        .map((d) => ({ ...d }));
    },
    async info() {
      return info(names, log, durables, watchers, deadLetters.length);
    },
    async close() {
      closed = true;
      await Promise.allSettled([...consumers].map((c) => c.stop()));
      await commands.close();
      await subjects.close();
    },
  };
}
