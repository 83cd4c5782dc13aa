import { Command } from 'commander';
import type { ServerChangeView } from '../projections/servers/server-history.ts';
import type { ServerDetailView, ServerPage } from '../projections/servers/servers.queries.ts';
import type { InstanceView, ServerLogLine } from '../runners/runtime-views.port.ts';
import { CliError, UsageError } from './errors.ts';
import { type GatewayOptions, gatewayOf, withGatewayOptions } from './gateway-options.ts';
import { apiGet, apiUrl, authorizedFetch, fetchGateway, type Gateway, readJson } from './http-client.ts';
import { type CliIo, type Exit, printJson, run } from './io.ts';
import { ndjsonLines } from './ndjson.ts';
import {
  formatHistory,
  formatLogLine,
  formatServerList,
  formatServerShow,
  type ServerShowView,
} from './servers.format.ts';

interface JsonOption extends GatewayOptions {
  json?: boolean;
}

const serverPath = (server: string, rest = '') => `/api/v1/servers/${encodeURIComponent(server)}${rest}`;

function positiveInt(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,4}$/.test(value.trim())) throw new UsageError(`${name} must be a whole number from 1`);
  return value.trim();
}

/** Every server the caller may read, page after page. */
export async function listServers(opts: JsonOption & { all?: boolean }, io: CliIo): Promise<Exit> {
  const gateway = await gatewayOf(opts);
  const items: ServerDetailView[] = [];
  let cursor: string | undefined;
  do {
    const page = await apiGet<ServerPage>(gateway, '/api/v1/servers', {
      limit: '500',
      cursor,
      ...(opts.all && { includeRemoved: 'true' }),
    });
    items.push(...(page.items as ServerDetailView[]));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  if (opts.json) printJson(io, items);
  else io.stdout.write(formatServerList(items));
  return 0;
}

/** Instances are asked of the runners: a gateway that cannot reach them still shows the rest. */
async function instancesOf(gateway: Gateway, server: string): Promise<ServerShowView['instances']> {
  try {
    return await apiGet<{ instances: InstanceView[]; unreachable: string[] }>(
      gateway,
      serverPath(server, '/instances'),
    );
  } catch (e) {
    if (e instanceof CliError) return { error: e.message };
    throw e;
  }
}

/** The server, its stats, its instances now, and what it offers. */
export async function showServer(server: string, opts: JsonOption, io: CliIo): Promise<Exit> {
  const gateway = await gatewayOf(opts);
  const detail = await apiGet<ServerDetailView>(gateway, serverPath(server));
  const [instances, tools, resources, prompts] = await Promise.all([
    instancesOf(gateway, detail.id),
    apiGet<{ tools: Array<{ name: string; description?: string }> }>(
      gateway,
      serverPath(detail.id, '/tools'),
    ),
    apiGet<{ resources: unknown[] }>(gateway, serverPath(detail.id, '/resources')).catch(() => ({
      resources: [],
    })),
    apiGet<{ prompts: unknown[] }>(gateway, serverPath(detail.id, '/prompts')).catch(() => ({ prompts: [] })),
  ]);
  const view: ServerShowView = {
    server: detail,
    instances,
    tools: tools.tools,
    resources: resources.resources.length,
    prompts: prompts.prompts.length,
  };
  if (opts.json) printJson(io, { ...detail, instances, tools: tools.tools });
  else io.stdout.write(formatServerShow(view));
  return 0;
}

/** The recent stderr; with `follow`, the lines that come after too, until interrupted. */
export async function serverLogs(
  server: string,
  opts: JsonOption & { follow?: boolean; limit?: string },
  io: CliIo,
): Promise<Exit> {
  const gateway = await gatewayOf(opts);
  const limit = positiveInt('--limit', opts.limit);
  const print = (l: ServerLogLine) =>
    io.stdout.write(opts.json ? `${JSON.stringify(l)}\n` : formatLogLine(l));
  if (!opts.follow) {
    const page = await apiGet<{ lines: ServerLogLine[]; unreachable: string[] }>(
      gateway,
      serverPath(server, '/logs'),
      {
        limit,
      },
    );
    for (const l of page.lines) print(l);
    if (page.unreachable.length > 0)
      io.stderr.write(`runners that did not answer: ${page.unreachable.join(', ')}\n`);
    return 0;
  }
  const url = apiUrl(gateway.url, serverPath(server, '/logs'), { follow: 'true', limit });
  const res = await fetchGateway(authorizedFetch(gateway), url, {
    headers: { accept: 'application/x-ndjson' },
  });
  if (!res.ok || !res.body) await readJson(res);
  for await (const raw of ndjsonLines(res.body as AsyncIterable<Uint8Array>)) {
    const line = raw as { type?: string; status?: number; body?: { detail?: string } } & ServerLogLine;
    if (line.type === 'line') print(line);
    else if (line.type === 'error')
      throw new CliError(`following stopped: ${line.body?.detail ?? line.status}`);
  }
  return 0;
}

/** Who changed the server, when, and what (secrets redacted by the gateway). */
export async function serverHistory(server: string, opts: JsonOption, io: CliIo): Promise<Exit> {
  const gateway = await gatewayOf(opts);
  const items: ServerChangeView[] = [];
  let from: string | undefined;
  do {
    const page = await apiGet<{ items: ServerChangeView[]; nextRevision: string | null }>(
      gateway,
      serverPath(server, '/history'),
      { limit: '500', fromRevision: from },
    );
    items.push(...page.items);
    from = page.nextRevision ?? undefined;
  } while (from !== undefined);
  if (opts.json) printJson(io, items);
  else io.stdout.write(formatHistory(items));
  return 0;
}

/** `switchyard servers list|show|logs|history`. */
export function serversCommand(): Command {
  const servers = new Command('servers').description(
    'registered servers: list them, show one (stats, instances, tools), its stderr, its history',
  );
  withGatewayOptions(servers.command('list'))
    .description('servers the caller may read, with their health')
    .option('--all', 'removed servers too')
    .option('--json', 'print JSON')
    .action((opts) => run((io) => listServers(opts, io)));
  withGatewayOptions(servers.command('show'))
    .description('one server: configuration (secrets redacted), health, call stats, instances, tools')
    .argument('<server>', 'name or id')
    .option('--json', 'print JSON')
    .action((server, opts) => run((io) => showServer(server, opts, io)));
  withGatewayOptions(servers.command('logs'))
    .description("a server's recent stderr from every runner (secrets redacted)")
    .argument('<server>', 'name or id')
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--limit <n>', 'at most the last n lines (default 200)')
    .option('--json', 'print JSON lines')
    .action((server, opts) => run((io) => serverLogs(server, opts, io)));
  withGatewayOptions(servers.command('history'))
    .description("a server's configuration history from its stream (who, when, what)")
    .argument('<server>', 'name or id')
    .option('--json', 'print JSON')
    .action((server, opts) => run((io) => serverHistory(server, opts, io)));
  return servers;
}
