import { randomUUID } from 'node:crypto';
import nats from 'nats';
import type { BusNames } from '../bus/bus.port.ts';
import { readMessages } from '../bus/nats/nats-read.ts';
import { decodeEvent } from '../bus/wire.ts';
import type { NewEvent, RecordedEvent } from '../kernel/envelope.ts';
import type { EventStore } from '../kernel/event-store.port.ts';

/** Test support for the relay: writing to a store, reading back both sides. */

export function newEvent(type: string, data: unknown = {}): NewEvent {
  return {
    id: randomUUID(),
    type,
    data,
    metadata: { correlationId: randomUUID(), causationId: randomUUID(), actor: 'test', schemaVersion: 1 },
  };
}

/**
 * Appends `total` events in batches of 1–5 from `writers` concurrent writers, each owning its own
 * streams, with an optional pause between appends. `progress.appended` counts as it goes.
 */
export async function appendMany(
  store: EventStore,
  options: {
    total: number;
    streams: number;
    writers: number;
    pauseMs?: number;
    progress?: { appended: number };
  },
): Promise<void> {
  const progress = options.progress ?? { appended: 0 };
  let remaining = options.total;
  const categories = ['server', 'toolcall', 'template', 'project', 'deployment'];
  await Promise.all(
    Array.from({ length: options.writers }, async (_, w) => {
      let i = 0;
      while (remaining > 0) {
        const n = Math.min(remaining, 1 + Math.floor(Math.random() * 5));
        remaining -= n;
        const s = w + options.writers * (i++ % Math.ceil(options.streams / options.writers));
        const stream = `${categories[s % categories.length]}-${s}`;
        await store.append(
          stream,
          Array.from({ length: n }, () => newEvent(`Thing${s % 7}Happened`, { s })),
          'any',
        );
        progress.appended += n;
        if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
      }
    }),
  );
}

export async function readWholeStore(store: EventStore): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readAll({ after: out.at(-1)?.position ?? 0n, maxCount: 1000 });
    if (page.length === 0) return out;
    out.push(...page);
  }
}

/** Every event in the JetStream events stream, in stream order. */
export async function readWholeBus(natsUrl: string, names: BusNames): Promise<RecordedEvent[]> {
  const nc = await nats.connect({ servers: natsUrl });
  try {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const messages = await readMessages(js, jsm, names.eventsStream, `${names.subjectPrefix}.events.>`);
    return messages.map((m) => decodeEvent(m.data));
  } finally {
    await nc.close();
  }
}

export async function deleteStreams(
  natsUrl: string,
  names: BusNames,
  which: 'events' | 'all' = 'all',
): Promise<void> {
  const nc = await nats.connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(names.eventsStream).catch(() => {});
    if (which === 'all') await jsm.streams.delete(names.deadLetterStream).catch(() => {});
  } finally {
    await nc.close();
  }
}

/** Ids that occur more than once, for a readable failure. */
export function duplicates(events: readonly RecordedEvent[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const e of events) (seen.has(e.id) ? twice : seen).add(e.id);
  return [...twice];
}
