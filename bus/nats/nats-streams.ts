import nats, { type JetStreamManager, type StreamConfig } from 'nats';
import { sleep } from '../../kernel/async.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { BusNames } from '../bus.port.ts';
import { isPermissionDenied, isStreamNotFound } from './nats-errors.ts';

const { DiscardPolicy, RetentionPolicy, StorageType, nanos } = nats;

export interface StreamSettings {
  /** How long JetStream remembers event ids for deduplication. */
  duplicateWindowMs: number;
}

function desiredStreams(
  names: BusNames,
  settings: StreamSettings,
): Array<Partial<StreamConfig> & { name: string }> {
  const common = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(settings.duplicateWindowMs),
  };
  return [
    { name: names.eventsStream, subjects: [`${names.subjectPrefix}.events.>`], ...common },
    { name: names.deadLetterStream, subjects: [`${names.subjectPrefix}.dlq.>`], ...common },
  ];
}

/** How long a role that may not create the streams waits for the relay to create them. */
const WAIT_FOR_CREATOR_MS = 120_000;

async function ensureStream(
  jsm: JetStreamManager,
  want: Partial<StreamConfig> & { name: string },
  logger: Logger,
): Promise<void> {
  try {
    const info = await jsm.streams.info(want.name);
    const have = info.config;
    const same =
      JSON.stringify(have.subjects) === JSON.stringify(want.subjects) &&
      have.duplicate_window === want.duplicate_window;
    if (same) return;
    try {
      await jsm.streams.update(want.name, { ...have, ...want });
    } catch (e) {
      if (!isPermissionDenied(e)) throw e;
      // Only the relay may change the streams (deploy/nats.conf); it will, with its settings.
      logger.warn(
        { stream: want.name },
        'stream settings differ from ours, and this role may not change them',
      );
    }
  } catch (e) {
    if (!isStreamNotFound(e)) throw e;
    try {
      await jsm.streams.add(want);
    } catch (addError) {
      if (isPermissionDenied(addError)) return waitForStream(jsm, want.name, logger);
      // Another process may have created it in between; only a still-missing stream is an error.
      await jsm.streams.info(want.name).catch(() => {
        throw addError;
      });
    }
  }
}

/** For a role that may not create streams: waits until the one that may (the relay) has. */
async function waitForStream(jsm: JetStreamManager, name: string, logger: Logger): Promise<void> {
  logger.info({ stream: name }, 'waiting for the relay to create the stream (this role may not)');
  const deadline = Date.now() + WAIT_FOR_CREATOR_MS;
  for (;;) {
    try {
      await jsm.streams.info(name);
      return;
    } catch (e) {
      if (!isStreamNotFound(e) || Date.now() > deadline) throw e;
    }
    await sleep(500);
  }
}

/**
 * Creates or updates the events and dead-letter streams once, and again after `invalidate()` —
 * which callers use when a stream turns out to be gone (an operator wiped NATS).
 */
export function streamKeeper(
  jsm: JetStreamManager,
  names: BusNames,
  settings: StreamSettings,
  logger: Logger,
): { ensure(): Promise<void>; invalidate(): void } {
  let ready: Promise<void> | undefined;
  return {
    ensure() {
      ready ??= (async () => {
        for (const s of desiredStreams(names, settings)) await ensureStream(jsm, s, logger);
        logger.debug({ streams: [names.eventsStream, names.deadLetterStream] }, 'bus streams ready');
      })().catch((e) => {
        ready = undefined;
        throw e;
      });
      return ready;
    },
    invalidate() {
      ready = undefined;
    },
  };
}
