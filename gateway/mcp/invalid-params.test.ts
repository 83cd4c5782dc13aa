import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../../runtime/compose.ts';
import { adminAuth } from '../../test/access.ts';
import { startMemorySystem } from '../../test/systems.ts';

/**
 * Params a method's schema refuses are the caller's mistake: -32602 (Invalid params), never the
 * SDK's -32603 (Internal error) for a zod error — initialize and ping (the SDK's own handlers)
 * included. Found by the MCP fuzzer (test/fuzz/mcp-fuzz.ts).
 */
describe('MCP requests with invalid params', () => {
  let system: System;
  beforeAll(async () => {
    system = await startMemorySystem({ SWITCHYARD_BUILTIN_TEMPLATES: 'off' });
  });
  afterAll(() => system?.stop());

  const rpc = async (path: string, method: string, params?: unknown) => {
    const res = await fetch(`${system.url}${path}`, {
      method: 'POST',
      headers: {
        ...adminAuth,
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params }),
    });
    const text = await res.text();
    // initialize opens a session and answers as an event stream.
    const json = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? '{}');
    return { status: res.status, body: JSON.parse(json) as { id?: unknown; error?: { code: number } } };
  };

  it.each([
    ['/mcp', 'tools/list', { cursor: false }],
    ['/mcp', 'tools/call', undefined],
    ['/mcp', 'tools/call', { name: 42 }],
    ['/mcp', 'resources/read', {}],
    ['/mcp', 'prompts/get', { name: 'x', arguments: { a: 1 } }],
    ['/mcp', 'logging/setLevel', { level: 'loud' }],
    ['/mcp', 'initialize', { capabilities: {}, clientInfo: { name: 'x', version: '1' } }],
    ['/platform/mcp', 'resources/read', { uri: null }],
    // A NUL reached PostgreSQL where a subscription is kept, and came back as -32603 (the fuzzer).
    ['/mcp', 'resources/read', { uri: 'switchyard://everything/demo://x\u0000' }],
    ['/mcp', 'resources/subscribe', { uri: 'switchyard://everything/demo://x\u0000' }],
    ['/mcp', 'resources/subscribe', { uri: 'demo://a\nb' }],
  ])('%s %s %j is -32602', async (path, method, params) => {
    const r = await rpc(path, method, params);
    expect(r.status).toBe(200);
    expect(r.body.id).toBe(7);
    expect(r.body.error?.code).toBe(-32602);
  });

  it('still serves valid params', async () => {
    const r = await rpc('/mcp', 'tools/list', {});
    expect(r.body.error).toBeUndefined();
    expect((await rpc('/mcp', 'ping')).body.error).toBeUndefined();
  });
});
