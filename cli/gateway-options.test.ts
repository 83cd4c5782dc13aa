import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from './errors.ts';
import { gatewayOf, readAdminKey } from './gateway-options.ts';
import { authorizedFetch } from './http-client.ts';

const KEY = `sy_abcdefgh12345678_${'s'.repeat(43)}`;

describe('the credential a command presents', () => {
  let dir: string;
  const url = 'http://127.0.0.1:4000';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-cli-key-'));
    await writeFile(join(dir, 'admin.key'), `${KEY}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is --token when given, else the key the first start wrote to <data dir>/admin.key', async () => {
    expect(await gatewayOf({ url, token: 'sy_other', dataDir: dir })).toEqual({ url, token: 'sy_other' });
    expect(await gatewayOf({ url, dataDir: dir })).toEqual({ url, token: KEY });
    expect(await readAdminKey(dir)).toBe(KEY);
  });

  it('is none when there is no key file (or the data dir is in memory)', async () => {
    expect(await gatewayOf({ url, dataDir: join(dir, 'nowhere') })).toEqual({ url, token: undefined });
    expect(await readAdminKey('memory://')).toBeUndefined();
  });

  it('says which file it could not read', async () => {
    // A directory where the key should be: unreadable as a file, even for root.
    const odd = await mkdtemp(join(tmpdir(), 'switchyard-cli-key-'));
    await mkdir(join(odd, 'admin.key'));
    try {
      const e = await readAdminKey(odd).catch((error: unknown) => error);
      expect(e).toBeInstanceOf(CliError);
      expect((e as Error).message).toBe(
        `cannot read ${join(odd, 'admin.key')} (EISDIR); pass --token instead`,
      );
    } finally {
      await rm(odd, { recursive: true, force: true });
    }
  });

  it('goes out as a bearer token on every request, beside the request’s own headers', async () => {
    const seen: Headers[] = [];
    const recording: typeof fetch = async (_input, init) => {
      seen.push(new Headers(init?.headers));
      return new Response('{}');
    };
    await authorizedFetch({ url, token: KEY }, recording)('http://x/api', { headers: { accept: 'a/b' } });
    await authorizedFetch({ url, token: undefined }, recording)('http://x/api');
    expect(seen[0]?.get('authorization')).toBe(`Bearer ${KEY}`);
    expect(seen[0]?.get('accept')).toBe('a/b');
    expect(seen[1]?.has('authorization')).toBe(false);
  });
});
