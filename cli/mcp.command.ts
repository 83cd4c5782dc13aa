import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createLogger } from '../kernel/logger.ts';
import { startSystem } from '../runtime/compose.ts';
import { parseConfig } from '../runtime/config.ts';

interface Options {
  url?: string;
  server?: string;
  actor?: string;
}

/**
 * `switchyard mcp`: the aggregate MCP endpoint over stdio, for clients that only speak stdio.
 * With `--url`, a bridge to a running gateway's Streamable HTTP endpoint; without, the whole
 * system in this process (embedded unless DATABASE_URL/NATS_URL say otherwise), its upstreams
 * reaped when stdin closes. Logs go to stderr: stdout belongs to the protocol.
 */
export async function mcpCommand(opts: Options): Promise<void> {
  const stdio = new StdioServerTransport();
  if (opts.url) {
    const path = opts.server ? `/servers/${encodeURIComponent(opts.server)}/mcp` : '/mcp';
    const http = new StreamableHTTPClientTransport(new URL(path, opts.url), {
      requestInit: { headers: opts.actor ? { 'x-switchyard-actor': opts.actor } : {} },
    });
    let closing = false;
    const shutdown = async (code: number) => {
      if (closing) return;
      closing = true;
      await http.terminateSession().catch(() => undefined);
      await http.close().catch(() => undefined);
      process.exit(code);
    };
    stdio.onmessage = (message) => {
      http.send(message).catch((e: unknown) => {
        process.stderr.write(`switchyard mcp: gateway unreachable: ${(e as Error).message}\n`);
      });
    };
    http.onmessage = (message) => void stdio.send(message);
    http.onerror = (e) => process.stderr.write(`switchyard mcp: ${e.message}\n`);
    stdio.onclose = () => void shutdown(0);
    process.stdin.on('end', () => void shutdown(0));
    await http.start();
    await stdio.start();
    return;
  }

  const config = parseConfig({ ...process.env, SWITCHYARD_ROLES: 'worker,relay,projector,runner' });
  const logger = createLogger({ level: config.logLevel, destination: 2 });
  const system = await startSystem(config, logger);
  const server = system.mcpStdioServer(opts.actor ?? 'stdio');
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
