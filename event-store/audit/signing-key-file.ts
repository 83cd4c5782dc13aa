import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateSigningKeyPem, parseSigningKey } from './signing.ts';

/**
 * The checkpoint signing key of an embedded installation: read from `path`, or generated there
 * (PKCS#8 PEM, mode 0600) on first start, as the secret and admin keys are. Two processes starting
 * at once agree on one key: it is written aside and linked into place, which fails if one exists.
 */
export async function loadOrCreateSigningKey(path: string): Promise<KeyObject> {
  try {
    return parseSigningKey(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const pem = generateSigningKeyPem();
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, pem, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, path);
    return parseSigningKey(pem);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return parseSigningKey(await readFile(path, 'utf8'));
    throw e;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
