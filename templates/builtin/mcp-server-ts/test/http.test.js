// End-to-end over Streamable HTTP: starts the built server with --http on a free port and checks
// sessions, the health route, DNS-rebinding protection and a clean shutdown.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Starts `node dist/index.js --http --port 0` and resolves with the URL it logs. */
async function startServer() {
  const child = spawn(process.execPath, ['dist/index.js', '--http', '--port', '0'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', MCP_TRANSPORT: '', PORT: '' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 10_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  return { child, url: new URL(url) };
}

/** A raw request, for what fetch cannot do (set the Host header). */
function rawRequest(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('Streamable HTTP', { timeout: 30_000 }, () => {
  let server;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
    }
  });

  it('answers /health', async () => {
    const res = await fetch(new URL('/health', server.url));
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, 'ok');
  });

  it('serves MCP in a session, and ends it on DELETE', async () => {
    const transport = new StreamableHTTPClientTransport(server.url);
    const client = new Client({ name: 'http-test', version: '0.0.0' });
    await client.connect(transport);
    const sessionId = transport.sessionId;
    assert.ok(sessionId, 'the server assigns a session id');

    const result = await client.callTool({ name: 'add', arguments: { a: 1.5, b: 2 } });
    assert.deepEqual(result.structuredContent, { sum: 3.5 });

    const health = await (await fetch(new URL('/health', server.url))).json();
    assert.ok(health.sessions >= 1);

    await transport.terminateSession();
    await client.close();

    const res = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 404, 'a terminated session is gone');
  });

  it('refuses a request that is neither in a session nor an initialize', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 400);
  });

  it('refuses a body that is not JSON', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{not json',
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, -32700);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const res = await rawRequest(server.url, { headers: { host: 'evil.example' } });
    assert.equal(res.status, 403);
    const fromPage = await rawRequest(new URL('/health', server.url), {
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(fromPage.status, 403);
  });

  it('shuts down cleanly on SIGTERM', async () => {
    server.child.kill('SIGTERM');
    const [code] = await once(server.child, 'exit');
    assert.equal(code, 0);
  });
});
