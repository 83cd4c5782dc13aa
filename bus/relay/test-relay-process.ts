/**
 * A relay in its own process, for the crash test in relay.test.ts (which SIGKILLs it mid-flow).
 * Configured by environment: DATABASE_URL, NATS_URL, SY_SUBJECT_PREFIX, SY_EVENTS_STREAM,
 * SY_DLQ_STREAM, SY_DUPLICATE_WINDOW_MS, RELAY_LOCK, RELAY_BATCH_SIZE. Logs go to stderr; stdout carries one JSON status
 * line every 100 ms.
 */
import { pino } from 'pino';
import { createPostgresEventStore } from '../../event-store/postgres/postgres.event-store.ts';
import { openPostgres } from '../../runtime/sql.ts';
import { createNatsBus } from '../nats/nats.bus.ts';
import { createPostgresLeaderLock } from './postgres-leader-lock.ts';
import { createRelay } from './relay.ts';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const logger = pino(
  { level: process.env.LOG_LEVEL ?? 'warn', base: { pid: process.pid } },
  pino.destination(2),
);
const databaseUrl = env('DATABASE_URL');
const connection = openPostgres({ url: databaseUrl, max: 4 });
const store = createPostgresEventStore({ connection, pollIntervalMs: 100 });
const bus = await createNatsBus({
  url: env('NATS_URL'),
  names: {
    subjectPrefix: env('SY_SUBJECT_PREFIX'),
    eventsStream: env('SY_EVENTS_STREAM'),
    deadLetterStream: env('SY_DLQ_STREAM'),
  },
  logger,
  duplicateWindowMs: Number(process.env.SY_DUPLICATE_WINDOW_MS ?? 120_000),
});
const relay = createRelay({
  store,
  bus,
  lock: createPostgresLeaderLock({ url: databaseUrl, logger, retryMs: 100 }),
  logger,
  lockName: env('RELAY_LOCK'),
  batchSize: Number(process.env.RELAY_BATCH_SIZE ?? 100),
  retryMs: 100,
});
await relay.start();

const report = setInterval(() => {
  const s = relay.status();
  process.stdout.write(
    `${JSON.stringify({ ...s, lastPublishedPosition: s.lastPublishedPosition?.toString() ?? null })}\n`,
  );
}, 100);

process.once('SIGTERM', () => {
  clearInterval(report);
  (async () => {
    await relay.stop();
    await bus.close();
    await store.close();
    await connection.close();
    process.exit(0);
  })().catch(() => process.exit(1));
});
