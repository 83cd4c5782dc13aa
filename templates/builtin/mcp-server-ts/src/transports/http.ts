import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../config.js';
import { log } from '../log.js';
import { createMcpServer, SERVER_NAME, SERVER_VERSION } from '../server.js';

/** Where MCP is served. */
export const MCP_PATH = '/mcp';
/** Liveness: 200 with the name, version and number of open sessions. */
export const HEALTH_PATH = '/health';
/** Largest JSON-RPC body accepted (the SDK's own default). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface RunningHttp {
  /** The MCP endpoint, e.g. http://127.0.0.1:3000/mcp (with the real port when 0 was asked for). */
  url: string;
  close(): Promise<void>;
}

interface Session {
  server: McpServer;
  transport: StreamableHTTPServerTransport;
  /** Requests and streams of this session still open: a session is never idle while one is. */
  open: number;
  lastActive: number;
}

/** An answer decided before the request reaches a transport. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly rpcCode = -32000,
  ) {
    super(message);
  }
}

/**
 * Streamable HTTP on node's own http module, stateful: the initialize request creates a session
 * (a transport plus its own McpServer) whose id the client sends back in `Mcp-Session-Id` on every
 * later POST, on the GET that opens its server-to-client stream, and on the DELETE that ends it.
 */
export async function runHttp(config: Config): Promise<RunningHttp> {
  const sessions = new Map<string, Session>();
  const allowedHosts = config.allowedHosts ? new Set(config.allowedHosts) : undefined;

  const httpServer = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        sendRpcError(res, error.status, error.rpcCode, error.message);
        return;
      }
      log.error(`${req.method} ${req.url} failed`, error);
      if (!res.headersSent) sendRpcError(res, 500, -32603, 'Internal server error');
      else res.end();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (allowedHosts && !hostAllowed(req, allowedHosts)) {
      throw new HttpError(403, 'Forbidden: Host or Origin header not allowed');
    }
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      sendJson(res, 200, { status: 'ok', name: SERVER_NAME, version: SERVER_VERSION, sessions: sessions.size });
      return;
    }
    if (pathname !== MCP_PATH) {
      sendJson(res, 404, { error: 'Not found', mcp: MCP_PATH });
      return;
    }
    switch (req.method) {
      case 'POST':
        return handlePost(req, res);
      case 'GET':
      case 'DELETE':
        return handleSessionRequest(req, res);
      default:
        res.setHeader('Allow', 'GET, POST, DELETE');
        throw new HttpError(405, 'Method not allowed');
    }
  }

  async function handlePost(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req);
    const sessionId = sessionIdOf(req);
    if (sessionId !== undefined) {
      await serve(findSession(sessionId), req, res, body);
      return;
    }
    if (!isInitializeRequest(body)) {
      throw new HttpError(400, 'Bad Request: no valid session id (Mcp-Session-Id) and not an initialize request');
    }
    if (sessions.size >= config.maxSessions) {
      throw new HttpError(503, 'Too many open sessions');
    }

    const server = createMcpServer();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Stored only once the id exists, so a request cannot race a half-made session.
      onsessioninitialized: (id) => {
        sessions.set(id, session);
        log.debug(`session ${id} opened (${sessions.size} open)`);
      },
    });
    const session: Session = { server, transport, open: 0, lastActive: Date.now() };
    // Fires on DELETE, on idle reaping and on shutdown alike.
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id !== undefined && sessions.delete(id)) log.debug(`session ${id} closed (${sessions.size} open)`);
    };
    await server.connect(transport);
    await serve(session, req, res, body);
  }

  async function handleSessionRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = sessionIdOf(req);
    if (sessionId === undefined) throw new HttpError(400, 'Bad Request: missing Mcp-Session-Id header');
    await serve(findSession(sessionId), req, res);
  }

  function findSession(sessionId: string): Session {
    const session = sessions.get(sessionId);
    // 404 tells the client to start over with a new initialize request.
    if (!session) throw new HttpError(404, 'Session not found', -32001);
    return session;
  }

  async function serve(session: Session, req: IncomingMessage, res: ServerResponse, body?: unknown): Promise<void> {
    session.open++;
    session.lastActive = Date.now();
    res.once('close', () => {
      session.open--;
      session.lastActive = Date.now();
    });
    await session.transport.handleRequest(req, res, body);
  }

  // Clients that vanish without a DELETE would otherwise keep their session (and its McpServer) forever.
  const reaper =
    config.sessionIdleMs > 0
      ? setInterval(
          () => {
            const cutoff = Date.now() - config.sessionIdleMs;
            for (const [id, session] of sessions) {
              if (session.open === 0 && session.lastActive < cutoff) {
                log.info(`session ${id} idle for ${config.sessionIdleMs} ms, closing`);
                session.transport.close().catch((error: unknown) => log.warn(`closing session ${id}`, error));
              }
            }
          },
          Math.min(60_000, Math.max(1000, Math.floor(config.sessionIdleMs / 2))),
        ).unref()
      : undefined;

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  httpServer.on('error', (error) => log.error('http server error', error));

  const address = httpServer.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}${MCP_PATH}`;
  log.info(`${SERVER_NAME} ${SERVER_VERSION} listening on ${url}`);
  if (!allowedHosts) {
    log.warn('Host/Origin checks are off (not bound to loopback and MCP_ALLOWED_HOSTS unset)');
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      if (reaper) clearInterval(reaper);
      await Promise.allSettled([...sessions.values()].map((s) => s.transport.close()));
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        // Open SSE streams would otherwise hold close() up forever.
        httpServer.closeAllConnections();
      });
    })();
    return closing;
  };
  return { url, close };
}

function sessionIdOf(req: IncomingMessage): string | undefined {
  const value = req.headers['mcp-session-id'];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * DNS-rebinding protection: a page on evil.example whose name is made to resolve to 127.0.0.1
 * reaches this server with `Host: evil.example`. Only the names this server is known by pass.
 */
function hostAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const host = hostnameOf(req.headers.host);
  if (host === undefined || !allowed.has(host)) return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return allowed.has(new URL(origin).hostname.toLowerCase());
  } catch {
    return false; // "null" (sandboxed pages, file://) and garbage
  }
}

function hostnameOf(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, `Request body over ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `Request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'Parse error: the body is not valid JSON', -32700);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

function sendRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}
