import { Command } from 'commander';
import type { ToolCallView } from '../projections/tool-calls/tool-calls.queries.ts';
import { UsageError } from './errors.ts';
import { type GatewayOptions, gatewayOf, withGatewayOptions } from './gateway-options.ts';
import { apiGet } from './http-client.ts';
import { type CliIo, type Exit, printJson, run } from './io.ts';
import { formatCalls } from './servers.format.ts';

interface CallsOptions extends GatewayOptions {
  server?: string;
  tool?: string;
  status?: string;
  actor?: string;
  since?: string;
  until?: string;
  limit?: string;
  json?: boolean;
}

/** The tool-call log, newest first, filtered as GET /api/v1/tool-calls filters it. */
export async function listCalls(opts: CallsOptions, io: CliIo): Promise<Exit> {
  const limit = opts.limit ?? '20';
  if (!/^[1-9][0-9]{0,2}$/.test(limit) || Number(limit) > 500) {
    throw new UsageError('--limit must be a whole number from 1 to 500');
  }
  const page = await apiGet<{ items: ToolCallView[]; nextCursor: string | null }>(
    await gatewayOf(opts),
    '/api/v1/tool-calls',
    {
      server: opts.server,
      tool: opts.tool,
      status: opts.status,
      actor: opts.actor,
      from: opts.since,
      to: opts.until,
      limit,
    },
  );
  if (opts.json) printJson(io, page.items);
  else io.stdout.write(formatCalls(page.items));
  return 0;
}

/** `switchyard calls`. */
export function callsCommand(): Command {
  return withGatewayOptions(
    new Command('calls').description('recent tool calls (the audited log), newest first'),
  )
    .option('--server <server>', 'one server, by name or id')
    .option('--tool <tool>', "one tool, by the upstream's own name")
    .option('--status <status>', 'running | succeeded | failed | abandoned')
    .option('--actor <principal>', 'calls made by this principal')
    .option('--since <instant>', 'started at or after (ISO 8601 date or date-time)')
    .option('--until <instant>', 'started before (ISO 8601 date or date-time)')
    .option('--limit <n>', 'at most n calls (default 20, at most 500)')
    .option('--json', 'print JSON')
    .action((opts) => run((io) => listCalls(opts, io)));
}
