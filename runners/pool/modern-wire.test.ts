import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startModernFixture } from '../../test/conformance/fixture-modern.ts';
import { startHttpFixture } from '../../test/conformance/fixture-server.ts';
import { discoverModern, MODERN_VERSION, post } from './modern-wire.ts';

const wire = { fetch, headers: {}, clientInfo: { name: 'test', version: '1' } };
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A server that answers every POST with `respond`. */
async function hostile(respond: (res: import('node:http').ServerResponse) => void): Promise<URL> {
  const server: Server = createServer((_req, res) => respond(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
}

describe("the pool's 2026-07-28 wire", () => {
  it('finds the revision on an upstream that serves it, and not on one of the stateful revisions', async () => {
    const modern = await startModernFixture();
    const legacy = await startHttpFixture();
    closers.push(
      () => modern.close(),
      () => legacy.close(),
    );
    const found = await discoverModern(new URL(modern.url), wire, 5_000);
    expect(found?.supportedVersions).toContain(MODERN_VERSION);
    expect(await discoverModern(new URL(legacy.url), wire, 5_000)).toBeUndefined();
  });

  it('does not read an upstream event or answer without bound', async () => {
    const chunk = 'x'.repeat(1024 * 1024);
    const endless = await hostile((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: ');
      for (let i = 0; i < 17; i++) res.write(chunk);
      res.end();
    });
    const request = { jsonrpc: '2.0' as const, id: 1, method: 'tools/list', params: {} };
    await expect(post(wire, endless, request, AbortSignal.timeout(10_000), () => undefined)).rejects.toThrow(
      /longer than/,
    );
    const huge = await hostile((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 17; i++) res.write(chunk);
      res.end();
    });
    await expect(post(wire, huge, request, AbortSignal.timeout(10_000), () => undefined)).rejects.toThrow(
      /longer than/,
    );
  });
  it('reads events whose lines and ends are split across chunks, with either line ending', async () => {
    const parts = [
      'event: message\r\ndata: {"jsonrpc":"2.0","method":"notifications/progress",',
      '"params":{"progressToken":1,"progress":1}}\r',
      '\n\r',
      '\n: a comment\n\ndata: {"jsonrpc":"2.0","id":1,"result":{"tools":[]}}\n',
      '\n',
    ];
    const split = await hostile((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const next = () => {
        const part = parts.shift();
        if (part === undefined) return res.end();
        res.write(part);
        setTimeout(next, 20);
      };
      next();
    });
    const events: unknown[] = [];
    const request = { jsonrpc: '2.0' as const, id: 1, method: 'tools/list', params: {} };
    const answer = await post(wire, split, request, AbortSignal.timeout(10_000), (event) =>
      events.push(event),
    );
    expect(answer).toEqual({ jsonrpc: '2.0', id: 1, result: { tools: [] } });
    expect(events).toEqual([
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } },
    ]);
  });
});
