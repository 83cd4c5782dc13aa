import nats, { type JetStreamClient, type JetStreamManager, type MsgHdrs } from 'nats';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import { AppError } from '../../kernel/errors.ts';
import type { BusNames } from '../bus.port.ts';
import { subjectOf } from '../subjects.ts';
import { decodeEvent, encodeEvent, errorText } from '../wire.ts';
import { isNoResponders, isStreamNotFound } from './nats-errors.ts';

const { headers: createHeaders } = nats;

/** Header names carried by every event message, for operators and for tracing. */
export const EVENT_HEADERS = {
  eventId: 'Sy-Event-Id',
  eventType: 'Sy-Event-Type',
  stream: 'Sy-Stream',
  revision: 'Sy-Revision',
  position: 'Sy-Position',
  correlationId: 'Sy-Correlation-Id',
  traceparent: 'traceparent',
} as const;

function eventHeaders(e: RecordedEvent): MsgHdrs {
  const h = createHeaders();
  h.set(EVENT_HEADERS.eventId, e.id);
  h.set(EVENT_HEADERS.eventType, e.type);
  h.set(EVENT_HEADERS.stream, e.stream);
  h.set(EVENT_HEADERS.revision, e.revision.toString());
  h.set(EVENT_HEADERS.position, e.position.toString());
  h.set(EVENT_HEADERS.correlationId, e.metadata.correlationId);
  if (e.metadata.traceparent) h.set(EVENT_HEADERS.traceparent, e.metadata.traceparent);
  return h;
}

/**
 * Publishes a batch without waiting for each ack in turn, yet keeps it gap-free: every message but
 * the first expects the previous event id as the stream's last message id, so if one message is
 * lost or rejected, every later one is rejected too and the stream never holds n+1 without n.
 * Dedup by msgID comes first in JetStream, so re-publishing an already stored prefix is harmless.
 */
export async function publishEvents(
  js: JetStreamClient,
  names: BusNames,
  events: readonly RecordedEvent[],
  onStreamMissing: () => void,
  timeoutMs: number,
  /** See Bus.publish: the stream's last message id before the first event; null: empty. */
  previousId?: string | null,
): Promise<void> {
  const acks = events.map((e, i) => {
    const previous = i > 0 ? events[i - 1]!.id : previousId;
    return js.publish(subjectOf(names, e), encodeEvent(e), {
      msgID: e.id,
      headers: eventHeaders(e),
      timeout: timeoutMs,
      expect:
        previous === undefined
          ? { streamName: names.eventsStream }
          : previous === null
            ? { streamName: names.eventsStream, lastSequence: 0 }
            : { streamName: names.eventsStream, lastMsgID: previous },
    });
  });
  const results = await Promise.allSettled(acks);
  const failed = results.findIndex((r) => r.status === 'rejected');
  if (failed === -1) return;
  const reason = (results[failed] as PromiseRejectedResult).reason;
  if (isNoResponders(reason) || isStreamNotFound(reason)) onStreamMissing();
  const event = events[failed]!;
  throw new AppError(
    'unavailable',
    'BUS.PUBLISH_FAILED',
    `publishing event ${event.id} (${failed + 1} of ${events.length}) failed: ${errorText(reason)}`,
    { eventId: event.id, position: event.position.toString(), published: failed },
  );
}

/** The last event in the events stream, read from the stream itself rather than the dedup window. */
export async function lastPublishedEvent(
  jsm: JetStreamManager,
  names: BusNames,
): Promise<{ eventId: string; position: bigint } | undefined> {
  const info = await jsm.streams.info(names.eventsStream);
  if (info.state.messages === 0) return undefined;
  const msg = await jsm.streams.getMessage(names.eventsStream, {
    last_by_subj: `${names.subjectPrefix}.events.>`,
  });
  const id = msg.header.get(EVENT_HEADERS.eventId);
  const position = msg.header.get(EVENT_HEADERS.position);
  if (id && /^\d+$/.test(position)) return { eventId: id, position: BigInt(position) };
  // Headers are a convenience; the payload is the source of truth.
  const event = decodeEvent(msg.data);
  return { eventId: event.id, position: event.position };
}
