import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { RecordedEventJson } from '../../kernel/envelope.ts';
import type { LiveEndReason, LiveSink } from './live-events.ts';

/** How long a final message may take to reach a client that is not reading before the socket goes. */
const FINAL_GRACE_MS = 2_000;
/** What EventSource waits before it reconnects after the connection drops. */
const RETRY_MS = 2_000;

/**
 * Server-Sent Events on a raw response: `id:` is the event's global position (EventSource sends it
 * back as Last-Event-ID when it reconnects), `data:` the event as /events shows it, comments as
 * heartbeats, and `event: end` last. The response says `Connection: close`: when the feed ends, the
 * socket goes with it, so a stopping gateway is not held open by an idle keep-alive connection.
 */
export function sseSink(res: ServerResponse, headers: Record<string, string | number | string[]>): LiveSink {
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'close',
    // nginx buffers proxied responses unless told not to.
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${RETRY_MS}\n\n`);
  return {
    gone: gone.signal,
    event(event: RecordedEventJson) {
      return res.write(`id: ${event.position}\ndata: ${JSON.stringify(event)}\n\n`);
    },
    heartbeat() {
      res.write(': heartbeat\n\n');
    },
    async drained(ms) {
      if (gone.signal.aborted) return false;
      const timeout = AbortSignal.timeout(ms);
      try {
        await once(res, 'drain', { signal: AbortSignal.any([timeout, gone.signal]) });
        return true;
      } catch {
        return false;
      }
    },
    end(reason: LiveEndReason, lastEventId: string | undefined) {
      if (gone.signal.aborted) return;
      res.end(`event: end\ndata: ${JSON.stringify({ reason, lastEventId: lastEventId ?? null })}\n\n`);
      // A client that is not reading would keep the socket (and its buffer) for good.
      const timer = setTimeout(() => res.destroy(), FINAL_GRACE_MS);
      timer.unref();
      res.once('close', () => clearTimeout(timer));
    },
  };
}
