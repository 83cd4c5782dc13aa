import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.ts';

/**
 * Secrets (tokens in a server's env or headers) never reach an event, a read model or a log in
 * clear text. In events a secret is either sealed — `{ $secret: 'v1:<keyId>:<iv>:<ciphertext+tag>' }`,
 * AES-256-GCM — or held by reference — `{ secretRef: 'env:NAME' }` — resolved only where it is used.
 */

export const REDACTED = '[redacted]' as const;

const SEALED_RE = /^v1:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$/;
// `env:NAME`, `file:/run/secrets/x`, `vault:kv/data/x#token`: a scheme and an opaque rest.
const REF_RE = /^[a-z][a-z0-9+.-]{0,31}:[^\s]{1,1024}$/;

export const sealedSecretSchema = z
  .object({ $secret: z.string().regex(SEALED_RE, 'must be a v1 sealed secret') })
  .strict();
export const secretRefSchema = z
  .object({
    secretRef: z
      .string()
      .regex(REF_RE, 'must look like "<scheme>:<name>", e.g. "env:GITHUB_TOKEN", with no spaces'),
  })
  .strict();
/** A secret as it may be stored: sealed, or a reference resolved at use. */
export const storedSecretSchema = z.union([sealedSecretSchema, secretRefSchema]);

export type SealedSecret = z.infer<typeof sealedSecretSchema>;
export type SecretRef = z.infer<typeof secretRefSchema>;
export type StoredSecret = z.infer<typeof storedSecretSchema>;

export interface SecretBox {
  /** Identifies the key inside sealed values, so a wrong or rotated key is named, not guessed at. */
  readonly keyId: string;
  /** Seals a clear-text value; every call uses a fresh IV, so equal inputs give different outputs. */
  encrypt(plain: string): SealedSecret;
  /** Opens a sealed value; throws AppError SECRETS.UNKNOWN_KEY or SECRETS.DECRYPT_FAILED. */
  decrypt(sealed: SealedSecret): string;
}

/**
 * An AES-256-GCM secret box. `keyId` defaults to a fingerprint of the key (not reversible), so two
 * processes configured with the same key agree on it without being told.
 */
export function createSecretBox(key: Buffer, keyId: string = keyFingerprint(key)): SecretBox {
  if (key.length !== 32) throw new Error(`secret key must be 32 bytes, got ${key.length}`);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(keyId)) throw new Error(`invalid secret key id: ${keyId}`);
  const k = Buffer.from(key);
  return {
    keyId,
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', k, iv);
      // The key id is authenticated data: a value cannot be relabelled to another key.
      cipher.setAAD(Buffer.from(keyId, 'utf8'));
      const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return { $secret: `v1:${keyId}:${iv.toString('base64')}:${ct.toString('base64')}` };
    },
    decrypt(sealed) {
      const parts = sealed.$secret.split(':');
      if (parts.length !== 4 || parts[0] !== 'v1') {
        throw new AppError('internal', 'SECRETS.MALFORMED', 'sealed secret is malformed');
      }
      const [, id, ivB64, ctB64] = parts as [string, string, string, string];
      if (id !== keyId) {
        throw new AppError(
          'internal',
          'SECRETS.UNKNOWN_KEY',
          `secret was sealed with key ${id}, this process holds key ${keyId}`,
          { keyId: id },
        );
      }
      const iv = Buffer.from(ivB64, 'base64');
      const ct = Buffer.from(ctB64, 'base64');
      if (iv.length !== 12 || ct.length < 16) {
        throw new AppError('internal', 'SECRETS.MALFORMED', 'sealed secret is malformed');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', k, iv);
        decipher.setAAD(Buffer.from(keyId, 'utf8'));
        decipher.setAuthTag(ct.subarray(ct.length - 16));
        return Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        throw new AppError(
          'internal',
          'SECRETS.DECRYPT_FAILED',
          `secret could not be decrypted with key ${keyId} (wrong key or tampered value)`,
          { keyId },
        );
      }
    },
  };
}

/** Short, non-reversible fingerprint of a key: the default key id. */
export function keyFingerprint(key: Buffer): string {
  return createHash('sha256').update('switchyard-secret-key-id').update(key).digest('hex').slice(0, 12);
}

export function isSealedSecret(v: unknown): v is SealedSecret {
  return typeof v === 'object' && v !== null && typeof (v as { $secret?: unknown }).$secret === 'string';
}

export function isSecretRef(v: unknown): v is SecretRef {
  return typeof v === 'object' && v !== null && typeof (v as { secretRef?: unknown }).secretRef === 'string';
}

/**
 * Keeps the keys of a map of secrets and hides every value: what read models and logs show of a
 * server's env or headers. References (`{ secretRef }`) stay visible — they name where a secret lives,
 * not the secret — unless `hideRefs` is set.
 */
export function redactSecrets(
  values: Readonly<Record<string, unknown>>,
  options: { hideRefs?: boolean } = {},
): Record<string, typeof REDACTED | SecretRef> {
  const out: Record<string, typeof REDACTED | SecretRef> = {};
  for (const [k, v] of Object.entries(values)) {
    out[k] = !options.hideRefs && isSecretRef(v) ? { secretRef: v.secretRef } : REDACTED;
  }
  return out;
}

/**
 * Opens a map of stored secrets for the one place that needs clear text (starting a process,
 * calling an upstream). `resolveRef` answers references; an unresolvable one is an error, not ''.
 */
export function revealSecrets(
  values: Readonly<Record<string, StoredSecret>>,
  box: SecretBox,
  resolveRef: (ref: string) => string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    if (isSecretRef(v)) {
      const resolved = resolveRef(v.secretRef);
      if (resolved === undefined) {
        throw new AppError(
          'validation',
          'SECRETS.UNRESOLVED_REF',
          `secret reference ${v.secretRef} for ${k} is not set`,
          {
            key: k,
            ref: v.secretRef,
          },
        );
      }
      out[k] = resolved;
    } else {
      out[k] = box.decrypt(v);
    }
  }
  return out;
}

/** Parses a base64 key (as given in SWITCHYARD_SECRET_KEY); it must decode to exactly 32 bytes. */
export function parseSecretKey(base64: string): Buffer {
  const trimmed = base64.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
    throw new AppError(
      'validation',
      'SECRETS.BAD_KEY',
      'secret key must be base64 (e.g. `openssl rand -base64 32`)',
    );
  }
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new AppError(
      'validation',
      'SECRETS.BAD_KEY',
      `secret key must decode to 32 bytes, got ${key.length} (e.g. \`openssl rand -base64 32\`)`,
    );
  }
  return key;
}

/**
 * The embedded mode's key: read from `path`, or created there (32 random bytes, base64, mode
 * 0600) on first start. Losing this file makes every sealed secret unreadable, so an existing but
 * malformed file is an error rather than silently replaced.
 */
export async function loadOrCreateKey(path: string): Promise<Buffer> {
  try {
    return parseSecretKey(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // Write aside, then link into place: link fails if the file exists, so two processes starting at
  // once agree on one key, and neither can read a half-written file.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, path);
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return parseSecretKey(await readFile(path, 'utf8'));
    throw e;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
