import { hash } from 'node:crypto';
import { canonicalJson } from './canonical.ts';

/*
 * The hash chain over the log (docs/audit.md). Three hashes per event, SHA-256 in lower-case hex:
 * - event_hash: over the event's canonical JSON — id, type, stream, revision, position, data,
 *   metadata, recordedAt, as every reader of the log sees them (bigints as strings, ISO time);
 * - stream_hash: over the stream's previous stream_hash and this event_hash (per-stream chain);
 * - chain_hash: over the previous chain_hash in global order and this stream_hash (global chain),
 *   so a signature over one chain_hash covers every event up to it and every stream's history.
 * Each input starts with a label, so a hash of one kind can never stand for another.
 */

/** The hash before the first link of a chain (and before a stream's first event). */
export const GENESIS = '0'.repeat(64);

/** The fields of an event the hash covers, as the store returns them or as the API writes them. */
export interface HashableEvent {
  id: string;
  type: string;
  stream: string;
  revision: bigint | string;
  position: bigint | string;
  data: unknown;
  metadata: unknown;
  recordedAt: Date | string;
}

export function sha256Hex(text: string): string {
  // The one-shot hash: about three times createHash's rate on inputs this small.
  return hash('sha256', text, 'hex');
}

export function eventHash(e: HashableEvent): string {
  return sha256Hex(`sy-event/1\n${eventJson(e)}`);
}

/**
 * The event's canonical JSON: canonicalJson of { id, type, stream, revision, position, data,
 * metadata, recordedAt }, its members written here in canonical (code-unit) order rather than
 * sorted for every event of the log. Members that are undefined are left out, as canonicalJson does.
 */
export function eventJson(e: HashableEvent): string {
  const recordedAt = typeof e.recordedAt === 'string' ? e.recordedAt : e.recordedAt.toISOString();
  let out = '{';
  if (e.data !== undefined) out += `"data":${canonicalJson(e.data)},`;
  out += `"id":${JSON.stringify(e.id)},`;
  if (e.metadata !== undefined) out += `"metadata":${canonicalJson(e.metadata)},`;
  return `${out}"position":${JSON.stringify(String(e.position))},"recordedAt":${JSON.stringify(recordedAt)},"revision":${JSON.stringify(String(e.revision))},"stream":${JSON.stringify(e.stream)},"type":${JSON.stringify(e.type)}}`;
}

export function streamHash(previousStreamHash: string, event: string): string {
  return sha256Hex(`sy-stream/1\n${previousStreamHash}\n${event}`);
}

export function chainHash(previousChainHash: string, stream: string): string {
  return sha256Hex(`sy-chain/1\n${previousChainHash}\n${stream}`);
}

/** One event's link in sy_es.event_chain. `seq` counts links from 1, without gaps. */
export interface ChainLink {
  position: bigint;
  seq: bigint;
  stream: string;
  revision: bigint;
  eventHash: string;
  streamHash: string;
  chainHash: string;
}

/** Where a chain stands: its last link (seq 0 and GENESIS before the first). */
export interface ChainHead {
  position: bigint;
  seq: bigint;
  chainHash: string;
}

export const EMPTY_HEAD: ChainHead = { position: 0n, seq: 0n, chainHash: GENESIS };

/**
 * The link that follows `head` for `event`, given the stream's previous link (undefined for a
 * stream's first sealed event).
 */
export function nextLink(
  head: ChainHead,
  event: HashableEvent,
  previousInStream: { streamHash: string } | undefined,
): ChainLink {
  const eh = eventHash(event);
  const sh = streamHash(previousInStream?.streamHash ?? GENESIS, eh);
  return {
    position: BigInt(event.position),
    seq: head.seq + 1n,
    stream: event.stream,
    revision: BigInt(event.revision),
    eventHash: eh,
    streamHash: sh,
    chainHash: chainHash(head.chainHash, sh),
  };
}
