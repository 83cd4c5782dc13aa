import { type ChainHead, type ChainLink, EMPTY_HEAD, type HashableEvent, nextLink } from './chain.ts';
import { type Checkpoint, checkpointSignatureValid } from './signing.ts';

/** Why a position is bad; `reason` says it in words. */
export type TamperCode =
  | 'altered' // the event is not what was sealed
  | 'removed' // a sealed event is missing
  | 'inserted' // an event below the sealed head that was never sealed
  | 'revision-gap' // a stream's revisions skip (an event of it was removed)
  | 'link-missing' // a link's number skips: an event and its link were both removed
  | 'link-altered' // the chain table's link does not follow from the events
  | 'checkpoint-mismatch' // the events do not lead to a signed checkpoint's hash
  | 'checkpoint-signature'; // a checkpoint's signature is not the key's

export interface FirstBad {
  /** The first position where the log and its chain disagree. */
  position: bigint;
  code: TamperCode;
  reason: string;
  /** For a checkpoint mismatch: the tampering lies after `after` and at or before `position`. */
  after?: bigint;
}

export interface VerifyReport {
  ok: boolean;
  /** Events whose hashes were recomputed. */
  checked: number;
  /** How far the chain (or the checkpoints given) cover the log; later events are not sealed yet. */
  sealedThrough: bigint;
  checkpoints: {
    /** Checkpoints compared with the chain recomputed from the events. */
    verified: number;
    /** Whether their signatures were checked (a public key was given). */
    signaturesChecked: boolean;
    /** The last checkpoint that verified: everything up to it is proven by a signature. */
    lastVerified: bigint | undefined;
  };
  firstBad?: FirstBad;
}

export interface VerifyInput {
  /** The log's events in position order, in pages, at least up to `through` (later ones are ignored). */
  events: AsyncIterable<readonly HashableEvent[]>;
  /**
   * The stored chain in position order, in pages. Without it (a third party with exported
   * checkpoints) the chain is recomputed from the events alone and only the checkpoints are trusted.
   */
  links?: AsyncIterable<readonly ChainLink[]>;
  /** Checkpoints to hold the recomputed chain to, in any order. */
  checkpoints: readonly Checkpoint[];
  /** Every checkpoint must be signed by this key (SPKI PEM); undefined: signatures not checked. */
  publicKeyPem?: string | undefined;
  /** Last position to verify: the sealed head, or the last exported checkpoint. */
  through: bigint;
  /**
   * A range of the log (parallel-verify.ts): the stored link the walk continues from, trusted here
   * because the range that ends at it checks it. Default: the chain's beginning.
   */
  from?: ChainHead;
  /** The stream's state before `from`, for a stream the range has not met yet (none: its first event). */
  streamBefore?: (stream: string) => StreamState | undefined;
  /** The last checkpoint at or before `from`: what a mismatch in the range lies after. */
  lastCheckpointBefore?: bigint;
}

/** Where a stream stands in the walk: its last revision and stream hash. */
export interface StreamState {
  revision: bigint;
  streamHash: string;
}

/**
 * Recomputes every event's hash and the chains from the events, in global order, and compares them
 * with the stored links and the checkpoints. Stops at the first disagreement and says where and why.
 * Memory: one entry per stream (its last revision and stream hash).
 */
export async function verifyChain(input: VerifyInput): Promise<VerifyReport> {
  let head: ChainHead = input.from ?? EMPTY_HEAD;
  const checkpoints = [...input.checkpoints]
    .filter((c) => c.position > head.position && c.position <= input.through)
    .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  const report: VerifyReport = {
    ok: true,
    checked: 0,
    sealedThrough: input.through,
    checkpoints: {
      verified: 0,
      signaturesChecked: input.publicKeyPem !== undefined,
      lastVerified: undefined,
    },
  };
  const fail = (bad: FirstBad): VerifyReport => ({ ...report, ok: false, firstBad: bad });
  const streams = new Map<string, StreamState>();
  let nextCheckpoint = 0;

  /** The checkpoints at or before `position` that the walk has reached. */
  const checkpointsUpTo = (position: bigint, atHead: boolean): FirstBad | undefined => {
    for (; nextCheckpoint < checkpoints.length; nextCheckpoint++) {
      const c = checkpoints[nextCheckpoint]!;
      if (c.position > position) return undefined;
      if (input.publicKeyPem !== undefined && !checkpointSignatureValid(c, input.publicKeyPem))
        return {
          position: c.position,
          code: 'checkpoint-signature',
          reason: `the checkpoint at ${c.position} is not signed by the audit key (key ${c.keyId})`,
        };
      const reached = atHead && c.position === head.position;
      if (!reached || c.seq !== head.seq || c.chainHash !== head.chainHash) {
        const after = report.checkpoints.lastVerified ?? input.lastCheckpointBefore ?? 0n;
        return {
          position: c.position,
          after,
          code: 'checkpoint-mismatch',
          reason: reached
            ? `the events up to ${c.position} do not lead to its signed checkpoint: an event after ${after} was altered, removed or inserted, and the chain rewritten to hide it`
            : `the signed checkpoint at ${c.position} names an event that is not in the log: events after ${after} were removed or moved`,
        };
      }
      report.checkpoints.verified++;
      report.checkpoints.lastVerified = c.position;
    }
    return undefined;
  };

  const events = new Cursor(input.events, input.through);
  const links = input.links && new Cursor(input.links, input.through);
  // Awaits only when a page runs out: a microtask per event was a tenth of the walk's time.
  let event = events.ready ? events.take() : await events.next();
  let link = links && (links.ready ? links.take() : await links.next());
  try {
    while (event || link) {
      const position = event && (!link || events.position < link.position) ? events.position : link!.position;
      // Checkpoints strictly before this position that the walk did not land on.
      const skipped = checkpointsUpTo(position - 1n, true);
      if (skipped) return fail(skipped);
      if (link && (!event || link.position < events.position))
        return fail({
          position: link.position,
          code: 'removed',
          reason: `the event sealed at ${link.position} (${link.stream} revision ${link.revision}) is not in the log`,
        });
      const e = event!;
      const own = streams.get(e.stream);
      const previous = own ?? input.streamBefore?.(e.stream);
      const revision = BigInt(e.revision);
      if (links && link?.position !== position)
        return fail({
          position,
          code: 'inserted',
          reason: `the event at ${position} (${e.stream} revision ${revision}) lies below the sealed head but was never sealed`,
        });
      const computed = nextLink(head, e, previous);
      if (link) {
        if (link.eventHash !== computed.eventHash || link.stream !== e.stream || link.revision !== revision)
          return fail({
            position,
            code: 'altered',
            reason: `the event at ${position} (${e.stream} revision ${revision}) is not the one that was sealed`,
          });
        if (link.seq !== computed.seq)
          return fail({
            position,
            code: 'link-missing',
            reason: `link ${computed.seq} is missing before ${position}: an event and its link were removed`,
          });
        if (link.streamHash !== computed.streamHash || link.chainHash !== computed.chainHash)
          return fail({
            position,
            code: 'link-altered',
            reason: `the chain's link at ${position} does not follow from the events before it: the chain was rewritten`,
          });
      }
      // After the link's checks: with a link, a changed revision is an altered event.
      const expected = previous ? previous.revision + 1n : 0n;
      if (revision !== expected)
        return fail({
          position,
          code: 'revision-gap',
          reason: `${e.stream} goes from revision ${expected - 1n} to ${revision} at ${position}: an event of it was removed`,
        });
      report.checked++;
      // Updated in place: a million events would otherwise leave a million dead states to collect.
      if (own) {
        own.revision = revision;
        own.streamHash = computed.streamHash;
      } else streams.set(e.stream, { revision, streamHash: computed.streamHash });
      head = { position, seq: computed.seq, chainHash: computed.chainHash };
      const atCheckpoint = checkpointsUpTo(position, true);
      if (atCheckpoint) return fail(atCheckpoint);
      event = events.ready ? events.take() : await events.next();
      if (links) link = links.ready ? links.take() : await links.next();
    }
    const beyond = checkpointsUpTo(input.through, false);
    if (beyond) return fail(beyond);
    return report;
  } finally {
    await events.close();
    await links?.close();
  }
}

/** Reads a paged source an item at a time, up to `through`; `position` is the last item's. */
class Cursor<T extends { position: bigint | string }> {
  private readonly pages: AsyncIterator<readonly T[]>;
  private page: readonly T[] = [];
  private index = 0;
  private ended = false;
  position = 0n;

  constructor(
    source: AsyncIterable<readonly T[]>,
    private readonly through: bigint,
  ) {
    this.pages = source[Symbol.asyncIterator]();
  }

  /** Whether `take` can answer without waiting for a page. */
  get ready(): boolean {
    return this.ended || this.index < this.page.length;
  }

  /** The next item, undefined past the end or past `through`; only when `ready`. */
  take(): T | undefined {
    const item = this.page[this.index++];
    if (item === undefined) return undefined;
    this.position = typeof item.position === 'bigint' ? item.position : BigInt(item.position);
    if (this.position <= this.through) return item;
    this.ended = true;
    this.page = [];
    return undefined;
  }

  /** The next item, after waiting for pages as needed. */
  async next(): Promise<T | undefined> {
    while (!this.ready) {
      const next = await this.pages.next();
      if (next.done) this.ended = true;
      else {
        this.page = next.value;
        this.index = 0;
      }
    }
    return this.take();
  }

  async close(): Promise<void> {
    await this.pages.return?.();
  }
}

/** JSON form of a report (positions as decimal strings), as the API answers it. */
export interface VerifyReportJson {
  ok: boolean;
  checked: number;
  sealedThrough: string;
  checkpoints: { verified: number; signaturesChecked: boolean; lastVerified: string | null };
  firstBad?: { position: string; code: TamperCode; reason: string; after?: string };
}

export function reportToJson(r: VerifyReport): VerifyReportJson {
  return {
    ok: r.ok,
    checked: r.checked,
    sealedThrough: r.sealedThrough.toString(),
    checkpoints: {
      verified: r.checkpoints.verified,
      signaturesChecked: r.checkpoints.signaturesChecked,
      lastVerified: r.checkpoints.lastVerified?.toString() ?? null,
    },
    ...(r.firstBad && {
      firstBad: {
        position: r.firstBad.position.toString(),
        code: r.firstBad.code,
        reason: r.firstBad.reason,
        ...(r.firstBad.after !== undefined && { after: r.firstBad.after.toString() }),
      },
    }),
  };
}
