/**
 * The @modelcontextprotocol/conformance server suite (`--suite all`) against our fixture directly:
 * the per-scenario results must equal baseline.json, and every scenario that does not pass must be
 * explained in docs/conformance.md. The gateway test runs the same suite through
 * `/servers/<name>/mcp` and compares with the same baseline.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ProgressNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpFixture, startHttpFixture } from './fixture-server.ts';
import {
  type Baseline,
  conformanceTool,
  describeRun,
  readBaseline,
  runConformanceDetailed,
} from './run-conformance.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const fixturePath = fileURLToPath(new URL('./fixture-server.ts', import.meta.url));
const docsPath = fileURLToPath(new URL('../../docs/conformance.md', import.meta.url));

describe('conformance suite against the fixture directly', () => {
  let fixture: HttpFixture;
  let baseline: Baseline;

  beforeAll(async () => {
    fixture = await startHttpFixture();
    baseline = await readBaseline();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('the baseline is for the installed conformance tool', async () => {
    const { version } = await conformanceTool();
    expect(version, 'conformance tool upgraded: rerun run-conformance.ts --write-baseline and review').toBe(
      baseline.version,
    );
  });

  it('every scenario of --suite all gives the result baseline.json records', {
    timeout: 120_000,
  }, async () => {
    const run = await runConformanceDetailed({ url: fixture.url });
    expect(run.results, `results differ from baseline.json\n${describeRun(run)}`).toEqual(baseline.scenarios);
  });

  it('docs/conformance.md lists every scenario with its direct result', async () => {
    const docs = await readFile(docsPath, 'utf8');
    for (const [scenario, result] of Object.entries(baseline.scenarios)) {
      const row = new RegExp(`^\\| \`${scenario}\` \\|[^|\\n]*\\| ${result} \\|`, 'm');
      expect(docs, `docs/conformance.md: no row "| \`${scenario}\` | … | ${result} |"`).toMatch(row);
    }
  });
});

describe('the fixture itself', () => {
  it('resumes an SSE stream it closed mid-call when the request carries the negotiated version', async () => {
    // What server-sse-polling checks, with MCP-Protocol-Version 2025-11-25 instead of the
    // scenario's 2025-03-26 (for which the SDK transport neither primes nor closes streams).
    const fixture = await startHttpFixture();
    try {
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      const initialize = await fetch(fixture.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        }),
      });
      const sessionId = initialize.headers.get('mcp-session-id') ?? '';
      await initialize.text();
      const session = { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
      await fetch(fixture.url, {
        method: 'POST',
        headers: session,
        body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      });

      const call = await fetch(fixture.url, {
        method: 'POST',
        headers: session,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'test_reconnection', arguments: {} },
        }),
      });
      const closedStream = await call.text(); // ends when the tool closes it, before the result
      expect(closedStream).toMatch(/^id: \S+\nretry: \d+\ndata: \n\n$/);
      const lastEventId = /^id: (\S+)/.exec(closedStream)?.[1] ?? '';

      const resumed = await fetch(fixture.url, {
        method: 'GET',
        headers: { ...session, accept: 'text/event-stream', 'last-event-id': lastEventId },
      });
      expect(resumed.status).toBe(200);
      const reader = resumed.body!.getReader();
      let received = '';
      while (!received.includes('"id":1')) {
        const { value, done } = await reader.read();
        if (done) break;
        received += new TextDecoder().decode(value);
      }
      await reader.cancel();
      expect(received).toContain('Reconnection test completed successfully');
    } finally {
      await fixture.close();
    }
  });

  it('serves the same catalog over stdio as over HTTP, with server-to-client requests', async () => {
    const fixture = await startHttpFixture();
    const overHttp = new Client({ name: 'direct-test', version: '1.0.0' });
    const overStdio = new Client(
      { name: 'direct-test', version: '1.0.0' },
      { capabilities: { sampling: {} } },
    );
    overStdio.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
      role: 'assistant',
      model: 'test-model',
      content: { type: 'text', text: `echo ${JSON.stringify(request.params.messages[0]?.content)}` },
    }));
    try {
      await overHttp.connect(new StreamableHTTPClientTransport(new URL(fixture.url)));
      await overStdio.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: ['--import', 'tsx', fixturePath, '--stdio'],
          cwd: repoRoot,
          stderr: 'inherit',
        }),
      );
      const catalog = async (client: Client) => ({
        server: client.getServerVersion(),
        capabilities: client.getServerCapabilities(),
        tools: (await client.listTools()).tools,
        resources: (await client.listResources()).resources,
        templates: (await client.listResourceTemplates()).resourceTemplates,
        prompts: (await client.listPrompts()).prompts,
      });
      expect(await catalog(overStdio)).toEqual(await catalog(overHttp));

      const sampled = await overStdio.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } });
      expect(sampled.content).toEqual([
        { type: 'text', text: 'LLM response: echo {"type":"text","text":"hi"}' },
      ]);
      // Observed with a notification handler of our own: the SDK's per-request onprogress misses a
      // notification that arrives in the same stdio chunk as the response (the client runs
      // notification handlers a microtask late, after the response removed the progress handler).
      const progress: number[] = [];
      overStdio.setNotificationHandler(ProgressNotificationSchema, (notification) => {
        progress.push(notification.params.progress);
      });
      await overStdio.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, {
        onprogress: () => {},
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(progress).toEqual([0, 50, 100]);
    } finally {
      await overStdio.close();
      await overHttp.close();
      await fixture.close();
    }
  }, 30_000);
});
