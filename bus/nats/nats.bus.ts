import nats, { type ConnectionOptions, type NatsConnection } from 'nats';
import type { Logger } from '../../kernel/logger.ts';
import { type Bus, type BusNames, type Closeable, defaultBusNames } from '../bus.port.ts';
import { natsRequest, serveNatsCommands } from './nats-commands.ts';
import { startNatsConsumer } from './nats-consumer.ts';
import { parkEvent, readDeadLetters } from './nats-dead-letters.ts';
import { isStreamNotFound } from './nats-errors.ts';
import { natsBusInfo } from './nats-info.ts';
import { lastPublishedEvent, publishEvents } from './nats-publish.ts';
import { streamKeeper } from './nats-streams.ts';
import { natsSubjects } from './nats-subjects.ts';
import { startNatsWatch } from './nats-watch.ts';

const { connect } = nats;

export interface NatsBusOptions {
  /** Server URL(s) to connect to; the bus owns (and on close drains) that connection. */
  url?: string;
  /** An open connection to share; close() then leaves it open for its owner. */
  connection?: NatsConnection;
  names?: BusNames;
  logger: Logger;
  /** How long JetStream deduplicates a re-published event id (default 2 minutes). */
  duplicateWindowMs?: number;
  /** Ack wait of durable consumers; a running handler keeps extending it (default 30 s). */
  ackWaitMs?: number;
  /** How long publish waits for each JetStream ack (default 10 s). */
  publishTimeoutMs?: number;
}

function serverAtLeast(version: string | undefined, major: number, minor: number): boolean {
  const [ma = 0, mi = 0] = (version ?? '0.0').split('.').map((n) => Number.parseInt(n, 10));
  return ma > major || (ma === major && mi >= minor);
}

/**
 * Connection options for a NATS_URL: servers, and the credentials the URL carries
 * (`nats://user:password@host`, or `nats://token@host`) as options, since the client does not take
 * them from the URL. A user also sets the reply subjects to `_INBOX_<user>`: with one NATS user per
 * role (deploy/nats.conf) each role may subscribe to its own replies only, and none reads the
 * answers meant for another.
 */
export function connectOptionsFor(url: string): ConnectionOptions {
  const servers: string[] = [];
  let user = '';
  let pass = '';
  for (const raw of url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const parsed = URL.parse(raw.includes('://') ? raw : `nats://${raw}`);
    if (!parsed) {
      servers.push(raw);
      continue;
    }
    if (parsed.username !== '' && user === '') {
      user = decodeURIComponent(parsed.username);
      pass = decodeURIComponent(parsed.password);
    }
    servers.push(`${parsed.protocol}//${parsed.host}`);
  }
  if (user === '') return { servers };
  // A user without a password is a token (nats://<token>@host).
  if (pass === '') return { servers, token: user };
  const inbox = /^[A-Za-z0-9_-]{1,64}$/.test(user) ? { inboxPrefix: `_INBOX_${user}` } : {};
  return { servers, user, pass, ...inbox };
}

/**
 * The NATS adapter of the Bus port: events in one JetStream stream (`<prefix>.events.>`), durable
 * ordered pull consumers, parked messages in a dead-letter stream (`<prefix>.dlq.>`), and commands
 * over core request/reply with queue groups. Creates or updates both streams before resolving.
 */
export async function createNatsBus(options: NatsBusOptions): Promise<Bus> {
  if (!options.url && !options.connection) throw new Error('createNatsBus needs a url or a connection');
  const names = options.names ?? defaultBusNames;
  const logger = options.logger.child({ module: 'bus.nats' });
  const owned = !options.connection;
  const nc =
    options.connection ??
    // noAsyncTraces: the client would otherwise build an Error (a stack capture) up front for every
    // request and pull, in case it times out — a few percent of a busy gateway's CPU.
    (await connect({ ...connectOptionsFor(options.url!), name: 'switchyard', noAsyncTraces: true }));
  const closeables = new Set<{ close(): Promise<void> } | { stop(): Promise<void> }>();
  try {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const streams = streamKeeper(
      jsm,
      names,
      { duplicateWindowMs: options.duplicateWindowMs ?? 120_000 },
      logger,
    );
    await streams.ensure();
    const multiFilter = serverAtLeast(nc.info?.version, 2, 10);
    const subjects = natsSubjects(nc, names, logger);
    const track = (closeable: Closeable): Closeable => {
      const handle = {
        async close() {
          closeables.delete(handle);
          await closeable.close();
        },
      };
      closeables.add(handle);
      return handle;
    };

    const bus: Bus = {
      names,
      async publish(events, publishOptions) {
        if (events.length === 0) return;
        await streams.ensure();
        await publishEvents(
          js,
          names,
          events,
          () => streams.invalidate(),
          options.publishTimeoutMs ?? 10_000,
          publishOptions?.previousId,
        );
      },
      async lastPublished() {
        try {
          return await lastPublishedEvent(jsm, names);
        } catch (e) {
          if (!isStreamNotFound(e)) throw e;
          // Wiped: recreate so that the relay's next publish lands, and report an empty stream.
          streams.invalidate();
          await streams.ensure();
          return undefined;
        }
      },
      async consume(consumeOptions) {
        const consumer = await startNatsConsumer(
          {
            js,
            jsm,
            names,
            logger,
            ensureStreams: (recheck) => {
              if (recheck) streams.invalidate();
              return streams.ensure();
            },
            park: (name, event, error, count) => parkEvent(js, names, name, event, error, count),
            multiFilter,
            ackWaitMs: options.ackWaitMs ?? 30_000,
          },
          consumeOptions,
        );
        const handle = {
          async stop() {
            closeables.delete(handle);
            await consumer.stop();
          },
        };
        closeables.add(handle);
        return handle;
      },
      async watch(watchOptions) {
        await streams.ensure();
        const watcher = await startNatsWatch({ js, names, multiFilter }, watchOptions);
        const handle = {
          async stop() {
            closeables.delete(handle);
            await watcher.stop();
          },
        };
        closeables.add(handle);
        return handle;
      },
      async serveCommands(serveOptions) {
        const served = serveNatsCommands(nc, names, logger, serveOptions);
        const handle = {
          async close() {
            closeables.delete(handle);
            await served.close();
          },
        };
        closeables.add(handle);
        return handle;
      },
      request: (category, name, payload, requestOptions) =>
        natsRequest(nc, names, category, name, payload, requestOptions),
      serveSubject: async (serveOptions) => track(await subjects.serve(serveOptions)),
      requestSubject: (subject, payload, requestOptions) =>
        subjects.request(subject, payload, requestOptions),
      publishSubject: (subject, payload, publishOptions) =>
        subjects.publish(subject, payload, publishOptions),
      subscribeSubject: async (subscribeOptions) => track(await subjects.subscribe(subscribeOptions)),
      deadLetters: (consumer) => readDeadLetters(js, jsm, names, logger, consumer),
      info: () => natsBusInfo(jsm, names),
      async close() {
        await Promise.allSettled([...closeables].map((c) => ('stop' in c ? c.stop() : c.close())));
        if (owned && !nc.isClosed()) await nc.drain();
      },
    };
    return bus;
  } catch (e) {
    if (owned) await nc.close();
    throw e;
  }
}
