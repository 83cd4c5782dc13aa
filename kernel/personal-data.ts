import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';
import type { RecordedEvent } from './envelope.ts';
import type { SecretBox } from './secrets.ts';

/**
 * Crypto-shredding. What belongs to a principal (a tool call's arguments) is sealed with a data key
 * of that principal's before it reaches an event; the key lives outside the log, wrapped by the
 * master key (SWITCHYARD_SECRET_KEY). Erasing a principal destroys its key: the events keep their
 * ciphertext — the log is never rewritten and its hash chain still verifies — and nothing can read
 * them back any more. A sealed value names its key, not its principal:
 * `{ $sealed: 'pd1.<keyId>.<base64url(iv | ciphertext | tag)>' }`, AES-256-GCM, the prefix and key
 * id authenticated (a value cannot be relabelled to another key).
 */

/** What a sealed value reads as once its principal's key is destroyed. */
export const ERASED = '[erased]' as const;

export interface SealedValue {
  $sealed: string;
}

/** A sealed value's text: `pd1.<keyId>.<iv | ciphertext | tag>` (base64url). */
export const SEALED_BLOB_RE = /^pd1\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)$/;

export function isSealedValue(v: unknown): v is SealedValue {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    typeof (v as { $sealed?: unknown }).$sealed === 'string'
  );
}

/** A principal's data key as stored: wrapped by the master key, never in clear. */
export interface StoredDataKey {
  keyId: string;
  principalId: string;
  /** The data key sealed by the master key (kernel/secrets.ts), as `v1:<masterKeyId>:…`. */
  wrapped: string;
}

/**
 * Where the principals' wrapped data keys are kept: a table of its own, outside the event log and
 * the read models, the one place in the system where a delete is the point.
 */
export interface DataKeyStore {
  /** The principal's key, if it has one. */
  keyOf(principalId: string): Promise<StoredDataKey | undefined>;
  /** Keys by id; ids with no key (destroyed, or never made) are absent from the answer. */
  keys(keyIds: readonly string[]): Promise<StoredDataKey[]>;
  /**
   * Stores `key` unless the principal already has one, and answers the principal's key — the one
   * given, or the one another process stored first — so that a principal has one key at a time.
   */
  create(key: StoredDataKey): Promise<StoredDataKey>;
  /** Deletes (not flags) every key of the principal; answers how many there were. */
  destroy(principalId: string): Promise<number>;
}

/**
 * The port every part of the system seals and opens personal data through. Sealing happens where
 * the data enters (callTool, after redaction); opening in one place, the projection runner, before
 * `apply` — so read models hold clear text for live principals and ERASED after an erasure and a
 * rebuild. Everything else that shows events (the events API, audit replay) shows the ciphertext.
 */
export interface PersonalDataVault {
  /** Seals one JSON value with the principal's key (made on first use). */
  seal(principalId: string, value: unknown): Promise<SealedValue>;
  /** Seals each value of a record, keeping its keys (argument names are the tool's, not the caller's). */
  sealFields(
    principalId: string,
    values: Readonly<Record<string, unknown>>,
  ): Promise<Record<string, SealedValue>>;
  /** Replaces every sealed value anywhere inside `value` by its clear text, or ERASED when its key is gone. */
  open<T>(value: T): Promise<T>;
  /** `open` over each event's data; events with nothing sealed are returned as they are. */
  openEvents(events: readonly RecordedEvent[]): Promise<RecordedEvent[]>;
  /**
   * Destroys the principal's keys; answers how many were destroyed (0: nothing left to erase). This
   * process forgets them at once; other processes within `cacheMs` (see createPersonalDataVault).
   */
  erase(principalId: string): Promise<number>;
  /**
   * Forgets what this process holds in memory of the principal's keys (another process erased it):
   * from now on they are looked up again, and found gone.
   */
  forget(principalId: string): void;
}

export interface PersonalDataVaultOptions {
  keys: DataKeyStore;
  /** The master key's box: wraps and unwraps data keys. */
  master: SecretBox;
  clock?: Clock;
  /**
   * How long a data key (or the fact that a key id has none) is kept in memory (default 30 s). It is
   * the bound on how long another process can still open or seal with a key after it was erased;
   * the erasing process forgets it at once.
   */
  cacheMs?: number;
}

interface Cached {
  key: Buffer | undefined;
  principalId: string | undefined;
  until: number;
}

export const DEFAULT_KEY_CACHE_MS = 30_000;

export function createPersonalDataVault(options: PersonalDataVaultOptions): PersonalDataVault {
  const { keys, master } = options;
  const clock = options.clock ?? systemClock;
  const cacheMs = options.cacheMs ?? DEFAULT_KEY_CACHE_MS;
  const byKeyId = new Map<string, Cached>();
  const keyIdOf = new Map<string, { keyId: string; until: number }>();

  const fresh = (until: number) => until > clock.now().getTime();
  const remember = (k: StoredDataKey | undefined, keyId: string): Buffer | undefined => {
    const until = clock.now().getTime() + cacheMs;
    const key = k ? unwrap(master, k) : undefined;
    byKeyId.set(keyId, { key, principalId: k?.principalId, until });
    if (k) keyIdOf.set(k.principalId, { keyId, until });
    return key;
  };

  async function keyFor(principalId: string): Promise<{ keyId: string; key: Buffer }> {
    const known = keyIdOf.get(principalId);
    if (known && fresh(known.until)) {
      const c = byKeyId.get(known.keyId);
      if (c?.key && fresh(c.until)) return { keyId: known.keyId, key: c.key };
    }
    let stored = await keys.keyOf(principalId);
    if (!stored) {
      const dataKey = randomBytes(32);
      const keyId = randomBytes(12).toString('base64url');
      stored = await keys.create({
        keyId,
        principalId,
        wrapped: master.encrypt(dataKey.toString('base64')).$secret,
      });
    }
    const key = remember(stored, stored.keyId)!;
    return { keyId: stored.keyId, key };
  }

  /** Loads the keys of `keyIds` not fresh in memory, in one read. */
  async function load(keyIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(keyIds)].filter((id) => {
      const c = byKeyId.get(id);
      return !c || !fresh(c.until);
    });
    if (missing.length === 0) return;
    const found = new Map((await keys.keys(missing)).map((k) => [k.keyId, k]));
    for (const id of missing) remember(found.get(id), id);
  }

  function forget(principalId: string): void {
    keyIdOf.delete(principalId);
    for (const [id, c] of byKeyId) if (c.principalId === principalId) byKeyId.delete(id);
  }

  async function open<T>(value: T): Promise<T> {
    const ids = new Set<string>();
    collectKeyIds(value, ids);
    if (ids.size === 0) return value;
    await load(ids);
    return replaceSealed(value, (blob) => openBlob(blob, (id) => byKeyId.get(id)?.key)) as T;
  }

  return {
    async seal(principalId, value) {
      const { keyId, key } = await keyFor(principalId);
      return sealWith(keyId, key, value);
    },
    async sealFields(principalId, values) {
      const { keyId, key } = await keyFor(principalId);
      return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, sealWith(keyId, key, v)]));
    },
    open,
    async openEvents(events) {
      const ids = new Set<string>();
      for (const e of events) collectKeyIds(e.data, ids);
      if (ids.size === 0) return [...events];
      await load(ids);
      const keyOf = (id: string) => byKeyId.get(id)?.key;
      return events.map((e) => {
        const data = replaceSealed(e.data, (blob) => openBlob(blob, keyOf));
        return data === e.data ? e : { ...e, data };
      });
    },
    async erase(principalId) {
      // Forgotten here first: nothing in this process opens or seals with the key from now on.
      forget(principalId);
      return keys.destroy(principalId);
    },
    forget,
  };
}

function aad(keyId: string): Buffer {
  return Buffer.from(`pd1.${keyId}`, 'utf8');
}

function sealWith(keyId: string, key: Buffer, value: unknown): SealedValue {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(keyId));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value ?? null), 'utf8'), cipher.final()]);
  return { $sealed: `pd1.${keyId}.${Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64url')}` };
}

/**
 * The clear value of a sealed blob; ERASED when its key is gone. A blob that does not open with the
 * key it names (tampered, or malformed) reads as ERASED too — never as garbage, never as an error
 * that would stop a projection on data nobody can fix.
 */
function openBlob(blob: string, keyOf: (keyId: string) => Buffer | undefined): unknown {
  const m = SEALED_BLOB_RE.exec(blob);
  if (!m) return ERASED;
  const [, keyId, body] = m as unknown as [string, string, string];
  const key = keyOf(keyId);
  if (!key) return ERASED;
  const raw = Buffer.from(body, 'base64url');
  if (raw.length < 12 + 16) return ERASED;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAAD(aad(keyId));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const clear = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
    return JSON.parse(clear.toString('utf8'));
  } catch {
    return ERASED;
  }
}

function unwrap(master: SecretBox, k: StoredDataKey): Buffer {
  const key = Buffer.from(master.decrypt({ $secret: k.wrapped }), 'base64');
  if (key.length !== 32) throw new Error(`data key ${k.keyId} is not 32 bytes`);
  return key;
}

function collectKeyIds(value: unknown, into: Set<string>): void {
  if (typeof value !== 'object' || value === null) return;
  if (isSealedValue(value)) {
    const m = SEALED_BLOB_RE.exec(value.$sealed);
    if (m) into.add(m[1]!);
    return;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) collectKeyIds(v, into);
}

/** `value` with every sealed value replaced; the same reference where nothing inside was sealed. */
function replaceSealed(value: unknown, openOne: (blob: string) => unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (isSealedValue(value)) return openOne(value.$sealed);
  let changed = false;
  if (Array.isArray(value)) {
    const out = value.map((v) => {
      const r = replaceSealed(v, openOne);
      if (r !== v) changed = true;
      return r;
    });
    return changed ? out : value;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const r = replaceSealed(v, openOne);
    if (r !== v) changed = true;
    out[k] = r;
  }
  return changed ? out : value;
}
