import { createHash, randomUUID } from 'node:crypto';

/** Source of fresh ids; injected so tests can make them predictable. */
export interface IdGenerator {
  uuid(): string;
}

export const randomIds: IdGenerator = { uuid: () => randomUUID() };

/** Ids 1, 2, 3 … rendered as uuids; for tests. */
export function sequentialIds(prefix = '00000000-0000-4000-8000-'): IdGenerator {
  let n = 0;
  return { uuid: () => `${prefix}${(++n).toString(16).padStart(12, '0')}` };
}

// Namespace for event ids derived from command ids (a fixed, random uuid).
const EVENT_NAMESPACE = 'a3c1e7f2-5b0d-4c8e-9f61-2d7b4e9a0c13';

/** RFC 4122 version-5 uuid (SHA-1, name-based): the same inputs always give the same id. */
export function uuidV5(name: string, namespace: string = EVENT_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The id of the `index`-th event produced by a command. Deterministic, so a retried command
 * produces the same ids and the store's idempotent append turns the retry into a no-op.
 */
export function eventIdFor(commandId: string, index: number): string {
  return uuidV5(`${commandId}/${index}`);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}
