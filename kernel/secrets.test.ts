import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSecretBox,
  loadOrCreateKey,
  parseSecretKey,
  REDACTED,
  redactSecrets,
  revealSecrets,
  storedSecretSchema,
} from './secrets.ts';

describe('secret box', () => {
  const key = randomBytes(32);
  const box = createSecretBox(key);

  it('round-trips a value and never shows it in the sealed form', () => {
    const sealed = box.encrypt('abc123');
    expect(JSON.stringify(sealed)).not.toContain('abc123');
    expect(sealed.$secret.startsWith(`v1:${box.keyId}:`)).toBe(true);
    expect(storedSecretSchema.safeParse(sealed).success).toBe(true);
    expect(box.decrypt(sealed)).toBe('abc123');
  });

  it('uses a fresh IV each time', () => {
    expect(box.encrypt('same').$secret).not.toBe(box.encrypt('same').$secret);
  });

  it('refuses a value sealed with another key, naming the key', () => {
    const other = createSecretBox(randomBytes(32));
    expect(() => other.decrypt(box.encrypt('abc123'))).toThrow(
      expect.objectContaining({ code: 'SECRETS.UNKNOWN_KEY' }),
    );
  });

  it('refuses a wrong key that claims the same key id', () => {
    const impostor = createSecretBox(randomBytes(32), box.keyId);
    expect(() => impostor.decrypt(box.encrypt('abc123'))).toThrow(
      expect.objectContaining({ code: 'SECRETS.DECRYPT_FAILED' }),
    );
  });

  it('refuses a tampered ciphertext', () => {
    const sealed = box.encrypt('abc123');
    const parts = sealed.$secret.split(':');
    const ct = Buffer.from(parts[3]!, 'base64');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64');
    expect(() => box.decrypt({ $secret: parts.join(':') })).toThrow(
      expect.objectContaining({ code: 'SECRETS.DECRYPT_FAILED' }),
    );
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});

describe('redactSecrets / revealSecrets', () => {
  const box = createSecretBox(randomBytes(32));

  it('keeps keys, hides values, shows references', () => {
    const stored = { TOKEN: box.encrypt('abc123'), HOME: { secretRef: 'env:HOME_DIR' } };
    expect(redactSecrets(stored)).toEqual({ TOKEN: REDACTED, HOME: { secretRef: 'env:HOME_DIR' } });
    expect(redactSecrets(stored, { hideRefs: true })).toEqual({ TOKEN: REDACTED, HOME: REDACTED });
  });

  it('reveals sealed values and resolves references', () => {
    const stored = { TOKEN: box.encrypt('abc123'), HOME: { secretRef: 'env:HOME_DIR' } };
    expect(revealSecrets(stored, box, (r) => (r === 'env:HOME_DIR' ? '/home/x' : undefined))).toEqual({
      TOKEN: 'abc123',
      HOME: '/home/x',
    });
    expect(() => revealSecrets(stored, box, () => undefined)).toThrow(
      expect.objectContaining({ code: 'SECRETS.UNRESOLVED_REF' }),
    );
  });
});

describe('keys', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('parses a base64 key of 32 bytes and refuses anything else', () => {
    const key = randomBytes(32);
    expect(parseSecretKey(key.toString('base64')).equals(key)).toBe(true);
    expect(() => parseSecretKey(randomBytes(31).toString('base64'))).toThrow(/32 bytes/);
    expect(() => parseSecretKey('not base64!')).toThrow(/base64/);
  });

  it('creates a key file with mode 0600 once, then reads the same key back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sy-key-'));
    dirs.push(dir);
    const path = join(dir, 'nested', 'secret.key');
    const first = await loadOrCreateKey(path);
    expect(first.length).toBe(32);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const second = await loadOrCreateKey(path);
    expect(second.equals(first)).toBe(true);
  });

  it('two concurrent first starts agree on one key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sy-key-'));
    dirs.push(dir);
    const path = join(dir, 'secret.key');
    const [a, b] = await Promise.all([loadOrCreateKey(path), loadOrCreateKey(path)]);
    expect(a.equals(b)).toBe(true);
    expect(parseSecretKey(await readFile(path, 'utf8')).equals(a)).toBe(true);
  });

  it('refuses to overwrite a malformed key file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sy-key-'));
    dirs.push(dir);
    const path = join(dir, 'secret.key');
    await writeFile(path, 'garbage');
    await expect(loadOrCreateKey(path)).rejects.toThrow(/base64/);
    expect(await readFile(path, 'utf8')).toBe('garbage');
  });
});
