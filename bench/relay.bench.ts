import nats from 'nats';
import type { Bus } from '../bus/bus.port.ts';
import { createNatsBus } from '../bus/nats/nats.bus.ts';
import { createInProcessLeaderLock } from '../bus/relay/in-process-leader-lock.ts';
import { createRelay } from '../bus/relay/relay.ts';
import { subjectOf } from '../bus/subjects.ts';
import { encodeEvent } from '../bus/wire.ts';
import type { RecordedEvent } from '../kernel/envelope.ts';
import { silentLogger } from '../kernel/logger.ts';
import { type BenchContext, withCpu } from './context.ts';
import { serverLog } from './fixtures.ts';
import type { BenchResult, Row } from './report.ts';
import { PhaseTimer, rate } from './stats.ts';

const { DiscardPolicy, RetentionPolicy, StorageType, nanos } = nats;

/** The relay's default batch size; the baseline publishes in windows of the same size. */
const WINDOW = 500;

async function readEverything(log: Awaited<ReturnType<typeof serverLog>>): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for (;;) {
    const page = await log.store.readAll({ after: out.at(-1)?.position ?? 0n, maxCount: 1000 });
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

/**
 * Bare JetStream: the same messages (subject and payload bytes as the relay sends them), each with
 * its Nats-Msg-Id, into a stream configured like the bus's events stream, `WINDOW` publishes in
 * flight and their acks awaited together — no headers, no expected-last-id, no store.
 */
async function bareJetStream(
  natsUrl: string,
  names: Bus['names'],
  events: readonly RecordedEvent[],
): Promise<{ elapsedMs: number }> {
  const nc = await nats.connect({ servers: natsUrl, name: 'switchyard-bench-baseline' });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({
      name: names.eventsStream,
      subjects: [`${names.subjectPrefix}.events.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(120_000),
    });
    const js = nc.jetstream();
    const messages = events.map((e) => ({ subject: subjectOf(names, e), payload: encodeEvent(e), id: e.id }));
    const t0 = performance.now();
    for (let i = 0; i < messages.length; i += WINDOW) {
      await Promise.all(
        messages.slice(i, i + WINDOW).map((m) => js.publish(m.subject, m.payload, { msgID: m.id })),
      );
    }
    const elapsedMs = performance.now() - t0;
    const info = await jsm.streams.info(names.eventsStream);
    if (info.state.messages !== events.length) {
      throw new Error(`baseline stream holds ${info.state.messages} messages, expected ${events.length}`);
    }
    return { elapsedMs };
  } finally {
    await nc.close();
  }
}

async function relayOnce(
  natsUrl: string,
  names: Bus['names'],
  log: Awaited<ReturnType<typeof serverLog>>,
  phases: PhaseTimer,
): Promise<{ elapsedMs: number; batches: number }> {
  const bus = await createNatsBus({ url: natsUrl, names, logger: silentLogger() });
  let batches = 0;
  const timedBus: Bus = {
    ...bus,
    names: bus.names,
    publish: (events) => {
      batches++;
      return phases.time('bus.publish (encode, send, await acks)', () => bus.publish(events));
    },
  };
  const relay = createRelay({
    store: log.store,
    bus: timedBus,
    lock: createInProcessLeaderLock(),
    logger: silentLogger(),
  });
  try {
    const t0 = performance.now();
    await relay.start();
    const deadline = t0 + 600_000;
    while (relay.status().lastPublishedPosition !== log.head) {
      if (performance.now() > deadline)
        throw new Error(
          `relay stuck: ${JSON.stringify(relay.status(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`,
        );
      await new Promise((r) => setTimeout(r, 2));
    }
    const elapsedMs = performance.now() - t0;
    await relay.stop();
    const last = await bus.lastPublished();
    if (last?.position !== log.head)
      throw new Error(`bus ends at ${last?.position}, store head is ${log.head}`);
    return { elapsedMs, batches };
  } finally {
    await relay.stop();
    await bus.close();
  }
}

export async function relayBench(ctx: BenchContext): Promise<BenchResult> {
  const log = await serverLog(ctx);
  const events = await readEverything(log);
  ctx.log(`relay: bare JetStream publish of ${events.length} events`);
  const bare = await withCpu(() => bareJetStream(ctx.natsUrl, ctx.busNames('bare'), events));
  ctx.log(`relay: createRelay from the store (${log.count} events) to JetStream`);
  const phases = new PhaseTimer();
  const relayed = await withCpu(() => relayOnce(ctx.natsUrl, ctx.busNames('relay'), log, phases));
  const value = rate(events.length, relayed.elapsedMs);
  const rows: Row[] = [
    {
      bench: 'relay',
      metric: `store → JetStream, ${events.length} events`,
      unit: 'events/s',
      value,
      baseline: rate(events.length, bare.elapsedMs),
      baselineLabel: `bare js.publish, ${WINDOW} in flight`,
      better: 'higher',
      aim: { text: '≥ 10,000 events/s', met: value >= 10_000 },
    },
  ];
  const publish = phases.get('bus.publish (encode, send, await acks)');
  const notes = [
    {
      bench: 'relay',
      text: `relay total ${(relayed.elapsedMs / 1000).toFixed(2)} s in ${relayed.batches} batches: ${(publish.ms / 1000).toFixed(2)} s inside bus.publish (encode + send + await acks), ${((relayed.elapsedMs - publish.ms) / 1000).toFixed(2)} s outside it (reconcile, reading the store, batching); bare publish ${(bare.elapsedMs / 1000).toFixed(2)} s. CPU: the bench process used ${relayed.processCores.toFixed(2)} cores during the relay (${Math.round((relayed.processCores * relayed.elapsedMs * 1000) / events.length)} µs per event) and ${bare.processCores.toFixed(2)} during the bare publish (${Math.round((bare.processCores * bare.elapsedMs * 1000) / events.length)} µs per event); the whole machine (2 cores: node, nats-server, PostgreSQL, others) was ${(relayed.machineBusy * 100).toFixed(0)}% and ${(bare.machineBusy * 100).toFixed(0)}% busy`,
    },
  ];
  return { rows, notes };
}
