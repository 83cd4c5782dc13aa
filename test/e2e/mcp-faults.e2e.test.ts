import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpError } from '@modelcontextprotocol/sdk/types.js';
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

  /** A server's audited calls, once the read model shows them all finished (it trails the log). */
  const toolCalls = async (server: string) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await adminFetch(`${system.url}/api/v1/tool-calls?server=${server}&limit=50`);
      const { items } = (await res.json()) as {
        items: Array<{ tool: string; status: string; error: { code: string } | null }>;
      };
      if (items.every((c) => c.status !== 'running') || Date.now() > deadline) return items;
      await new Promise((r) => setTimeout(r, 50));
    }
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
      ['errors', fixture('errors')],
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
        ['crash__crash', 'hang__hang', 'garbage__garbage', 'errors__refuse', 'everything__echo'].every((n) =>
          names.includes(n),
        )
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

  it("relays an upstream's JSON-RPC errors exactly (code, message, data), on both endpoints, recorded", {
    timeout: 30_000,
  }, async () => {
    const direct = new Client({ name: 'direct', version: '1.0.0' });
    await direct.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', tsxLoader, fixture('errors')],
        stderr: 'ignore',
      }),
    );
    const own = new Client({ name: 'own-endpoint', version: '1.0.0' });
    await own.connect(
      new StreamableHTTPClientTransport(new URL(`${system.url}/servers/errors/mcp`), {
        requestInit: { headers: adminAuth },
      }),
    );
    /** What a client sees of a failed request: the error as the SDK client built it. */
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => {
          throw new Error('expected an error');
        },
        (e: McpError) => ({ code: e.code, message: e.message, data: e.data }),
      );
    try {
      const tool = await failure(direct.callTool({ name: 'refuse', arguments: {} }));
      expect(tool).toEqual({
        code: -32050,
        message: 'MCP error -32050: quota exhausted for project 7',
        data: { retryAt: '2030-01-01T00:00:00Z', project: 7 },
      });
      expect(await failure(own.callTool({ name: 'refuse', arguments: {} }))).toEqual(tool);
      expect(await failure(client.callTool({ name: 'errors__refuse', arguments: {} }))).toEqual(tool);
      const prompt = await failure(direct.getPrompt({ name: 'refused' }));
      expect(prompt.code).toBe(-32602);
      expect(await failure(own.getPrompt({ name: 'refused' }))).toEqual(prompt);
      expect(await failure(client.getPrompt({ name: 'errors__refused' }))).toEqual(prompt);
      // The gateway's own errors are single-prefixed, say which server and tool, and carry a code.
      expect(await failure(own.callTool({ name: 'nope', arguments: {} }))).toEqual({
        code: -32602,
        message: "MCP error -32602: unknown tool 'nope' on server 'errors'",
        data: { code: 'MCP.UNKNOWN_TOOL', server: 'errors', tool: 'nope' },
      });
      const calls = (await toolCalls('errors')).filter((c) => c.tool === 'refuse');
      expect(calls).toHaveLength(2);
      expect(calls.every((c) => c.status === 'failed' && c.error?.code === 'UPSTREAM.ERROR')).toBe(true);
    } finally {
      await direct.close();
      await own.close();
    }
  });
});
