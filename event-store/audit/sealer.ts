import type { Kysely } from 'kysely';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { Logger } from '../../kernel/logger.ts';
import {
  appendLinks,
  ChainMovedError,
  readChainHead,
  readCheckpoints,
  readStreamHeads,
} from '../postgres/event-chain.ts';
import { type Processor, type ProcessorStatus, startProcessor } from '../processor.ts';
import { type ChainHead, type ChainLink, EMPTY_HEAD, nextLink } from './chain.ts';
import type { Checkpoint, CheckpointSigner } from './signing.ts';

export interface SealerOptions {
  store: EventStore;
  /** The connection of the Postgres event store (the chain lives beside sy_es.events). */
  // biome-ignore lint/suspicious/noExplicitAny: shared connection, typed by event-chain.ts
  db: Kysely<any>;
  /** Without a signer the chain is still sealed, but no checkpoint is signed. */
  signer: CheckpointSigner | undefined;
  /** A checkpoint at least every this many links (default 1000)… */
  checkpointEvery?: number;
  /** …and at least this often while new links arrive (default 60 s). */
  checkpointIntervalMs?: number;
  now?: () => Date;
  logger: Logger;
  /** Backoff after a failure (the processor's; tests shorten it). */
  retry?: { firstMs?: number; maxMs?: number };
  /**
   * How long a batch that is not full waits for more events (default 500 ms). Sealing costs about
   * the same per batch whatever its size (a read of the streams' last links, one transaction), so
   * a sealer that ran for every call's two events took 5 ms off each call in embedded mode, where
   * it shares the one database thread with the calls (docs/benchmarks.md).
   */
  lingerMs?: number;
}

export interface Sealer {
  stop(): Promise<void>;
  status(): ProcessorStatus;
  /** Signs a checkpoint over the head now, if links came since the last one (tests, shutdown). */
  checkpointNow(): Promise<void>;
}

/**
 * Follows the log and seals it: one link per event, in global order, into sy_es.event_chain, and
 * signed checkpoints every `checkpointEvery` links or `checkpointIntervalMs`. Off the append path on
 * purpose (issue 10 measured every statement of an append): the sealed head trails the log by a
 * batch. Run one per deployment (leader lock); a second one is refused by the chain's head check
 * (event-chain.ts appendLinks) and starts again from the stored head.
 */
export function startSealer(options: SealerOptions): Sealer {
  const now = options.now ?? (() => new Date());
  const every = BigInt(options.checkpointEvery ?? 1000);
  const intervalMs = options.checkpointIntervalMs ?? 60_000;
  let head: ChainHead = EMPTY_HEAD;
  let signed = { seq: 0n, at: 0 };
  // The batch handler and the checkpoint timer both move the head: one at a time.
  let busy: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(f: () => Promise<T>): Promise<T> => {
    const run = busy.then(f);
    busy = run.catch(() => undefined);
    return run;
  };

  const due = (seq: bigint, since: bigint) =>
    options.signer !== undefined &&
    seq > since &&
    (seq - since >= every || now().getTime() - signed.at >= intervalMs);

  const checkpointAt = (at: ChainHead): Checkpoint | undefined =>
    options.signer?.sign({ position: at.position, seq: at.seq, chainHash: at.chainHash, signedAt: now() });

  /**
   * Writes the links with a checkpoint at every `every`-th one among them (a long catch-up is not one
   * unsigned stretch) and at the last one when the interval has passed.
   */
  async function write(links: readonly ChainLink[], to: ChainHead, force: boolean): Promise<void> {
    const checkpoints: Checkpoint[] = [];
    let since = signed.seq;
    for (const l of links)
      if (options.signer && l.seq - since >= every) {
        checkpoints.push(checkpointAt({ position: l.position, seq: l.seq, chainHash: l.chainHash })!);
        since = l.seq;
      }
    if ((force && options.signer && to.seq > since) || due(to.seq, since))
      checkpoints.push(checkpointAt(to)!);
    if (links.length === 0 && checkpoints.length === 0) return;
    await appendLinks(options.db, head, links, checkpoints);
    head = to;
    const last = checkpoints.at(-1);
    if (last) signed = { seq: last.seq, at: last.signedAt.getTime() };
  }

  const processor: Processor = startProcessor({
    name: 'audit-sealer',
    store: options.store,
    logger: options.logger,
    batchSize: 500,
    lingerMs: options.lingerMs ?? 500,
    ...(options.retry && { retry: options.retry }),
    checkpoint: {
      load: () =>
        exclusive(async () => {
          head = (await readChainHead(options.db)) ?? EMPTY_HEAD;
          const last = (await readCheckpoints(options.db)).at(-1);
          signed = last ? { seq: last.seq, at: last.signedAt.getTime() } : { seq: 0n, at: 0 };
          return head.position;
        }),
    },
    restartOn: (e) => e instanceof ChainMovedError,
    handleBatch: (events) =>
      exclusive(async () => {
        const fresh = events.filter((e) => e.position > head.position);
        if (fresh.length === 0) return;
        const streams = await readStreamHeads(options.db, [...new Set(fresh.map((e) => e.stream))]);
        const links: ChainLink[] = [];
        let to = head;
        for (const e of fresh) {
          const link = nextLink(to, e, streams.get(e.stream));
          streams.set(e.stream, { revision: link.revision, streamHash: link.streamHash });
          links.push(link);
          to = { position: link.position, seq: link.seq, chainHash: link.chainHash };
        }
        await write(links, to, false);
      }),
  });

  // Links that came in a quiet spell get their checkpoint without waiting for the next event.
  const timer = setInterval(
    () => {
      if (!due(head.seq, signed.seq)) return;
      exclusive(() => write([], head, false)).catch((e: unknown) =>
        options.logger.warn({ err: e }, 'audit: could not sign a checkpoint; retrying'),
      );
    },
    Math.max(100, Math.min(intervalMs, 10_000)),
  );
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await processor.stop();
      // What was sealed since the last checkpoint is signed before leaving, not at the next start.
      await exclusive(() => write([], head, true)).catch((e: unknown) =>
        options.logger.warn({ err: e }, 'audit: could not sign the last checkpoint'),
      );
    },
    status: () => processor.status(),
    checkpointNow: () => exclusive(() => write([], head, true)),
  };
}
