import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys: `sy_<keyId>_<secret>`. The key id is public (it names the key in events, logs and the
 * API); the secret is 32 random bytes shown once to whoever created the key. Switchyard keeps only
 * a keyed hash of the whole key — HMAC-SHA-256 under a server pepper — so neither a copy of the
 * event log nor of a read model lets anyone authenticate, and guessing needs the pepper too.
 */

const KEY_RE = /^sy_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;
const KEY_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface ParsedApiKey {
  keyId: string;
  secret: string;
}

/** The parts of a presented key, or undefined when it is not shaped like one of ours. */
export function parseApiKey(presented: string): ParsedApiKey | undefined {
  const m = KEY_RE.exec(presented);
  return m ? { keyId: m[1]!, secret: m[2]! } : undefined;
}

export function looksLikeApiKey(presented: string): boolean {
  return presented.startsWith('sy_');
}

/** A fresh key: its id, the full key to show once, and the last four characters as a hint. */
export function newApiKey(): { keyId: string; key: string; last4: string } {
  const idBytes = randomBytes(16);
  let keyId = '';
  for (const b of idBytes) keyId += KEY_ID_ALPHABET[b % KEY_ID_ALPHABET.length];
  const secret = randomBytes(32).toString('base64url');
  return { keyId, key: `sy_${keyId}_${secret}`, last4: secret.slice(-4) };
}

/** The last four characters of a key's secret: enough to tell keys apart, useless to an attacker. */
export function apiKeyHint(key: ParsedApiKey): string {
  return key.secret.slice(-4);
}

export interface ApiKeyHasher {
  /** hex HMAC-SHA-256 of the whole key under the pepper. */
  hash(key: ParsedApiKey): string;
  /** Constant-time comparison of a presented key with a stored hash. */
  verify(key: ParsedApiKey, storedHash: string): boolean;
}

/**
 * The pepper is derived from the server's secret key (HKDF, its own label), so every process that
 * shares the secret key verifies the same keys and no extra secret has to be distributed.
 */
export function derivePepper(secretKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'switchyard api-key pepper v1', 32));
}

export function createApiKeyHasher(pepper: Buffer): ApiKeyHasher {
  if (pepper.length < 32) throw new Error('the API key pepper must be at least 32 bytes');
  const p = Buffer.from(pepper);
  const hash = (key: ParsedApiKey) =>
    createHmac('sha256', p).update(`sy_${key.keyId}_${key.secret}`, 'utf8').digest('hex');
  return {
    hash,
    verify(key, storedHash) {
      const a = Buffer.from(hash(key), 'hex');
      const b = Buffer.from(storedHash, 'hex');
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
}
