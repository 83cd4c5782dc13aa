import { Counter, Gauge, type Registry } from 'prom-client';
import type { RelayStatus } from '../../bus/relay/relay.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { Logger } from '../../kernel/logger.ts';
import { sharedRead } from './shared-read.ts';

interface RelayView {
  status: RelayStatus;
  /** Events in the store after the last one on the bus, and the age of the oldest; leader only. */
  lag: { events: number; seconds: number } | undefined;
}

/**
 * The relay: whether this process leads (one relay in the deployment should), what it published,
 * and how far the bus is behind the store — the events appended and not yet on NATS, and how old
 * the oldest of them is. Only the leader knows the bus's position, so only it reports a lag.
 */
export function relayMetrics(
  deps: { status: () => RelayStatus; store: EventStore; clock: Clock; logger: Logger },
  metrics: Registry,
): void {
  const read = sharedRead(async (): Promise<RelayView> => {
    const status = deps.status();
    if (!status.leader) return { status, lag: undefined };
    const after = status.lastPublishedPosition ?? 0n;
    try {
      const events = await deps.store.countAfter(after);
      let seconds = 0;
      if (events > 0) {
        const [oldest] = await deps.store.readAll({ after, maxCount: 1 });
        if (oldest) seconds = Math.max(0, deps.clock.now().getTime() - oldest.recordedAt.getTime()) / 1000;
      }
      return { status, lag: { events, seconds } };
    } catch (e) {
      deps.logger.warn({ err: e }, 'could not read the relay lag for /metrics');
      return { status, lag: undefined };
    }
  });
  new Gauge({
    name: 'switchyard_relay_leader',
    help: 'Whether this relay holds the leader lock and publishes (1) or stands by (0)',
    registers: [metrics],
    async collect() {
      this.set((await read()).status.leader ? 1 : 0);
    },
  });
  new Gauge({
    name: 'switchyard_relay_published_position',
    help: 'Global log position of the last event known to be on the bus (leader only)',
    registers: [metrics],
    async collect() {
      const { status } = await read();
      this.reset();
      if (status.leader && status.lastPublishedPosition !== undefined)
        this.set(Number(status.lastPublishedPosition));
    },
  });
  let published = 0;
  new Counter({
    name: 'switchyard_relay_events_published_total',
    help: 'Events this relay published to the bus since it started',
    registers: [metrics],
    async collect() {
      const now = (await read()).status.eventsPublished;
      if (now > published) this.inc(now - published);
      published = now;
    },
  });
  new Gauge({
    name: 'switchyard_relay_lag_events',
    help: 'Events in the event store not yet published to the bus (leader only)',
    registers: [metrics],
    async collect() {
      const { lag } = await read();
      this.reset();
      if (lag) this.set(lag.events);
    },
  });
  new Gauge({
    name: 'switchyard_relay_lag_seconds',
    help: 'Age of the oldest event not yet published to the bus, 0 when there is none (leader only)',
    registers: [metrics],
    async collect() {
      const { lag } = await read();
      this.reset();
      if (lag) this.set(lag.seconds);
    },
  });
}
