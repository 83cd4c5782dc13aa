import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent, RecordedEventJson } from '../../kernel/envelope.ts';
import { type LiveEndReason, type LiveSink, pumpLiveEvents } from './live-events.ts';

const event = (position: number): RecordedEvent => ({
  id: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
  type: 'Probed',
  stream: 'probe-1',
  revision: BigInt(position),
  position: BigInt(position),
  data: {},
  metadata: { correlationId: 'c', causationId: 'c', actor: 'test', schemaVersion: 1 },
  recordedAt: new Date(0),
});

/** A log of `n` events that counts how many the pump has pulled, and says when it was let go. */
function log(n: number) {
  const state = { pulled: 0, released: false };
  async function* events(signal: AbortSignal) {
    try {
      for (let i = 1; i <= n && !signal.aborted; i++) {
        state.pulled++;
        yield event(i);
      }
      // Live: nothing more until the feed is stopped.
      if (!signal.aborted)
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    } finally {
      state.released = true;
    }
  }
  return { state, events };
}

/** A transport whose buffer is full from the first event on, and drains only when told. */
function congestedSink() {
  const gone = new AbortController();
  const sent: string[] = [];
  const ends: Array<[LiveEndReason, string | undefined]> = [];
  let drain: ((ok: boolean) => void) | undefined;
  const sink: LiveSink = {
    gone: gone.signal,
    event(e: RecordedEventJson) {
      sent.push(e.position);
      return false;
    },
    heartbeat() {},
    drained: () =>
      new Promise((resolve) => {
        drain = resolve;
      }),
    end: (reason, last) => {
      ends.push([reason, last]);
    },
  };
  return { sink, sent, ends, gone, drain: (ok: boolean) => drain?.(ok) };
}

const timing = { heartbeatMs: 60_000, stallMs: 60_000, recheckMs: 60_000 };
const allowed = async () => true;

describe('pumpLiveEvents', () => {
  it('reads nothing more while the client is congested, and goes on once it has drained', async () => {
    const { state, events } = log(5);
    const t = congestedSink();
    const shutdown = new AbortController();
    const pumped = pumpLiveEvents({
      events,
      sink: t.sink,
      shutdown: shutdown.signal,
      stillAllowed: allowed,
      timing,
      after: 0n,
    });
    for (let i = 0; i < 20; i++) await tick();
    expect(state.pulled).toBe(1);
    expect(t.sent).toEqual(['1']);
    t.drain(true);
    for (let i = 0; i < 20; i++) await tick();
    expect(state.pulled).toBe(2);
    shutdown.abort();
    t.drain(true);
    expect(await pumped).toBe('shutdown');
  });

  it('drops a client that stays congested with a final slow-consumer end, and lets go of the log', async () => {
    const { state, events } = log(5);
    const t = congestedSink();
    const pumped = pumpLiveEvents({
      events,
      sink: t.sink,
      shutdown: new AbortController().signal,
      stillAllowed: allowed,
      timing,
      after: 0n,
    });
    await tick();
    t.drain(false);
    expect(await pumped).toBe('slow-consumer');
    expect(t.ends).toEqual([['slow-consumer', '1']]);
    expect(state.pulled).toBe(1);
    expect(state.released).toBe(true);
  });

  it('ends with unauthorized when the credential no longer allows reading', async () => {
    const { state, events } = log(0);
    const t = congestedSink();
    const pumped = pumpLiveEvents({
      events,
      sink: t.sink,
      shutdown: new AbortController().signal,
      stillAllowed: async () => false,
      timing: { ...timing, recheckMs: 1 },
      after: 41n,
    });
    expect(await pumped).toBe('unauthorized');
    expect(t.ends).toEqual([['unauthorized', '41']]);
    expect(state.released).toBe(true);
  });

  it('says nothing to a peer that has gone, and lets go of the log', async () => {
    const { state, events } = log(0);
    const t = congestedSink();
    const pumped = pumpLiveEvents({
      events,
      sink: t.sink,
      shutdown: new AbortController().signal,
      stillAllowed: allowed,
      timing,
      after: 0n,
    });
    await tick();
    t.gone.abort();
    expect(await pumped).toBe('gone');
    expect(t.ends).toEqual([]);
    expect(state.released).toBe(true);
  });
});
