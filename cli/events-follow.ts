import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedEventJson } from '../kernel/envelope.ts';
import { CliError } from './errors.ts';
import { apiUrl, authorizedFetch, fetchGateway, type Gateway, readJson } from './http-client.ts';
import { readSse } from './sse.ts';

/** Pauses between reconnection attempts: doubling from the first to the last. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;

export interface FollowOptions {
  stream?: string | undefined;
  category?: string | undefined;
  type?: string | undefined;
  /** Start strictly after this global position. */
  after: string;
  /** Stop after this many events. */
  max: number;
  print(event: RecordedEventJson): void;
  /** Told when the connection drops and the feed resumes (stderr: stdout is the events). */
  notice(message: string): void;
}

/** How one connection to the feed ended. */
type Ended = { kind: 'done' } | { kind: 'dropped'; why: string };

/**
 * Follows the gateway's live feed (/api/v1/events/stream, Server-Sent Events): history after
 * `after`, then new events as they are appended. When the connection drops or the gateway stops,
 * it connects again with the last id it printed as Last-Event-ID, so nothing is missed and nothing
 * printed twice. A refusal (bad filter, no credential, no right) ends it with the gateway's reason.
 */
export async function followEvents(gateway: Gateway, options: FollowOptions): Promise<void> {
  const state = { last: options.after, printed: 0, connected: false };
  let retryMs = 0;
  for (;;) {
    const before = state.printed;
    const ended = await followOnce(gateway, options, state);
    if (ended.kind === 'done') return;
    if (state.printed > before) retryMs = 0;
    retryMs = Math.min(Math.max(retryMs * 2, RETRY_FIRST_MS), RETRY_MAX_MS);
    options.notice(`${ended.why}; reconnecting after event ${state.last}`);
    await sleep(retryMs);
  }
}

async function followOnce(
  gateway: Gateway,
  options: FollowOptions,
  state: { last: string; printed: number; connected: boolean },
): Promise<Ended> {
  const url = apiUrl(gateway.url, '/api/v1/events/stream', {
    stream: options.stream,
    category: options.category,
    type: options.type,
    after: options.after,
  });
  const stop = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (state.last !== options.after) headers['last-event-id'] = state.last;
  let res: Response;
  try {
    res = await fetchGateway(authorizedFetch(gateway), url, { headers, signal: stop.signal });
  } catch (e) {
    // Unreachable from the start is an error; once it has followed, the gateway may be restarting.
    if (!state.connected) throw e;
    return { kind: 'dropped', why: (e as Error).message };
  }
  if (res.status >= 500 && state.connected)
    return { kind: 'dropped', why: `the gateway answered ${res.status}` };
  if (!res.ok || !res.body) await readJson(res);
  state.connected = true;
  try {
    for await (const m of readSse(res.body!)) {
      if (m.event === 'end') {
        const { reason } = JSON.parse(m.data) as { reason: string };
        if (reason === 'unauthorized') {
          throw new CliError('the gateway ended the feed: the credential no longer allows reading events');
        }
        return { kind: 'dropped', why: `the gateway ended the feed (${reason})` };
      }
      const event = JSON.parse(m.data) as RecordedEventJson;
      options.print(event);
      state.last = m.id ?? event.position;
      state.printed++;
      if (state.printed >= options.max) return { kind: 'done' };
    }
    return { kind: 'dropped', why: 'the gateway closed the connection' };
  } catch (e) {
    if (e instanceof CliError) throw e;
    return { kind: 'dropped', why: `the connection broke (${(e as Error).message})` };
  } finally {
    stop.abort();
  }
}
