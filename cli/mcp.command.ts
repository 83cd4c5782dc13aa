import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { AppError } from '../kernel/errors.ts';
import { createLogger } from '../kernel/logger.ts';
import type { Principal } from '../kernel/principal.ts';
import { type System, startSystem } from '../runtime/compose.ts';
import { type Config, ConfigError, parseConfig } from '../runtime/config.ts';
import { CliError, problemError } from './errors.ts';
import { gatewayOf, readAdminKey } from './gateway-options.ts';

interface Options {
  url?: string;
  server?: string;
  token?: string;
  dataDir?: string;
  /** The aggregate endpoint's prefix mode (always, collisions, never). */
  prefix?: string;
}

/**
 * `switchyard mcp`: the aggregate MCP endpoint over stdio, for clients that only speak stdio.
 * With `--url`, a bridge to a running gateway's Streamable HTTP endpoint; without, the whole
 * system in this process (embedded unless DATABASE_URL/NATS_URL say otherwise), its upstreams
 * reaped when stdin closes. Either way the calls are made as the credential's principal. Logs go
 * to stderr: stdout belongs to the protocol.
 */
export async function mcpCommand(opts: Options): Promise<void> {
  if (opts.url) await bridge(opts.url, opts);
  else await inProcess(opts);
}

async function bridge(url: string, opts: Options): Promise<void> {
  const gateway = await gatewayOf({ ...opts, url });
  const stdio = new StdioServerTransport();
  const path = opts.server
    ? `/servers/${encodeURIComponent(opts.server)}/mcp`
    : `/mcp${opts.prefix ? `?prefix=${encodeURIComponent(opts.prefix)}` : ''}`;
  const http = new StreamableHTTPClientTransport(new URL(path, url), {
    requestInit: {
      headers: gateway.token === undefined ? {} : { authorization: `Bearer ${gateway.token}` },
    },
  });
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await http.terminateSession().catch(() => undefined);
    await http.close().catch(() => undefined);
    process.exit(code);
  };
  // The SDK both calls onerror and rejects the send with the same failure: say it once.
  let last: string | undefined;
  const report = (e: unknown) => {
    const line = `switchyard mcp: ${bridgeFailure(e)}\n`;
    if (line !== last) process.stderr.write(line);
    last = line;
  };
  stdio.onmessage = (message) => {
    http.send(message).catch((e: unknown) => {
      report(e);
      // Without a credential the gateway accepts, every later message would fail the same way.
      if (e instanceof StreamableHTTPError && e.code === 401) void shutdown(1);
    });
  };
  http.onmessage = (message) => void stdio.send(message);
  http.onerror = report;
  stdio.onclose = () => void shutdown(0);
  process.stdin.on('end', () => void shutdown(0));
  await http.start();
  await stdio.start();
}

/** A refusal from the gateway as the other commands print it (detail, code, what to do); else why. */
export function bridgeFailure(e: unknown): string {
  if (!(e instanceof StreamableHTTPError) || e.code === undefined || e.code < 400) {
    return `gateway unreachable: ${(e as Error).message}`;
  }
  // The SDK's message ends with the answer's body: a problem document, when the gateway refused.
  const text = e.message.replace(/^Streamable HTTP error: /, '');
  let body: unknown = text;
  const brace = text.indexOf('{');
  if (brace !== -1) {
    try {
      body = JSON.parse(text.slice(brace));
    } catch {
      // not a problem document: keep the text
    }
  }
  return problemError(e.code, '', body).message;
}

async function inProcess(opts: Options): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, SWITCHYARD_ROLES: 'worker,relay,projector,runner' };
  if (opts.dataDir !== undefined) env.SWITCHYARD_DATA_DIR = opts.dataDir;
  if (opts.prefix !== undefined) env.SWITCHYARD_PREFIX_MODE = opts.prefix;
  let config: Config;
  try {
    config = parseConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message);
    throw e;
  }
  const logger = createLogger({ level: config.logLevel, destination: 2 });
  const system = await startSystem(config, logger);
  let principal: Principal;
  try {
    principal = await principalOf(system, config, opts.token);
  } catch (e) {
    await system.stop();
    throw e;
  }
  const server = system.mcpStdioServer(principal);
  const stdio = new StdioServerTransport();
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await server.close().catch(() => undefined);
    await system.stop();
    process.exit(0);
  };
  stdio.onclose = () => void shutdown();
  process.stdin.on('end', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
  await server.connect(stdio);
}

/**
 * Who the in-process calls are made as: the development principal when authentication is off,
 * else the principal of --token, else of the administrator key. That key is looked for only now,
 * after the system started: a first start is what creates it.
 */
async function principalOf(system: System, config: Config, token: string | undefined): Promise<Principal> {
  if (config.auth.mode === 'off') return system.access.gatewayAuth.devPrincipal;
  const credential = token?.trim() || system.access.bootstrapKey || (await readAdminKey(config.dataDir));
  if (!credential) {
    throw new CliError(
      'no credential to make the MCP calls with: pass --token <API key or access token> (or set SWITCHYARD_TOKEN), ' +
        `or keep the first start's key in ${config.dataDir}/admin.key (--data-dir, SWITCHYARD_DATA_DIR)`,
    );
  }
  try {
    return await system.access.resolver.resolveToken(credential);
  } catch (e) {
    if (e instanceof AppError) throw new CliError(`the credential was refused: ${e.message} (${e.code})`);
    throw e;
  }
}
