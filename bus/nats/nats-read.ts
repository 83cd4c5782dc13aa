import type { JetStreamClient, JetStreamManager, JsMsg } from 'nats';
import { isStreamNotFound } from './nats-errors.ts';

/** How many messages of `stream` are on subjects matching `subject` (0 when the stream is gone). */
export async function countMessages(jsm: JetStreamManager, stream: string, subject: string): Promise<number> {
  try {
    const info = await jsm.streams.info(stream, { subjects_filter: subject });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  } catch (e) {
    if (isStreamNotFound(e)) return 0;
    throw e;
  }
}

/**
 * Reads every message of a stream on `subject`, oldest first, through an ordered (ephemeral)
 * consumer: one pass over the server's data instead of one request per sequence number. Messages
 * added while reading may or may not be included.
 */
export async function readMessages(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  timeoutMs = 30_000,
): Promise<JsMsg[]> {
  if ((await countMessages(jsm, stream, subject)) === 0) return [];
  const consumer = await js.consumers.get(stream, { filterSubjects: subject });
  const messages = await consumer.consume({ max_messages: 1000 });
  const out: JsMsg[] = [];
  const timer = setTimeout(
    () => messages.stop(new Error(`reading ${stream} took over ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    for await (const m of messages) {
      out.push(m);
      if (m.info.pending === 0) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}
