import { sleep } from '../../kernel/async.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { BusNames, ConsumeOptions, Consumer } from '../bus.port.ts';
import { filterSubjects } from '../bus.port.ts';
import { assertToken, matchesAny } from '../subjects.ts';
import { errorText } from '../wire.ts';
import type { EventLog } from './in-process-log.ts';

export interface DeadLetter {
  consumer: string;
  event: RecordedEvent;
  error: string;
}

interface Member {
  options: ConsumeOptions;
  stopped: AbortController;
  /** The handler call in progress, which stop() lets finish (its ack still counts). */
  current: Promise<void> | undefined;
}

/** Server-side state of one durable consumer, kept for the life of the bus. */
export interface Durable {
  name: string;
  subjects: string[];
  /** Index in the log of the next entry to look at; everything before is acked or parked. */
  cursor: number;
  /** Deliveries so far of the entry at the cursor. */
  attempts: number;
  redelivered: number;
  inFlight: boolean;
  members: Member[];
  turn: number;
  loop: Promise<void> | undefined;
}

const DEFAULT_MAX_DELIVER = 5;
const DEFAULT_RETRY_DELAY_MS = 200;

export interface ConsumerDeps {
  log: EventLog;
  names: BusNames;
  logger: Logger;
  durables: Map<string, Durable>;
  deadLetters: DeadLetter[];
}

function nextMatching(deps: ConsumerDeps, d: Durable): number {
  while (d.cursor < deps.log.entries.length && !matchesAny(d.subjects, deps.log.entries[d.cursor]!.subject)) {
    d.cursor++;
  }
  return d.cursor;
}

/**
 * Hands entries to the members of a durable one at a time, in log order, round robin between
 * members; retries with a growing delay and parks after maxDeliver, as the NATS adapter does.
 */
async function dispatch(deps: ConsumerDeps, d: Durable): Promise<void> {
  const log = deps.logger.child({ consumer: d.name });
  while (d.members.length > 0) {
    const index = nextMatching(deps, d);
    const entry = deps.log.entries[index];
    if (!entry) {
      await deps.log.changed();
      continue;
    }
    const member = d.members[d.turn++ % d.members.length]!;
    const maxDeliver = Math.max(1, member.options.maxDeliver ?? DEFAULT_MAX_DELIVER);
    const retryDelayMs = Math.max(0, member.options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS);
    const attempt = ++d.attempts;
    if (attempt > 1) d.redelivered++;
    d.inFlight = true;
    const call = (async () => member.options.handler(entry.event, { deliveryCount: attempt }))();
    member.current = call.then(
      () => {},
      () => {},
    );
    try {
      await call;
      d.cursor = index + 1;
      d.attempts = 0;
    } catch (e) {
      if (attempt >= maxDeliver) {
        deps.deadLetters.push({ consumer: d.name, event: entry.event, error: errorText(e) });
        log.warn(
          { eventId: entry.event.id, type: entry.event.type, attempts: attempt, error: errorText(e) },
          `event parked on ${deps.names.subjectPrefix}.dlq.${d.name}`,
        );
        d.cursor = index + 1;
        d.attempts = 0;
      } else {
        log.info({ eventId: entry.event.id, attempt, err: errorText(e) }, 'handler failed; will retry');
        d.inFlight = false;
        await sleep(retryDelayMs * attempt, member.stopped.signal);
      }
    } finally {
      d.inFlight = false;
      member.current = undefined;
    }
  }
  d.loop = undefined;
}

/** Attaches a member to a durable consumer (created on first use) and starts dispatching. */
export function startInProcessConsumer(deps: ConsumerDeps, options: ConsumeOptions): Consumer {
  assertToken(options.name, 'consumer name');
  const subjects = filterSubjects(deps.names, options.filter);
  let d = deps.durables.get(options.name);
  if (!d) {
    d = {
      name: options.name,
      subjects,
      cursor: options.startAt === 'new' ? deps.log.entries.length : 0,
      attempts: 0,
      redelivered: 0,
      inFlight: false,
      members: [],
      turn: 0,
      loop: undefined,
    };
    deps.durables.set(options.name, d);
  }
  d.subjects = subjects;
  const member: Member = { options, stopped: new AbortController(), current: undefined };
  d.members.push(member);
  const durable = d;
  // Deferred a tick, like a network consumer: consume() returns before the first delivery.
  durable.loop ??= Promise.resolve().then(() => dispatch(deps, durable));
  return {
    async stop() {
      const i = durable.members.indexOf(member);
      if (i === -1) return;
      durable.members.splice(i, 1);
      member.stopped.abort();
      // Wakes a dispatcher idling at the tail so that it notices it has no members left.
      deps.log.wake();
      await member.current;
    },
  };
}
