import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/logger.ts';
import { type System, startSystem } from '../../runtime/compose.ts';
import { parseConfig } from '../../runtime/config.ts';
import { adminAuth, TEST_ADMIN_KEY } from '../access.ts';
import { adminFetch } from './program.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/upstreams/${name}.server.ts`, import.meta.url));
const tsxLoader = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
const EVERYTHING = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

/**
 * Bad input and bad upstreams through the gateway: unknown tools, invalid arguments, an upstream
 * that crashes mid-call, one that hangs, one that writes garbage. Each gets a clear error, the
 * gateway stays up, and the tool-call log records what happened.
 */
describe('MCP gateway against faulty upstreams', () => {
  let system: System;
  let client: Client;

  const toolCalls = async (server: string) => {
    const res = await adminFetch(`${system.url}/api/v1/tool-calls?server=${server}&limit=50`);
    return (
      (await res.json()) as { items: Array<{ tool: string; status: string; error: { code: string } | null }> }
    ).items;
  };

  beforeAll(async () => {
    system = await startSystem(
      parseConfig({
        SWITCHYARD_DATA_DIR: 'memory://',
        SWITCHYARD_PORT: '0',
        SWITCHYARD_LOG_LEVEL: 'error',
        SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
      }),
      silentLogger(),
    );
    const servers = [
      ['crash', fixture('crash')],
      ['hang', fixture('hang')],
      ['garbage', fixture('garbage')],
    ] as const;
    for (const [name, path] of servers) {
      const res = await adminFetch(`${system.url}/api/v1/servers?wait=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name,
          transport: { type: 'stdio', command: process.execPath, args: ['--import', tsxLoader, path] },
          settings: { callTimeoutMs: 1_500 },
        }),
      });
      expect(res.status).toBe(202);
    }
    await adminFetch(`${system.url}/api/v1/servers?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'everything',
        transport: { type: 'stdio', command: process.execPath, args: [EVERYTHING] },
      }),
    });
    client = new Client({ name: 'faults', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${system.url}/mcp`), {
        requestInit: { headers: adminAuth },
      }),
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      const names = (await client.listTools()).tools.map((t) => t.name);
      if (
        ['crash__crash', 'hang__hang', 'garbage__garbage', 'everything__echo'].every((n) => names.includes(n))
      )
        break;
      if (Date.now() > deadline) throw new Error(`not discovered: ${names.join(', ')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await system?.stop();
  });

  const stillUp = async () => {
    const ok = await client.callTool({ name: 'everything__echo', arguments: { message: 'alive' } });
    expect(ok.content).toEqual([{ type: 'text', text: 'Echo: alive' }]);
  };

  it('an upstream that crashes mid-call: an isError result, recorded as failed', {
    timeout: 30_000,
  }, async () => {
    const r = await client.callTool({ name: 'crash__crash', arguments: {} });
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r.content)).toMatch(/UPSTREAM\./);
    await stillUp();
    const log = await toolCalls('crash');
    expect(log[0]).toMatchObject({ tool: 'crash', status: 'failed' });
  });

  it('an upstream that hangs: a timeout result, recorded', { timeout: 30_000 }, async () => {
    const r = await client.callTool({ name: 'hang__hang', arguments: {} });
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r.content)).toMatch(/TIMEOUT/);
    await stillUp();
    expect((await toolCalls('hang'))[0]).toMatchObject({
      tool: 'hang',
      status: 'failed',
      error: { code: 'UPSTREAM.TIMEOUT' },
    });
  });

  it('an upstream that writes garbage: a clear error, recorded', { timeout: 30_000 }, async () => {
    const r = await client.callTool({ name: 'garbage__garbage', arguments: {} });
    expect(r.isError).toBe(true);
    await stillUp();
    expect((await toolCalls('garbage'))[0]).toMatchObject({ tool: 'garbage', status: 'failed' });
  });

  it('invalid arguments: the tool’s own error comes back, recorded', { timeout: 30_000 }, async () => {
    const r = await client.callTool({ name: 'everything__echo', arguments: { message: 42 } });
    expect(r.isError).toBe(true);
    const log = await toolCalls('everything');
    expect(log.some((c) => c.tool === 'echo' && c.status !== 'running')).toBe(true);
  });

  it('REST answers 502/504 problems for upstream failures', { timeout: 30_000 }, async () => {
    const crash = await adminFetch(`${system.url}/api/v1/servers/crash/tools/crash`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect([502, 503]).toContain(crash.status);
    expect(crash.headers.get('content-type')).toContain('application/problem+json');
    const hang = await adminFetch(`${system.url}/api/v1/servers/hang/tools/hang`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(hang.status).toBe(504);
  });
});
