import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { adminAuth } from '../../test/access.ts';
import { until } from '../../test/e2e/program.ts';
import { client, registerStdioServer, startMemorySystem } from '../../test/systems.ts';

const EVERYTHING = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);
const WEBHOOK_SECRET = 'whsec-the-one-that-must-not-show';

/** What the console's System and Overview views read: configuration, bus, window stats, the live head. */
describe('operator views: /system, /bus, /tool-calls/stats, /events/stream?from=now', () => {
  let system: System;
  const admin = () => client(system);

  beforeAll(async () => {
    system = await startMemorySystem({
      SWITCHYARD_BUILTIN_TEMPLATES: 'off',
      SWITCHYARD_WEBHOOK_SECRET: WEBHOOK_SECRET,
    });
    await registerStdioServer(system, 'everything', [EVERYTHING, 'stdio'], {
      tool: 'echo',
      args: { message: 'warm' },
    });
  });
  afterAll(() => system?.stop());

  it('shows the configuration with its secrets replaced, never their values', async () => {
    const r = await admin()('/api/v1/system');
    expect(r.status).toBe(200);
    expect(r.text).not.toContain(WEBHOOK_SECRET);
    const body = r.json as { mode: string; roles: string[]; config: Record<string, unknown> };
    expect(body.mode).toBe('embedded');
    expect(body.roles).toContain('gateway');
    expect(body.config.webhookSecret).toBe('[redacted]');
    expect(body.config['auth.adminKey']).toBe('[redacted]');
  });

  it("shows the bus's stream, subjects and consumers, and its dead letters without their data", async () => {
    const r = await admin()('/api/v1/bus');
    expect(r.status).toBe(200);
    const body = r.json as {
      stream: { name: string };
      subjects: Record<string, number>;
      deadLetters: unknown[];
    };
    expect(body.stream.name).toBeTruthy();
    expect(Array.isArray(body.deadLetters)).toBe(true);
  });

  it("counts a window's calls per server and lists the slowest tools", async () => {
    await admin()('/api/v1/servers/everything/tools/echo', { body: { message: 'counted' } });
    type Stats = {
      servers: Array<{ serverName: string; calls: number }>;
      tools: Array<{ serverName: string; tool: string; p95Ms: number | null }>;
    };
    // The read model follows the log: wait until it holds both calls.
    const body = await until(async () => {
      const r = await admin()('/api/v1/tool-calls/stats?tools=3');
      expect(r.status).toBe(200);
      const b = r.json as Stats;
      return (b.servers.find((s) => s.serverName === 'everything')?.calls ?? 0) >= 2 ? b : undefined;
    }, 30_000);
    expect(body.tools.some((t) => t.tool === 'echo' && t.p95Ms !== null)).toBe(true);
    expect((await admin()('/api/v1/tool-calls/stats?since=2999-01-01')).json).toMatchObject({
      servers: [],
      tools: [],
    });
    expect((await admin()('/api/v1/tool-calls/stats?tools=1000')).status).toBe(400);
  });

  it("draws a server's calls over time: per hour, with errors and p95", async () => {
    const r = await until(async () => {
      const res = await admin()('/api/v1/servers/everything/stats?series=hour');
      const body = res.json as { series?: Array<{ at: string; calls: number; p95Ms: number | null }> };
      return body.series && body.series.reduce((n, p) => n + p.calls, 0) >= 2 ? body : undefined;
    }, 30_000);
    const point = r.series!.at(-1)!;
    expect(new Date(point.at).getUTCMinutes()).toBe(0);
    expect(point.p95Ms).not.toBeNull();
    expect((await admin()('/api/v1/servers/everything/stats?series=day')).status).toBe(400);
  });

  it('a feed with from=now starts at the head: what was appended before does not come', async () => {
    const stop = new AbortController();
    const res = await fetch(`${system.url}/api/v1/events/stream?category=toolcall&from=now`, {
      headers: { ...adminAuth, accept: 'text/event-stream' },
      signal: stop.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = (async () => {
      let text = '';
      while (!text.includes('\ndata: ')) text += new TextDecoder().decode((await reader.read()).value);
      return JSON.parse(text.slice(text.indexOf('\ndata: ') + 7).split('\n')[0]!) as { stream: string };
    })();
    await new Promise((r) => setTimeout(r, 300));
    const call = await admin()('/api/v1/servers/everything/tools/echo', {
      body: { message: 'after the head' },
    });
    const event = await first;
    // Arguments are sealed in the log: the call is known by its stream.
    expect(event.stream).toBe(`toolcall-${(call.json as { callId: string }).callId}`);
    stop.abort();
  });
});
