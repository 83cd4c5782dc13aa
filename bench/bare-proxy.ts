/**
 * The baseline a platform team compares a gateway with: a bare SDK proxy — a minimal `Server` and
 * `StreamableHTTPServerTransport` per session in front of one shared stdio `Client`, no audit, no
 * authentication, no policy — which is what the thin TypeScript aggregators amount to. Tools are
 * listed and called through; nothing else is served.
 *
 * In process for the throughput and latency figures (like the gateway it is compared with), and as
 * its own process (`node --import tsx bench/bare-proxy.ts <port> <command> [args…]`, prints
 * `listening <url>`) for its memory footprint.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export interface BareProxy {
  /** The proxy's MCP endpoint. */
  url: string;
  close(): Promise<void>;
}

export async function startBareProxy(
  upstream: { command: string; args: string[] },
  port = 0,
): Promise<BareProxy> {
  const client = new Client({ name: 'bare-proxy', version: '1' });
  await client.connect(new StdioClientTransport({ ...upstream, stderr: 'ignore' }));
  const sessions = new Map<string, StreamableHTTPServerTransport>();

  function session(): StreamableHTTPServerTransport {
    const server = new Server({ name: 'bare-proxy', version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, (request) => client.listTools(request.params));
    server.setRequestHandler(CallToolRequestSchema, (request) => client.callTool(request.params));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    void server.connect(transport);
    return transport;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    const transport = known ?? (id === undefined ? session() : undefined);
    if (!transport) {
      res.writeHead(404).end();
      return;
    }
    await transport.handleRequest(req, res, body);
  }

  const http = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const address = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/mcp`,
    async close() {
      await Promise.allSettled([...sessions.values()].map((t) => t.close()));
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await client.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [port, command, ...args] = process.argv.slice(2);
  if (!command) throw new Error('usage: bare-proxy.ts <port> <command> [args…]');
  const proxy = await startBareProxy({ command, args }, Number(port));
  process.stdout.write(`listening ${proxy.url}\n`);
  process.once('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
}
