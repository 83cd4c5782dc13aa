import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/logger.ts';
import { type System, startSystem } from '../../runtime/compose.ts';
import { parseConfig } from '../../runtime/config.ts';
import { adminAuth } from '../access.ts';
import { everythingEntry as EVERYTHING, eventually } from '../runners.ts';
import { hasNats, hasPostgres } from '../services.ts';
import { distributedTestEnv, registerStdioServer } from '../systems.ts';
import { cleanEnv, freePort, type Program, startProgram, waitForHttp } from './program.ts';

/** One HTTP request the client sent, where it went, and what it carried. */
interface Sent {
  gateway: 'a' | 'b';
  method: string;
  /** JSON-RPC methods of the body, or `answer:<id>` for the client's answers. */
  messages: string[];
  status: number | 'refused';
}

/**
 * A load balancer in the client: each request goes to the next gateway in turn; one that refuses
 * the connection (killed) is skipped for the other.
 */
function alternating(gateways: { a: string; b: string }, sent: Sent[]): typeof fetch {
  // b first: the client's stream for the server's own messages (its third request, GET) is b's.
  let turn = 1;
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const order: Array<'a' | 'b'> = turn++ % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    let lastError: unknown;
    for (const gateway of order) {
      const target = new URL(url.pathname + url.search, gateways[gateway]);
      const messages = describeBody(init?.body);
      try {
        const res = await fetch(target, init);
        sent.push({ gateway, method: init?.method ?? 'GET', messages, status: res.status });
        return res;
      } catch (e) {
        sent.push({ gateway, method: init?.method ?? 'GET', messages, status: 'refused' });
        lastError = e;
      }
    }
    throw lastError;
  };
}

function describeBody(body: unknown): string[] {
  if (typeof body !== 'string') return [];
  const parsed = JSON.parse(body) as unknown;
  return (Array.isArray(parsed) ? parsed : [parsed]).map(
    (m: { method?: string; id?: unknown }) => m.method ?? `answer:${String(m.id)}`,
  );
}

const enabled = hasPostgres() && hasNats();
if (!enabled) console.warn('!!! two-gateway session e2e SKIPPED: needs DATABASE_URL and NATS_URL');

describe.skipIf(!enabled)('one MCP session served by two gateways', () => {
  let deployment: Awaited<ReturnType<typeof distributedTestEnv>>;
  let a: System;
  let b: Program;
  let bUrl: string;

  beforeAll(async () => {
    deployment = await distributedTestEnv('replicas');
    // Gateway a runs every role (and the upstream); gateway b is a gateway alone, in a process of
    // its own so that it can be SIGKILLed. Its tool calls go to a's runner over NATS.
    a = await startSystem(parseConfig({ ...deployment.env, SWITCHYARD_PORT: '0' }), silentLogger());
    const port = await freePort();
    bUrl = `http://127.0.0.1:${port}`;
    b = startProgram(
      ['start', 'gateway', '--port', String(port)],
      cleanEnv({ ...deployment.env, SWITCHYARD_LOG_LEVEL: 'warn' }),
    );
    await waitForHttp(`${bUrl}/health`, b);
    await registerStdioServer(a, 'everything', [EVERYTHING], { tool: 'echo', args: { message: 'up' } });
  }, 120_000);

  afterAll(async () => {
    await b?.kill();
    await a?.stop();
    await deployment?.drop();
  });

  it('alternates one session between them, and carries on through one when the other is SIGKILLed', {
    timeout: 120_000,
  }, async () => {
    const sent: Sent[] = [];
    const client = new Client({ name: 'replicas', version: '1.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      model: 'test',
      role: 'assistant',
      content: { type: 'text', text: 'sampled by the one caller' },
    }));
    const transport = new StreamableHTTPClientTransport(new URL(`${a.url}/servers/everything/mcp`), {
      fetch: alternating({ a: a.url!, b: bUrl }, sent),
      requestInit: { headers: adminAuth },
    });
    let listChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
    await client.connect(transport);
    try {
      await oneSession();
    } finally {
      await client.close();
    }

    async function oneSession() {
      const sessionId = transport.sessionId;
      expect(sessionId).toBeTruthy();

      const echo = async (message: string) => {
        const result = await client.callTool({ name: 'echo', arguments: { message } });
        expect(result.content).toEqual([{ type: 'text', text: `Echo: ${message}` }]);
      };

      // Every request of the session, wherever it lands: lists, calls, the client's settings.
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
      for (let i = 0; i < 6; i++) await echo(`call ${i}`);
      await client.setLoggingLevel('error');
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
      const served = (g: 'a' | 'b') => sent.filter((s) => s.gateway === g && s.status === 200).length;
      expect(served('a')).toBeGreaterThan(2);
      expect(served('b')).toBeGreaterThan(2);

      // Sampling: the upstream's request reaches the one caller on the gateway serving the call, and
      // the client's answer, sent to whichever gateway its next request lands on, gets back to it.
      for (let i = 0; i < 2; i++) {
        const sampled = await client.callTool({
          name: 'trigger-sampling-request',
          arguments: { prompt: `hi ${i}` },
        });
        expect(JSON.stringify(sampled.content)).toContain('sampled by the one caller');
      }
      const calls = sent.filter((s) => s.messages.includes('tools/call') && s.status === 200);
      const answers = sent.filter((s) => s.messages.some((m) => m.startsWith('answer:')) && s.status === 202);
      expect(answers.length).toBe(2);
      // At least one answer went to the other gateway than the call it answers (the turn alternates).
      const lastTwoCalls = calls.slice(-2).map((c) => c.gateway);
      expect(answers.map((x) => x.gateway)).not.toEqual(lastTwoCalls);

      // Gateway b, which holds the client's stream, dies mid-session; the client's requests carry
      // on through a, and so does its stream: it reconnects, and the server's messages come on it.
      expect(sent.find((s) => s.method === 'GET')?.gateway).toBe('b');
      await b.kill();
      for (let i = 0; i < 4; i++) await echo(`after the kill ${i}`);
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
      expect(sent.some((s) => s.gateway === 'b' && s.status === 'refused')).toBe(true);
      await eventually(() => sent.some((s) => s.method === 'GET' && s.gateway === 'a' && s.status === 200), {
        what: "the client's stream to reconnect to a",
      });
      listChanged = 0;
      const disabled = await fetch(`${a.url}/api/v1/servers/everything/disable?wait=true`, {
        method: 'POST',
        headers: adminAuth,
      });
      expect(disabled.status).toBe(202);
      await eventually(() => listChanged > 0, {
        what: "the tools' list_changed to reach the client through a",
      });
      const enabled = await fetch(`${a.url}/api/v1/servers/everything/enable?wait=true`, {
        method: 'POST',
        headers: adminAuth,
      });
      expect(enabled.status).toBe(202);

      // Ended by its client: gone on every gateway.
      await transport.terminateSession();
      const after = await fetch(`${a.url}/servers/everything/mcp`, {
        method: 'POST',
        headers: {
          ...adminAuth,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sessionId!,
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(after.status).toBe(404);
    }
  });
});
