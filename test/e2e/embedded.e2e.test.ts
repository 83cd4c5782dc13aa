import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_ADMIN_ID } from '../../domains/access/index.ts';
import {
  adminFetch,
  cleanEnv,
  freePort,
  type Program,
  runCli,
  startProgram,
  waitForHttp,
} from './program.ts';

/**
 * The embedded mode as a newcomer meets it: `switchyard start` with no configuration, data in a
 * local directory, kept across a restart.
 */
describe('embedded mode, end to end', () => {
  let dataDir: string;
  let port: number;
  let base: string;
  let env: Record<string, string>;
  let program: Program | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'switchyard-e2e-'));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = cleanEnv({
      SWITCHYARD_DATA_DIR: dataDir,
      SWITCHYARD_PORT: String(port),
      SWITCHYARD_LOG_LEVEL: 'warn',
    });
  });

  afterAll(async () => {
    await program?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('registers a server, survives a restart, and shows the events', { timeout: 180_000 }, async () => {
    program = startProgram(['start'], env);
    await waitForHttp(`${base}/ready`, program);

    // The actor is who authenticated: a header claiming someone else is ignored.
    const reg = await adminFetch(`${base}/api/v1/servers?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-switchyard-actor': 'e2e-tester' },
      body: JSON.stringify({
        name: 'everything',
        description: 'reference server',
        transport: {
          type: 'stdio',
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-everything'],
          env: { API_TOKEN: 'sup3r-s3cret-value' },
        },
        tags: ['demo'],
      }),
    });
    expect(reg.status).toBe(202);
    const written = (await reg.json()) as {
      id: string;
      stream: string;
      revision: string;
      position: string;
      projected: boolean;
    };
    expect(written.projected).toBe(true);
    expect(written.stream).toBe(`server-${written.id}`);

    const got = await adminFetch(`${base}/api/v1/servers/${written.id}`);
    expect(got.status).toBe(200);
    const server = (await got.json()) as Record<string, unknown>;
    expect(server.name).toBe('everything');
    expect(JSON.stringify(server)).not.toContain('sup3r-s3cret-value');

    const dup = await adminFetch(`${base}/api/v1/servers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'everything',
        transport: { type: 'streamable-http', url: 'http://127.0.0.1:1/mcp' },
      }),
    });
    expect(dup.status).toBe(409);
    expect(dup.headers.get('content-type')).toContain('application/problem+json');

    // An MCP session opened before the restart is served after it (sessions live in the database).
    const mcp = (body: unknown, session?: string) =>
      adminFetch(`${base}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-11-25',
          ...(session && { 'mcp-session-id': session }),
        },
        body: JSON.stringify(body),
      });
    const opened = await mcp({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'e2e', version: '1' } },
    });
    expect(opened.status).toBe(200);
    await opened.text();
    const session = opened.headers.get('mcp-session-id') ?? '';
    expect(session).not.toBe('');
    expect((await mcp({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)).status).toBe(202);

    expect(await program.stop()).toBe(0);

    program = startProgram(['start'], env);
    await waitForHttp(`${base}/ready`, program);
    const again = await adminFetch(`${base}/api/v1/servers/everything?minPosition=${written.position}`);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(written.id);
    const listed = await mcp({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, session);
    expect(listed.status).toBe(200);
    expect(await listed.text()).toContain('"tools"');

    const events = await runCli(['events', '--url', base, '--category', 'server'], env);
    expect(events.code).toBe(0);
    const lines = events.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; metadata: { actor: string } });
    expect(lines.map((l) => l.type)).toContain('ServerRegistered');
    expect(lines[0]?.metadata.actor).toBe(BOOTSTRAP_ADMIN_ID);
    expect(events.stdout).not.toContain('e2e-tester');
    expect(events.stdout).not.toContain('sup3r-s3cret-value');

    const status = await runCli(['projections', 'status', '--url', base, '--json'], env);
    expect(status.code).toBe(0);
    const projections = JSON.parse(status.stdout) as Array<{ name: string; lagEvents: number }>;
    expect(projections.find((p) => p.name === 'servers')).toBeDefined();

    expect(await program.stop()).toBe(0);
  });
});
