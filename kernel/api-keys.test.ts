import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApiKeyHasher, derivePepper, newApiKey, parseApiKey } from './api-keys.ts';

describe('API keys', () => {
  const hasher = createApiKeyHasher(derivePepper(randomBytes(32)));

  it('parses what it issues, and nothing else', () => {
    const k = newApiKey();
    const parsed = parseApiKey(k.key);
    expect(parsed?.keyId).toBe(k.keyId);
    expect(k.key.endsWith(k.last4)).toBe(true);
    for (const bad of [
      '',
      'sy_',
      `${k.key}x`,
      k.key.replace('sy_', 'sx_'),
      `Bearer ${k.key}`,
      'sy_abc_def',
    ]) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
  });

  it('verifies the key it hashed, not a key with another secret or under another pepper', () => {
    const k = parseApiKey(newApiKey().key)!;
    const stored = hasher.hash(k);
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(stored).not.toContain(k.secret);
    expect(hasher.verify(k, stored)).toBe(true);
    const other = k.secret.endsWith('A') ? 'B' : 'A';
    expect(hasher.verify({ ...k, secret: `${k.secret.slice(0, -1)}${other}` }, stored)).toBe(false);
    expect(createApiKeyHasher(derivePepper(randomBytes(32))).verify(k, stored)).toBe(false);
    expect(hasher.verify(k, 'abcd')).toBe(false);
  });

  it('derives the same pepper from the same secret key (several gateways agree)', () => {
    const key = randomBytes(32);
    expect(derivePepper(key).equals(derivePepper(Buffer.from(key)))).toBe(true);
  });
});
