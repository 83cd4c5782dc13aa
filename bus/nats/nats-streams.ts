import nats, { type JetStreamManager, type StreamConfig } from 'nats';
import type { Logger } from '../../kernel/logger.ts';
import type { BusNames } from '../bus.port.ts';
import { isStreamNotFound } from './nats-errors.ts';

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

async function ensureStream(
  jsm: JetStreamManager,
  want: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    const info = await jsm.streams.info(want.name);
    const have = info.config;
    const same =
      JSON.stringify(have.subjects) === JSON.stringify(want.subjects) &&
      have.duplicate_window === want.duplicate_window;
    if (!same) await jsm.streams.update(want.name, { ...have, ...want });
  } catch (e) {
    if (!isStreamNotFound(e)) throw e;
    try {
      await jsm.streams.add(want);
    } catch (addError) {
      // Another process may have created it in between; only a still-missing stream is an error.
      await jsm.streams.info(want.name).catch(() => {
        throw addError;
      });
    }
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
        for (const s of desiredStreams(names, settings)) await ensureStream(jsm, s);
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
