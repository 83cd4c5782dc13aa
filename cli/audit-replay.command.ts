import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { type Command, Option } from 'commander';
import {
  type CallRow,
  type ChangeRow,
  callsTable,
  changesTable,
  formatServerAsOf,
  type ServerAsOfJson,
} from './audit-replay.format.ts';
import { UsageError } from './errors.ts';
import { type GatewayOptions, gatewayOf, withGatewayOptions } from './gateway-options.ts';
import { apiGet, apiUrl, authorizedFetch, fetchGateway, type Gateway, readJson } from './http-client.ts';

type Format = 'table' | 'ndjson' | 'csv';

interface RangeOptions extends GatewayOptions {
  from?: string;
  to?: string;
  after?: string;
  limit?: string;
  format: Format;
  output?: string;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A time as the commands take it: ISO-8601 (`2026-12-07T08:00:00Z`), `now`, or a time ago (`-30m`,
 * `-2h`, `-7d`), sent as ISO-8601.
 */
export function parseTime(value: string, option: string, now = new Date()): string {
  if (value === 'now') return now.toISOString();
  const ago = /^-(\d{1,6})([smhd])$/.exec(value);
  if (ago) return new Date(now.getTime() - Number(ago[1]) * UNITS[ago[2]!]!).toISOString();
  const t = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t.getTime())) {
    throw new UsageError(
      `${option} ${value}: give an ISO-8601 time (2026-12-07T08:00:00Z), now, or -30m / -2h / -7d`,
    );
  }
  return t.toISOString();
}

const formatOption = () =>
  new Option('--format <format>', 'table (paged through the JSON API), or ndjson / csv (streamed export)')
    .choices(['table', 'ndjson', 'csv'])
    .default('table');

function withRange(command: Command): Command {
  return withGatewayOptions(command)
    .option('--from <time>', 'recorded at or after (ISO-8601, now, or -30m / -2h / -7d)')
    .option('--to <time>', 'recorded before (same forms)')
    .option('--after <position>', 'start after this global position (the cursor of an earlier answer)')
    .option('--limit <n>', 'at most this many rows')
    .addOption(formatOption())
    .option('--output <file>', 'write the export to a file instead of standard output');
}

function rangeQuery(opts: RangeOptions): Record<string, string | undefined> {
  if (opts.limit !== undefined && !/^[1-9]\d{0,8}$/.test(opts.limit)) {
    throw new UsageError(`--limit ${opts.limit}: give a whole number from 1`);
  }
  if (opts.after !== undefined && !/^\d{1,19}$/.test(opts.after)) {
    throw new UsageError(`--after ${opts.after}: give a global position (a non-negative integer)`);
  }
  return {
    from: opts.from === undefined ? undefined : parseTime(opts.from, '--from'),
    to: opts.to === undefined ? undefined : parseTime(opts.to, '--to'),
    after: opts.after,
  };
}

/** `switchyard audit server | calls | changes`: questions answered from the log (docs/audit.md). */
export function addReplayCommands(audit: Command): void {
  withGatewayOptions(audit.command('server <name>'))
    .description('a server as of a time: its configuration (secrets redacted), tools and health')
    .requiredOption('--at <time>', 'as of this time (ISO-8601, now, or -30m / -2h / -7d)')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: GatewayOptions & { at: string; json?: boolean }) => {
      const gateway = await gatewayOf(opts);
      const at = parseTime(opts.at, '--at');
      const answer = await apiGet<ServerAsOfJson>(
        gateway,
        `/api/v1/audit/servers/${encodeURIComponent(name)}`,
        {
          at,
        },
      );
      process.stdout.write(opts.json ? `${JSON.stringify(answer, null, 2)}\n` : formatServerAsOf(answer));
    });

  withRange(audit.command('calls'))
    .description('every tool call, with its (redacted) arguments and outcome: by actor, server, tool, time')
    .option('--actor <principal>', 'only calls by this principal id')
    .option('--server <name>', 'only calls to this server (name at the time, or id)')
    .option('--tool <tool>', 'only calls of this tool')
    .action(async (opts: RangeOptions & { actor?: string; server?: string; tool?: string }) => {
      const query = { ...rangeQuery(opts), actor: opts.actor, server: opts.server, tool: opts.tool };
      await run(await gatewayOf(opts), '/api/v1/audit/calls', query, opts, (rows: CallRow[], first) =>
        callsTable(rows, first),
      );
    });

  withRange(audit.command('changes'))
    .description('who changed what, when: servers, access, toolsets, template sources, deployments')
    .option('--actor <principal>', 'only changes by this principal id')
    .option('--category <list>', 'only these categories, comma-separated (server, principal, grant, …)')
    .option('--stream <stream>', 'only this stream, e.g. server-<uuid>')
    .option('--system', 'include what Switchyard did on its own (system:* actors)')
    .action(
      async (
        opts: RangeOptions & { actor?: string; category?: string; stream?: string; system?: boolean },
      ) => {
        const query = {
          ...rangeQuery(opts),
          actor: opts.actor,
          category: opts.category,
          stream: opts.stream,
          system: opts.system ? 'true' : undefined,
        };
        await run(await gatewayOf(opts), '/api/v1/audit/changes', query, opts, (rows: ChangeRow[], first) =>
          changesTable(rows, first),
        );
      },
    );
}

/** Table: JSON pages followed by their cursor, printed as they come. NDJSON/CSV: the gateway's stream, piped. */
async function run<T>(
  gateway: Gateway,
  path: string,
  query: Record<string, string | undefined>,
  opts: RangeOptions,
  table: (rows: T[], first: boolean) => string,
): Promise<void> {
  const out: Writable = opts.output ? createWriteStream(opts.output) : process.stdout;
  try {
    if (opts.format === 'table') {
      let left = opts.limit === undefined ? Number.POSITIVE_INFINITY : Number(opts.limit);
      let after = query.after;
      let first = true;
      let shown = 0;
      for (;;) {
        const limit = String(Math.min(left, 500));
        const page = await apiGet<{ items: T[]; next: string; hasMore: boolean }>(gateway, path, {
          ...query,
          after,
          limit,
        });
        if (page.items.length > 0 || first) await write(out, table(page.items, first));
        first = false;
        shown += page.items.length;
        left -= page.items.length;
        if (!page.hasMore || left <= 0) {
          if (page.hasMore) await write(process.stderr, `more: --after ${page.next}\n`);
          break;
        }
        after = page.next;
      }
      if (shown === 0) await write(process.stderr, 'no answers\n');
      return;
    }
    const url = apiUrl(gateway.url, path, { ...query, limit: opts.limit, format: opts.format });
    const res = await fetchGateway(authorizedFetch(gateway), url, { method: 'GET' });
    if (!res.ok || !res.body) {
      await readJson(res);
      return;
    }
    for await (const chunk of res.body) await write(out, chunk);
  } finally {
    if (opts.output) {
      out.end();
      await once(out, 'close');
    }
  }
}

async function write(out: Writable, chunk: string | Uint8Array): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}
