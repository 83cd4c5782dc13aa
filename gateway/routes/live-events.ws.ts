import type { WebSocket } from 'ws';
import type { RecordedEventJson } from '../../kernel/envelope.ts';
import type { LiveEndReason, LiveSink } from './live-events.ts';

/** Bytes a socket may hold unsent before the feed waits for it. */
const HIGH_WATER_BYTES = 1024 * 1024;

/** Close codes (RFC 6455 §7.4.1) by reason: a client reconnects on 1001 and 1011, not on 1008. */
const CLOSE_CODES: Record<LiveEndReason, number> = {
  shutdown: 1001,
  'slow-consumer': 1008,
  unauthorized: 1008,
  error: 1011,
};

/**
 * The live feed over WebSocket: one JSON text message per event, `{kind: 'event', id, event}` with
 * `id` the global position (a reconnecting client passes it back as `after`), and a final
 * `{kind: 'end', reason, lastEventId}` before the close. Heartbeats are pings; a peer that has not
 * answered the previous ping by the next one is gone.
 */
export function wsSink(socket: WebSocket): LiveSink {
  const gone = new AbortController();
  socket.once('close', () => gone.abort());
  let alive = true;
  socket.on('pong', () => {
    alive = true;
  });
  let lastSend: Promise<void> = Promise.resolve();
  const send = (message: unknown) => {
    lastSend = new Promise((resolve) => socket.send(JSON.stringify(message), () => resolve()));
  };
  return {
    gone: gone.signal,
    event(event: RecordedEventJson) {
      send({ kind: 'event', id: event.position, event });
      return socket.bufferedAmount < HIGH_WATER_BYTES;
    },
    heartbeat() {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    },
    async drained(ms) {
      if (gone.signal.aborted) return false;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      });
      // The callback of the last send runs once everything before it is written out (or failed).
      const flushed = lastSend.then(() => !gone.signal.aborted);
      try {
        return await Promise.race([flushed, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    end(reason: LiveEndReason, lastEventId: string | undefined) {
      if (gone.signal.aborted) return;
      send({ kind: 'end', reason, lastEventId: lastEventId ?? null });
      socket.close(CLOSE_CODES[reason], reason);
    },
  };
}
