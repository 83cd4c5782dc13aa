import { Gauge, type Registry } from 'prom-client';
import type { Bus, BusInfo } from '../../bus/bus.port.ts';
import type { Logger } from '../../kernel/logger.ts';
import { sharedRead } from './shared-read.ts';

/**
 * A consumer's label: its name without the unique suffix the NATS client gives a watcher's ordered
 * consumer (`projections_<nuid>_<serial>` → `projections`), so a restarted process, or a consumer
 * the client recreated, does not make a new series.
 */
export function consumerGroup(name: string): string {
  return name.replace(/_[0-9A-Za-z]{22}_\d+$/, '');
}

/**
 * The events stream and its consumers, from the same view `switchyard nats` prints: messages in the
 * stream, the dead-letter count, and per consumer group the messages not yet delivered (pending)
 * and delivered but not acknowledged.
 */
export function busMetrics(bus: Pick<Bus, 'info'>, metrics: Registry, logger: Logger): void {
  const read = sharedRead(async (): Promise<BusInfo | undefined> => {
    try {
      return await bus.info();
    } catch (e) {
      logger.warn({ err: e }, 'could not read the bus for /metrics');
      return undefined;
    }
  });
  const perGroup = (name: string, help: string, value: (c: BusInfo['consumers'][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['consumer'] as const,
      registers: [metrics],
      async collect() {
        const info = await read();
        this.reset();
        if (!info) return;
        const sums = new Map<string, number>();
        for (const c of info.consumers) {
          const group = consumerGroup(c.name);
          sums.set(group, (sums.get(group) ?? 0) + value(c));
        }
        for (const [consumer, n] of sums) this.set({ consumer }, n);
      },
    });
  perGroup(
    'switchyard_nats_consumer_pending',
    'Messages of the events stream not yet delivered to a consumer group',
    (c) => c.pending,
  );
  perGroup(
    'switchyard_nats_consumer_ack_pending',
    'Messages delivered to a consumer group and not yet acknowledged',
    (c) => c.ackPending,
  );
  new Gauge({
    name: 'switchyard_nats_stream_messages',
    help: 'Messages in the events stream',
    registers: [metrics],
    async collect() {
      const info = await read();
      this.reset();
      if (info) this.set(info.stream.messages);
    },
  });
  new Gauge({
    name: 'switchyard_nats_dead_letters',
    help: 'Messages parked in the dead-letter stream',
    registers: [metrics],
    async collect() {
      const info = await read();
      this.reset();
      if (info) this.set(info.deadLetters);
    },
  });
}
