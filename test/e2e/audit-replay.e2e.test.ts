import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminFetch,
  embeddedProgramEnv,
  type Program,
  runCli,
  startProgram,
  until,
  waitForHttp,
} from './program.ts';

const EVERYTHING = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

/**
 * The replay questions as an auditor meets them: the real program started as the README says
 * (embedded, its data in a temporary directory), a real MCP server registered, tools called by two
 * principals and the server changed; then `switchyard audit server | calls | changes` asked with an
 * auditor's key (a reader with a platform grant of mcp:read), across pages and as CSV and NDJSON.
 */
describe('switchyard audit server | calls | changes against the real program', () => {
  let dataDir: string;
  let base: string;
  let env: Record<string, string>;
  let program: Program | undefined;
  const ids: Record<string, string> = {};
  const keys: Record<string, string> = {};
  const marks: Record<string, string> = {};

  const api = async (
    path: string,
    body?: unknown,
    method = body === undefined ? 'GET' : 'POST',
    key?: string,
  ) => {
    const init: RequestInit = {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    };
    const res = key
      ? await fetch(`${base}${path}`, {
          ...init,
          headers: { ...init.headers, authorization: `Bearer ${key}` },
        })
      : await adminFetch(`${base}${path}`, init);
    const text = await res.text();
    return {
      status: res.status,
      text,
      json: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
    };
  };
  const auditor = (args: string[]) => runCli(args, { ...env, SWITCHYARD_TOKEN: keys.auditor! });

  beforeAll(async () => {
    ({ dataDir, base, env } = await embeddedProgramEnv('audit-replay'));
    program = startProgram(['start'], env);
    await waitForHttp(`${base}/ready`, program, 110_000);
  }, 120_000);

  afterAll(async () => {
    await program?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers a server as of a time, every call by actor and tool across pages, and who changed what', {
    timeout: 240_000,
  }, async () => {
    for (const [who, role] of [
      ['alice', 'executor'],
      ['bob', 'executor'],
      ['auditor', 'reader'],
    ] as const) {
      const p = await api('/api/v1/principals', { name: who, roles: [role] });
      expect(p.status, p.text).toBeLessThan(300);
      ids[who] = p.json.id as string;
      keys[who] = (await api('/api/v1/api-keys', { name: who, principalId: ids[who] })).json.key as string;
    }
    const grant = await api('/api/v1/grants', {
      subject: { type: 'principal', id: ids.auditor },
      permission: 'mcp:read',
      resource: { type: 'platform' },
    });
    expect(grant.status, grant.text).toBeLessThan(300);
    ids.admin = (await api('/api/v1/me')).json.id as string;

    const reg = await api('/api/v1/servers?wait=true', {
      name: 'everything',
      tags: ['before'],
      transport: {
        type: 'stdio',
        command: process.execPath,
        args: [EVERYTHING],
        env: { UPSTREAM_TOKEN: 'do-not-show-this-token-1234' },
      },
    });
    expect(reg.status, reg.text).toBe(202);
    const echo = (who: string, message: string) =>
      api('/api/v1/servers/everything/tools/echo', { message }, 'POST', keys[who]);
    await until(async () => ((await echo('alice', 'warm-up')).status === 200 ? true : undefined), 90_000);
    for (let i = 1; i <= 4; i++) expect((await echo('alice', `alice ${i}`)).status).toBe(200);
    for (let i = 1; i <= 3; i++) expect((await echo('bob', `bob ${i}`)).status).toBe(200);
    // A credential in an argument never reaches the log.
    expect((await echo('bob', 'Bearer abcdefghijklmnopqrstuvwxyz')).status).toBe(200);
    const add = await api('/api/v1/servers/everything/tools/get-sum', { a: 2, b: 3 }, 'POST', keys.alice);
    expect(add.status, add.text).toBe(200);

    marks.beforeUpdate = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const patched = await api(
      `/api/v1/servers/${(reg.json as { id: string }).id}?wait=true`,
      { tags: ['after'] },
      'PATCH',
    );
    expect(patched.status, patched.text).toBe(202);

    // A server as of a time: before the change, and now.
    const then = await until(async () => {
      const r = await auditor(['audit', 'server', 'everything', '--at', marks.beforeUpdate!, '--json']);
      return r.code === 0
        ? (JSON.parse(r.stdout) as {
            server: { tags: string[] };
            catalog: { tools: Array<{ name: string }> };
            health: { status: string };
          })
        : undefined;
    }, 30_000);
    expect(then.server.tags).toEqual(['before']);
    expect(then.catalog.tools.map((t) => t.name)).toContain('echo');
    const now = await auditor(['audit', 'server', 'everything', '--at', 'now']);
    expect(now.code, now.stderr).toBe(0);
    expect(now.stdout).toMatch(/^everything \([0-9a-f-]{36}\) as of /);
    expect(now.stdout).toContain('tags        after');
    expect(now.stdout).toContain('UPSTREAM_TOKEN (values redacted)');
    expect(now.stdout).toMatch(/last change ServerUpdated by /);
    expect(now.stdout).not.toContain('do-not-show-this-token');
    const before = await auditor(['audit', 'server', 'everything', '--at', '2020-01-01T00:00:00Z']);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('AUDIT.SERVER_NOT_FOUND');

    // Every call by alice to echo, as NDJSON: the warm-up and her four.
    const aliceEcho = await auditor([
      'audit',
      'calls',
      '--actor',
      ids.alice!,
      '--tool',
      'echo',
      '--format',
      'ndjson',
    ]);
    expect(aliceEcho.code, aliceEcho.stderr).toBe(0);
    const aliceRows = aliceEcho.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            arguments: { message: string };
            outcome: string;
            actor: string;
            serverName: string;
          },
      );
    expect(aliceRows.map((r) => r.arguments.message)).toEqual([
      'warm-up',
      'alice 1',
      'alice 2',
      'alice 3',
      'alice 4',
    ]);
    expect(
      aliceRows.every(
        (r) => r.outcome === 'succeeded' && r.actor === ids.alice && r.serverName === 'everything',
      ),
    ).toBe(true);

    // Across pages with the table: two at a time, each page's cursor to the next.
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 20; page++) {
      const r = await auditor([
        'audit',
        'calls',
        '--server',
        'everything',
        '--limit',
        '2',
        ...(after ? ['--after', after] : []),
      ]);
      expect(r.code, r.stderr).toBe(0);
      const rows = r.stdout.split('\n').filter((l) => l && !l.startsWith('TIME'));
      seen.push(...rows.map((l) => l.split(/\s{2,}/)[2]!));
      const more = /more: --after (\d+)/.exec(r.stderr);
      if (!more) break;
      after = more[1];
    }
    const everyCall = 10;
    expect(seen).toHaveLength(everyCall);
    expect(seen.filter((a) => a === ids.alice)).toHaveLength(6);
    expect(seen.filter((a) => a === ids.bob)).toHaveLength(4);

    // The same calls as CSV in a file; a bounded window by recorded time leaves them all out.
    const file = join(dataDir, 'calls.csv');
    const csv = await auditor(['audit', 'calls', '--format', 'csv', '--output', file]);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = (await readFile(file, 'utf8')).split('\r\n').filter(Boolean);
    expect(lines[0]).toMatch(/^position,recordedAt,callId,tenant,actor,/);
    expect(lines).toHaveLength(everyCall + 1);
    expect(lines.join('\n')).toContain('Bearer [redacted]');
    expect(lines.join('\n')).not.toContain('abcdefghijklmnopqrstuvwxyz');
    expect(lines.some((l) => l.includes('get-sum') && l.includes('""a"":2'))).toBe(true);
    const old = await auditor(['audit', 'calls', '--to', '2020-01-01T00:00:00Z', '--format', 'csv']);
    expect(old.stdout.split('\r\n').filter(Boolean)).toHaveLength(1);
    const bobSince = await auditor([
      'audit',
      'calls',
      '--actor',
      ids.bob!,
      '--from',
      marks.beforeUpdate!,
      '--format',
      'ndjson',
    ]);
    expect(bobSince.stdout.trim()).toBe('');

    // Who changed what: the administrator registered and changed the server, and made the principals.
    const changes = await auditor(['audit', 'changes', '--actor', ids.admin!]);
    expect(changes.code, changes.stderr).toBe(0);
    expect(changes.stdout).toMatch(/ServerRegistered\s+everything/);
    expect(changes.stdout).toContain('ServerUpdated');
    expect(changes.stdout).toMatch(/PrincipalCreated\s+alice/);
    expect(changes.stdout).toContain('GrantAdded');
    const serverChanges = await auditor(['audit', 'changes', '--category', 'server', '--format', 'ndjson']);
    const changeRows = serverChanges.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; actor: string; data: unknown });
    expect(changeRows.map((c) => c.type)).toEqual(['ServerRegistered', 'ServerUpdated']);
    expect(serverChanges.stdout).not.toContain('do-not-show-this-token');
    expect(JSON.stringify(changeRows[0]!.data)).toContain('"UPSTREAM_TOKEN":"[redacted]"');

    // A plain executor is no auditor.
    const refused = await runCli(['audit', 'calls'], { ...env, SWITCHYARD_TOKEN: keys.alice! });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/403|AUTHZ/);
  });
});
