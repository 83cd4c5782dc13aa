import type { Kysely } from 'kysely';
import { eventPages, linkPages, readStreamHeads } from '../postgres/event-chain.ts';
import type { ChainHead } from './chain.ts';
import type { Checkpoint } from './signing.ts';
import { type StreamState, type VerifyReport, verifyChain } from './verify.ts';

/** A part of the log to verify on its own: the events after `from.position` and up to `through`. */
export interface VerifyRange {
  /** The stored link the range continues from (EMPTY_HEAD for the log's beginning). */
  from: ChainHead;
  through: bigint;
  /** The checkpoints in the range (after `from.position`, up to `through`). */
  checkpoints: Checkpoint[];
  /** The last checkpoint at or before `from.position`. */
  lastCheckpointBefore: bigint | undefined;
}

/**
 * Verifies one range of a Postgres event store's log, read straight from its tables. A stream the
 * range meets first continues from the stream's last link at or before the range's start: like
 * `from`, a stored value the range trusts, because the range that holds that link checks it.
 */
export function verifyRange(
  // biome-ignore lint/suspicious/noExplicitAny: shared connection, typed by event-chain.ts
  db: Kysely<any>,
  range: VerifyRange,
  publicKeyPem: string | undefined,
): Promise<VerifyReport> {
  const before = new Map<string, StreamState>();
  return verifyChain({
    events: eventsWithStreamsBefore(db, range, before),
    links: linkPages(db, range.from.position, range.through),
    checkpoints: range.checkpoints,
    publicKeyPem,
    through: range.through,
    from: range.from,
    streamBefore: (stream) => before.get(stream),
    lastCheckpointBefore: range.lastCheckpointBefore,
  });
}

/** The range's event pages; before one is handed on, `before` holds the state of each stream it meets first. */
async function* eventsWithStreamsBefore(
  // biome-ignore lint/suspicious/noExplicitAny: as above
  db: Kysely<any>,
  range: VerifyRange,
  before: Map<string, StreamState>,
) {
  const start = range.from.position;
  const met = new Set<string>();
  for await (const page of eventPages(db, range.through, start)) {
    if (start > 0n) {
      const fresh: string[] = [];
      for (const e of page)
        if (!met.has(e.stream)) {
          met.add(e.stream);
          fresh.push(e.stream);
        }
      for (const [stream, state] of await readStreamHeads(db, fresh, start)) before.set(stream, state);
    }
    yield page;
  }
}
