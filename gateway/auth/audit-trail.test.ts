import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_ADMIN_ID } from '../../domains/access/index.ts';
import { isSealedValue } from '../../kernel/personal-data.ts';
import type { System } from '../../runtime/compose.ts';
import { until } from '../../test/e2e/program.ts';
import { client, startMemorySystem } from '../../test/systems.ts';

const EVERYTHING = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

const bigints = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

/**
 * What the log says about who did what: the authenticated principal as the actor (never a header),
 * the decision with every tool call, denials (capped), sessions bound to their principal and never
 * recorded in clear, list_changed when access changes, and "who could call T at time X".
 */
describe('identity in the log and in MCP sessions', () => {
  let system: System;
  const admin = () => client(system);
  const clients: Client[] = [];
  let alice: { id: string; key: string };
  let bob: { id: string; key: string };

  async function principal(name: string, roles: string[]) {
    const p = await admin()('/api/v1/principals', { body: { name, roles } });
    const k = await admin()('/api/v1/api-keys', { body: { name, principalId: p.json.id } });
    return { id: p.json.id as string, key: k.json.key as string };
  }

  async function session(key: string, path = '/mcp') {
    const transport = new StreamableHTTPClientTransport(new URL(`${system.url}${path}`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    });
    const c = new Client({ name: 'audit', version: '1.0.0' });
    await c.connect(transport);
    clients.push(c);
    return { client: c, transport };
  }

  beforeAll(async () => {
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
    alice = await principal('alice', ['executor']);
    bob = await principal('bob', []);
    const r = await admin()('/api/v1/servers?wait=true', {
      body: {
        name: 'everything',
        transport: { type: 'stdio', command: process.execPath, args: [EVERYTHING] },
      },
    });
    expect(r.status).toBe(202);
    await until(async () =>
      (await admin()('/api/v1/servers/everything/tools/echo', { body: { message: 'up?' } })).status === 200
        ? true
        : undefined,
    );
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await system?.stop();
  });

  it('records the authenticated principal as the actor: a header cannot say otherwise', async () => {
    const res = await client(system)('/api/v1/servers?wait=true', {
      body: { name: 'remote', transport: { type: 'streamable-http', url: 'http://127.0.0.1:9/mcp' } },
      headers: { 'x-switchyard-actor': 'mallory', host: 'attacker.example' },
    });
    expect(res.status).toBe(202);
    const [registered] = await system.store.readStream(`server-${res.json.id}`);
    expect(registered?.metadata).toMatchObject({
      actor: BOOTSTRAP_ADMIN_ID,
      tenant: 'default',
      credential: 'api-key:testadmin0000000',
    });
    expect(registered?.data).toMatchObject({ tenant: 'default', owner: BOOTSTRAP_ADMIN_ID });
    expect(JSON.stringify(registered, bigints)).not.toContain('mallory');
  });

  it('records every tool call with its caller, its decision and the policy version, and the session only as a hash', async () => {
    const { client: c, transport } = await session(alice.key, '/servers/everything/mcp');
    await c.callTool({ name: 'echo', arguments: { message: 'audited' } });
    const sessionId = transport.sessionId!;
    const started = await until(async () => {
      const events = await system.store.readAll({ filter: { types: ['ToolCallStarted'] }, maxCount: 10_000 });
      return events.find((e) => (e.data as { actor: string }).actor === alice.id);
    });
    // The arguments are in the log sealed with alice's data key (crypto-shredding), never in clear.
    const args = (started.data as { arguments: Record<string, unknown> }).arguments;
    expect(isSealedValue(args.message)).toBe(true);
    expect(JSON.stringify(started.data)).not.toContain('audited');
    expect(started.metadata).toMatchObject({ actor: alice.id, tenant: 'default' });
    expect(started.data).toMatchObject({
      actor: alice.id,
      tenant: 'default',
      via: 'mcp',
      authz: {
        policyVersion: expect.stringMatching(/^\d+$/),
        reasons: [expect.stringContaining('role executor')],
      },
    });
    const all = JSON.stringify(await system.store.readAll({ maxCount: 100_000 }), bigints);
    expect(all).not.toContain(sessionId);
    expect((started.data as { sessionId: string }).sessionId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('binds a session to its principal: another credential can neither use nor end it', async () => {
    const { transport } = await session(alice.key, '/servers/everything/mcp');
    const sessionId = transport.sessionId!;
    // Erin may use the same server, just not alice's session.
    const erin = await principal('erin', ['executor']);
    const headers = {
      authorization: `Bearer ${erin.key}`,
      'mcp-session-id': sessionId,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
    };
    const use = await fetch(`${system.url}/servers/everything/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(use.status).toBe(404);
    expect(await use.text()).toContain('Session not found');
    const { 'content-type': _, ...noBody } = headers;
    const end = await fetch(`${system.url}/servers/everything/mcp`, { method: 'DELETE', headers: noBody });
    expect(end.status).toBe(404);
    // Still alice's, still open.
    const again = await fetch(`${system.url}/servers/everything/mcp`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${alice.key}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 10, method: 'ping' }),
    });
    expect(again.status).toBe(200);
  });

  it('tells a session its list changed when a grant gives it a tool, and then lets it call the tool', async () => {
    const { client: c } = await session(bob.key);
    expect((await c.listTools()).tools.some((t) => t.name === 'everything__echo')).toBe(false);
    let changed = 0;
    c.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed++;
    });
    const grant = await admin()('/api/v1/grants', {
      body: {
        subject: { type: 'principal', id: bob.id },
        permission: 'mcp:execute',
        resource: { type: 'tool', server: 'everything', tool: 'echo' },
      },
    });
    expect(grant.status).toBe(202);
    await until(async () => (changed > 0 ? true : undefined), 5_000);
    const tools = (await c.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('everything__echo');
    expect(tools).not.toContain('everything__get-sum');
    const r = await c.callTool({ name: 'everything__echo', arguments: { message: 'granted' } });
    expect(r.content).toEqual([{ type: 'text', text: 'Echo: granted' }]);
  });

  it('records denials of an authenticated principal as events, at most ten a minute each', async () => {
    const before = await system.store.readAll({ filter: { categories: ['denial'] }, maxCount: 10_000 });
    const carol = await principal('carol', ['reader']);
    for (let i = 0; i < 25; i++) {
      const r = await client(system, carol.key)('/api/v1/servers', {
        body: { transport: { type: 'stdio' } },
      });
      expect(r.status).toBe(403);
    }
    await sleep(200);
    const after = await system.store.readAll({ filter: { categories: ['denial'] }, maxCount: 10_000 });
    const carols = after
      .slice(before.length)
      .filter((e) => (e.data as { principalId: string }).principalId === carol.id);
    expect(carols.length).toBe(10);
    expect(carols[0]!.data).toMatchObject({ action: 'server.register-stdio', resource: 'tenant:default' });
  });

  it('answers "who could call this tool at that time" from the log', async () => {
    const dave = await principal('dave', []);
    const beforeGrant = new Date().toISOString();
    await sleep(20);
    await admin()('/api/v1/grants', {
      body: {
        subject: { type: 'principal', id: dave.id },
        permission: 'mcp:execute',
        resource: { type: 'server', server: 'everything' },
      },
    });
    const ask = (at?: string) =>
      admin()(
        `/api/v1/authz/explain?action=tool.call&server=everything&tool=echo&principal=${dave.id}${at ? `&at=${encodeURIComponent(at)}` : ''}`,
      );
    const now = await ask();
    expect(now.json).toMatchObject({ effect: 'allow', principal: dave.id });
    expect((now.json.reasons as string[])[0]).toMatch(/^grant .* gives mcp:execute$/);
    const then = await ask(beforeGrant);
    expect(then.json).toMatchObject({ effect: 'deny', at: beforeGrant });
    // About oneself anyone may ask.
    const self = await client(
      system,
      dave.key,
    )('/api/v1/authz/explain?action=server.remove&server=everything');
    expect(self.json).toMatchObject({ effect: 'deny', permission: 'mcp:manage' });
  });
});
