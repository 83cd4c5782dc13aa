import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, freePort, type Program, runCli, startProgram, waitForHttp } from './program.ts';

const BIN = fileURLToPath(new URL('../../bin/switchyard.mjs', import.meta.url));

/**
 * Identity and access from the command line, as an operator meets it: the first `switchyard start`
 * writes the administrator key to the data directory, the CLI picks it up, makes a narrower key for
 * CI, uses it, and revokes it.
 */
describe('switchyard whoami, keys and grants against the real program', () => {
  let dataDir: string;
  let emptyDir: string;
  let base: string;
  let env: Record<string, string>;
  let program: Program | undefined;

  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...env, ...extra });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sy-cli-access-'));
    emptyDir = await mkdtemp(join(tmpdir(), 'sy-cli-nokey-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = cleanEnv({
      SWITCHYARD_DATA_DIR: dataDir,
      SWITCHYARD_PORT: String(port),
      SWITCHYARD_URL: base,
      SWITCHYARD_LOG_LEVEL: 'warn',
    });
    // This test is about the key the first start writes and the CLI finds on its own: no configured
    // administrator key for the program, no token for the CLI.
    delete env.SWITCHYARD_ADMIN_KEY;
    delete env.SWITCHYARD_TOKEN;
    program = startProgram(['start'], env);
    await waitForHttp(`${base}/ready`, program, 110_000);
  }, 120_000);

  afterAll(async () => {
    await program?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(emptyDir, { recursive: true, force: true });
  });

  it('makes, uses and revokes a CI key with the first start’s admin key', { timeout: 120_000 }, async () => {
    expect((await stat(join(dataDir, 'admin.key'))).mode & 0o777).toBe(0o600);

    const admin = await cli(['whoami']);
    expect(admin.stderr).toBe('');
    expect(admin.code).toBe(0);
    expect(admin.stdout).toMatch(/^roles +admin$/m);
    expect(admin.stdout).toMatch(/^credential +api-key:[a-z0-9]{16}$/m);

    const created = await cli(['keys', 'create', '--name', 'ci', '--scopes', 'mcp:read']);
    expect(created.code).toBe(0);
    const lines = created.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/shown this once/);
    const key = lines[1]!;
    const keyId = /^sy_([a-z0-9]{16})_/.exec(key)?.[1];
    expect(keyId).toBeDefined();
    expect(created.stderr).toMatch(new RegExp(`created API key ${keyId} "ci"`));
    expect(created.stderr).not.toContain(key);

    const ci = await cli(['whoami', '--token', key]);
    expect(ci.code).toBe(0);
    expect(ci.stdout).toMatch(/^scopes +mcp:read$/m);
    expect(ci.stdout).toMatch(new RegExp(`^credential +api-key:${keyId}$`, 'm'));
    const asJson = await cli(['whoami', '--json'], { SWITCHYARD_TOKEN: key });
    expect(JSON.parse(asJson.stdout)).toMatchObject({ scopes: ['mcp:read'], tenant: 'default' });

    const list = await cli(['keys', 'list']);
    expect(list.stdout).toMatch(
      new RegExp(`^${keyId}\\s+ci\\s+\\S+\\s+mcp:read\\s+${key.slice(-4)}\\s+never$`, 'm'),
    );
    expect(list.stdout).not.toContain(key);

    const revoked = await cli(['keys', 'revoke', keyId!]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked API key ${keyId}`);

    // Every gateway refuses a revoked key within a second.
    let refused = await cli(['whoami', '--token', key]);
    for (let i = 0; i < 10 && refused.code === 0; i++) {
      await sleep(250);
      refused = await cli(['whoami', '--token', key]);
    }
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\(AUTH\.INVALID_CREDENTIAL\)\nthe gateway refused the credential/);
    expect(refused.stdout + refused.stderr).not.toContain(key.slice(20));
  });

  it('says how to pass a credential when there is none', async () => {
    const none = await cli(['whoami'], { SWITCHYARD_DATA_DIR: emptyDir });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/\(AUTH\.REQUIRED\)\nno credential was sent: pass --token /);
  });

  it('grants a permission to the whole tenant, lists it and removes it', { timeout: 120_000 }, async () => {
    const added = await cli([
      'grants',
      'add',
      '--tenant-wide',
      '--permission',
      'mcp:read',
      '--server',
      'every*',
    ]);
    expect(added.stderr).toBe('');
    const grantId = /\(grant ([0-9a-f-]{36})\)$/m.exec(added.stdout)?.[1];
    expect(added.stdout).toMatch(/^granted mcp:read on servers every\* to everyone in tenant default /);
    expect(grantId).toBeDefined();

    const listed = await cli(['grants', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toContainEqual(
      expect.objectContaining({
        grantId,
        subject: { type: 'tenant', id: 'default' },
        resource: { type: 'server', server: 'every*' },
      }),
    );

    const removed = await cli(['grants', 'remove', grantId!]);
    expect(removed.stdout).toBe(`removed grant ${grantId}\n`);
    const after = await cli(['grants', 'list', '--json']);
    expect(JSON.parse(after.stdout)).not.toContainEqual(expect.objectContaining({ grantId }));
  });

  it('bridges stdio to /mcp with the admin key', { timeout: 60_000 }, async () => {
    const client = new Client({ name: 'cli-access-e2e', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--url', base], env }),
    );
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toContain('switchyard__list-servers');
    } finally {
      await client.close();
    }
  });
});
