import nats, { type JetStreamClient, type JetStreamManager } from 'nats';
import { type RecordedEvent, toJson } from '../../kernel/envelope.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { BusNames } from '../bus.port.ts';
import { decodeDeadLetter, encodeDeadLetter, errorText } from '../wire.ts';
import { EVENT_HEADERS } from './nats-publish.ts';
import { readMessages } from './nats-read.ts';

const { headers: createHeaders } = nats;

export function deadLetterSubject(names: BusNames, consumer: string): string {
  return `${names.subjectPrefix}.dlq.${consumer}`;
}

/** Stores a parked event; the msgID makes a park repeated after a crash a no-op. */
export async function parkEvent(
  js: JetStreamClient,
  names: BusNames,
  consumer: string,
  event: RecordedEvent,
  error: string,
  deliveryCount: number,
): Promise<void> {
  const h = createHeaders();
  h.set(EVENT_HEADERS.eventId, event.id);
  h.set(EVENT_HEADERS.eventType, event.type);
  h.set(EVENT_HEADERS.stream, event.stream);
  h.set(EVENT_HEADERS.position, event.position.toString());
  h.set('Sy-Consumer', consumer);
  const body = encodeDeadLetter({
    consumer,
    event: toJson(event),
    error,
    deliveryCount,
    parkedAt: new Date().toISOString(),
  });
  await js.publish(deadLetterSubject(names, consumer), body, {
    msgID: `${consumer}:${event.id}`,
    headers: h,
    expect: { streamName: names.deadLetterStream },
  });
}

export async function readDeadLetters(
  js: JetStreamClient,
  jsm: JetStreamManager,
  names: BusNames,
  logger: Logger,
  consumer?: string,
): Promise<Array<{ consumer: string; event: RecordedEvent; error: string }>> {
  const subject = consumer ? deadLetterSubject(names, consumer) : `${names.subjectPrefix}.dlq.>`;
  const out: Array<{ consumer: string; event: RecordedEvent; error: string }> = [];
  for (const m of await readMessages(js, jsm, names.deadLetterStream, subject)) {
    try {
      out.push(decodeDeadLetter(m.data));
    } catch (e) {
      logger.warn({ seq: m.seq, subject: m.subject, err: errorText(e) }, 'skipping a malformed dead letter');
    }
  }
  return out;
}
