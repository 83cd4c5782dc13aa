import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { until } from '../../test/e2e/program.ts';
import { client, startGatewayPair, startMemorySystem } from '../../test/systems.ts';

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/upstreams/stderr.server.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url));
const TOKEN = 'tok-live-4f9a2c7e1b';
const PASSWORD = 'hunter2-not-for-logs';

type Api = ReturnType<typeof client>;

async function registerNoisy(api: Api, name: string): Promise<string> {
  const r = await api('/api/v1/servers?wait=true', {
    body: {
      name,
      transport: {
        type: 'stdio',
        command: process.execPath,
        args: ['--import', TSX, FIXTURE],
        env: { API_TOKEN: TOKEN, DB_PASSWORD: PASSWORD },
      },
    },
  });
  expect(r.status, r.text).toBe(202);
  await until(async () => {
    const said = await api(`/api/v1/servers/${name}/tools/say`, { body: { message: 'ready?' } });
    return said.status === 200 ? true : undefined;
  }, 60_000);
  return r.json.id as string;
}

interface Line {
  runner: string;
  pid: number;
  line: string;
}

async function logLines(api: Api, name: string, query = ''): Promise<{ lines: Line[]; cursor: string }> {
  const r = await api(`/api/v1/servers/${name}/logs${query}`);
  expect(r.status, r.text).toBe(200);
  return r.json as unknown as { lines: Line[]; cursor: string };
}

/** Nothing the server was given as a secret, nor the bearer token it wrote, leaves the runner. */
function expectRedacted(text: string) {
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain('abcdefghijklmnop');
}

describe('server runtime views, embedded', () => {
  let system: System;
  let api: Api;
  let id: string;

  beforeAll(async () => {
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    api = client(system);
    id = await registerNoisy(api, 'noisy');
  }, 120_000);
  afterAll(() => system?.stop());

  it("shows the server's stderr with its secrets redacted, and only what came since a cursor", async () => {
    const first = await until(async () => {
      const page = await logLines(api, 'noisy');
      return page.lines.some((l) => l.line.includes('ready?')) ? page : undefined;
    });
    const text = JSON.stringify(first);
    expectRedacted(text);
    expect(first.lines.map((l) => l.line)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^stderr fixture: starting \(pid \d+\) token \[redacted\] db \[redacted\]$/),
        'stderr fixture: calling out with Authorization: Bearer [redacted]',
        'stderr fixture says: ready?',
      ]),
    );
    expect(first.lines.every((l) => l.runner === 'local' && l.pid > 0)).toBe(true);

    await api('/api/v1/servers/noisy/tools/say', { body: { message: `after the cursor ${TOKEN}` } });
    const next = await until(async () => {
      const page = await logLines(api, 'noisy', `?after=${first.cursor}`);
      return page.lines.length > 0 ? page : undefined;
    });
    expect(next.lines.map((l) => l.line)).toEqual(['stderr fixture says: after the cursor [redacted]']);
    expect((await api('/api/v1/servers/noisy/logs?after=not-a-cursor')).status).toBe(400);
  });

  it('follows the stderr as NDJSON', async () => {
    const stop = new AbortController();
    const res = await fetch(`${system.url}/api/v1/servers/noisy/logs?follow=true&limit=1`, {
      headers: { authorization: `Bearer ${(await import('../../test/access.ts')).TEST_ADMIN_KEY}` },
      signal: stop.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = '';
    await api('/api/v1/servers/noisy/tools/say', { body: { message: 'followed line' } });
    while (!seen.includes('followed line')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
    }
    stop.abort();
    const lines = seen
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; line?: string });
    expect(lines.at(-1)).toMatchObject({ type: 'line', line: 'stderr fixture says: followed line' });
  });

  it('shows the instance (pid, uptime, restarts, last exit) and sees it restarted after an exit', async () => {
    const before = await api('/api/v1/servers/noisy/instances');
    expect(before.status, before.text).toBe(200);
    const [instance] = before.json.instances as Array<Record<string, unknown>>;
    expect(before.json).toMatchObject({ serverId: id, name: 'noisy', runners: ['local'], unreachable: [] });
    expect(instance).toMatchObject({ runner: 'local', state: 'healthy', restarts: 0, circuit: 'closed' });
    expect(instance?.pid).toEqual(expect.any(Number));
    expect(instance?.target).toBe(`pid ${instance?.pid}`);
    expect(instance?.uptimeMs).toEqual(expect.any(Number));

    expect((await api('/api/v1/servers/noisy/tools/exit', { body: {} })).status).toBe(200);
    const after = await until(async () => {
      const r = await api('/api/v1/servers/noisy/instances');
      const i = (r.json.instances as Array<Record<string, unknown>>)[0];
      return i?.restarts === 1 && i.state === 'healthy' ? i : undefined;
    });
    expect(after.pid).not.toBe(instance?.pid);
    expect(after.lastExit).toMatchObject({ reason: expect.stringContaining('with code 7') });
    expect(String((after.lastExit as { reason: string }).reason)).toContain('exiting on purpose');
    // The old process's lines stay with the new one's.
    const { lines } = await logLines(api, 'noisy');
    expect(new Set(lines.map((l) => l.pid)).size).toBeGreaterThanOrEqual(2);
  });

  it('lists what the server offers, from the catalog read model', async () => {
    const tools = await api('/api/v1/servers/noisy/tools');
    expect(tools.status, tools.text).toBe(200);
    expect((tools.json.tools as Array<{ name: string }>).map((t) => t.name).sort()).toEqual([
      'echo',
      'exit',
      'pid',
      'say',
    ]);
    expect(tools.json.discoveredAt).toEqual(expect.any(String));
    const resources = await api(`/api/v1/servers/${id}/resources`);
    expect(resources.json).toMatchObject({ serverId: id, resources: [], resourceTemplates: [] });
    expect((await api('/api/v1/servers/noisy/prompts')).json).toMatchObject({ prompts: [] });
    expect((await api('/api/v1/servers/nosuch/tools')).status).toBe(404);
  });

  it('gives the configuration history from the stream, secrets redacted', async () => {
    const patched = await api('/api/v1/servers/noisy?wait=true', {
      method: 'PATCH',
      body: { description: 'talks on stderr' },
    });
    expect(patched.status, patched.text).toBe(202);
    const history = await api('/api/v1/servers/noisy/history');
    expect(history.status, history.text).toBe(200);
    const items = history.json.items as Array<{ type: string; actor: string; data: Record<string, unknown> }>;
    expect(items.map((i) => i.type)).toEqual(expect.arrayContaining(['ServerRegistered', 'ServerUpdated']));
    expect(items[0]).toMatchObject({
      type: 'ServerRegistered',
      revision: '0',
      data: { transport: { env: { API_TOKEN: '[redacted]', DB_PASSWORD: '[redacted]' } } },
    });
    expect(items.at(-1)).toMatchObject({ type: 'ServerUpdated', data: { description: 'talks on stderr' } });
    expect(items.every((i) => i.actor.length > 0)).toBe(true);
    expectRedacted(history.text);
    // Not even the sealed form leaves.
    expect(history.text).not.toContain('ciphertext');
  });

  it('gives call stats (count, error rate, mean, p50, p95, last use) and a health summary', async () => {
    const stats = await until(async () => {
      const r = await api('/api/v1/servers/noisy/stats');
      return (r.json.calls as number) >= 3 ? r.json : undefined;
    });
    expect(stats).toMatchObject({
      serverId: id,
      errors: 0,
      errorRate: 0,
      avgMs: expect.any(Number),
      p50Ms: expect.any(Number),
      p95Ms: expect.any(Number),
      lastUsedAt: expect.any(String),
    });
    expect((stats.tools as Array<{ tool: string }>).map((t) => t.tool)).toContain('say');

    const health = await api('/api/v1/health/servers');
    expect(health.status, health.text).toBe(200);
    expect(health.json).toMatchObject({ total: 1, enabled: 1, disabled: 0 });
    const byState = health.json.byState as Record<string, number>;
    expect(Object.values(byState).reduce((a, b) => a + b, 0)).toBe(1);
    expect(health.json.servers).toEqual([expect.objectContaining({ id, name: 'noisy' })]);
  });
});

describe('server runtime views, distributed (PostgreSQL, NATS; the runner of another system)', () => {
  let pair: Awaited<ReturnType<typeof startGatewayPair>>;
  let b: Api;

  beforeAll(async () => {
    pair = await startGatewayPair();
    // b is a gateway only: it holds no process, every answer below comes from a's runner over NATS.
    b = client(pair.b);
    await registerNoisy(b, 'noisy-remote');
  }, 180_000);
  afterAll(() => pair?.stop());

  it('gathers the instances and the stderr from the runner over the bus, secrets redacted', async () => {
    const instances = await until(async () => {
      const r = await b('/api/v1/servers/noisy-remote/instances');
      return (r.json.instances as unknown[]).length > 0 ? r.json : undefined;
    });
    const [instance] = instances.instances as Array<Record<string, unknown>>;
    expect(instances.runners).toEqual([instance?.runner]);
    expect(instance?.runner).toMatch(/^runner-/);
    expect(instance).toMatchObject({ state: 'healthy', restarts: 0, pid: expect.any(Number) });

    await b('/api/v1/servers/noisy-remote/tools/say', { body: { message: 'over the bus' } });
    const logs = await until(async () => {
      const page = await logLines(b, 'noisy-remote');
      return page.lines.some((l) => l.line.includes('over the bus')) ? page : undefined;
    });
    expect(logs.lines.every((l) => l.runner === instance?.runner && l.pid === instance?.pid)).toBe(true);
    expectRedacted(JSON.stringify(logs));
    expect(logs.lines.map((l) => l.line)).toContain(
      'stderr fixture: calling out with Authorization: Bearer [redacted]',
    );
  });
});
