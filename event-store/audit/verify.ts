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
  /** The log's events in position order, at least up to `through` (later ones are ignored). */
  events: AsyncIterable<HashableEvent>;
  /**
   * The stored chain in position order. Without it (a third party with exported checkpoints) the
   * chain is recomputed from the events alone and only the checkpoints are trusted.
   */
  links?: AsyncIterable<ChainLink>;
  /** Checkpoints to hold the recomputed chain to, in any order. */
  checkpoints: readonly Checkpoint[];
  /** Every checkpoint must be signed by this key (SPKI PEM); undefined: signatures not checked. */
  publicKeyPem?: string | undefined;
  /** Last position to verify: the sealed head, or the last exported checkpoint. */
  through: bigint;
}

/**
 * Recomputes every event's hash and the chains from the events, in global order, and compares them
 * with the stored links and the checkpoints. Stops at the first disagreement and says where and why.
 * Memory: one entry per stream (its last revision and stream hash).
 */
export async function verifyChain(input: VerifyInput): Promise<VerifyReport> {
  const checkpoints = [...input.checkpoints]
    .filter((c) => c.position <= input.through)
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
  const streams = new Map<string, { revision: bigint; streamHash: string }>();
  let head: ChainHead = EMPTY_HEAD;
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
        const after = report.checkpoints.lastVerified ?? 0n;
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

  const events = input.events[Symbol.asyncIterator]();
  const links = input.links?.[Symbol.asyncIterator]();
  let event = await pull(events, input.through);
  let link = links && (await pull(links, input.through));
  try {
    while (event || link) {
      const position = minPosition(event, link);
      // Checkpoints strictly before this position that the walk did not land on.
      const skipped = checkpointsUpTo(position - 1n, true);
      if (skipped) return fail(skipped);
      if (link && (!event || link.position < BigInt(event.position)))
        return fail({
          position: link.position,
          code: 'removed',
          reason: `the event sealed at ${link.position} (${link.stream} revision ${link.revision}) is not in the log`,
        });
      const e = event!;
      const previous = streams.get(e.stream);
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
      streams.set(e.stream, { revision, streamHash: computed.streamHash });
      head = { position, seq: computed.seq, chainHash: computed.chainHash };
      const atCheckpoint = checkpointsUpTo(position, true);
      if (atCheckpoint) return fail(atCheckpoint);
      event = await pull(events, input.through);
      if (links) link = await pull(links, input.through);
    }
    const beyond = checkpointsUpTo(input.through, false);
    if (beyond) return fail(beyond);
    return report;
  } finally {
    await events.return?.();
    await links?.return?.();
  }
}

async function pull<T extends { position: bigint | string }>(
  it: AsyncIterator<T>,
  through: bigint,
): Promise<T | undefined> {
  const next = await it.next();
  if (next.done || BigInt(next.value.position) > through) return undefined;
  return next.value;
}

function minPosition(event: HashableEvent | undefined, link: ChainLink | undefined): bigint {
  if (!event) return link!.position;
  const e = BigInt(event.position);
  return link && link.position < e ? link.position : e;
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
