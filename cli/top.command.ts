import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import type { HealthSummary } from '../projections/health/health-summary.ts';
import type { ToolCallView } from '../projections/tool-calls/tool-calls.queries.ts';
import type { ServerStats } from '../projections/tool-stats/tool-stats.queries.ts';
import { CliError, UsageError } from './errors.ts';
import { type GatewayOptions, gatewayOf, withGatewayOptions } from './gateway-options.ts';
import { apiGet, type Gateway } from './http-client.ts';
import { type CliIo, type Exit, run } from './io.ts';
import { formatTop, type TopView } from './servers.format.ts';

interface TopOptions extends GatewayOptions {
  once?: boolean;
  interval?: string;
}

/** Servers whose stats are fetched for one screen: a screen has no room for more anyway. */
const MAX_SERVERS = 30;

/** One screen's worth, fetched in parallel; projection lag needs a platform grant, so it may be absent. */
async function snapshot(gateway: Gateway): Promise<TopView> {
  const [health, calls, projections] = await Promise.all([
    apiGet<HealthSummary>(gateway, '/api/v1/health/servers'),
    apiGet<{ items: ToolCallView[] }>(gateway, '/api/v1/tool-calls', { limit: '10' }),
    apiGet<{ projections: TopView['projections'] }>(gateway, '/api/v1/projections')
      .then((r) => r.projections)
      .catch((e: unknown) => {
        if (e instanceof CliError) return { error: e.message.split('\n')[0] ?? e.message };
        throw e;
      }),
  ]);
  const stats = new Map<string, ServerStats>();
  await Promise.all(
    health.servers.slice(0, MAX_SERVERS).map(async (s) => {
      const st = await apiGet<ServerStats>(gateway, `/api/v1/servers/${s.id}/stats`).catch(() => undefined);
      if (st) stats.set(s.id, st);
    }),
  );
  return { url: gateway.url, at: new Date().toISOString(), health, stats, calls: calls.items, projections };
}

/**
 * A live view of servers (health and call stats), the latest calls and projection lag, redrawn in
 * place every `interval` seconds until interrupted. Without a terminal (a pipe, CI), or with
 * `--once`, it prints one screen and exits.
 */
export async function top(opts: TopOptions, io: CliIo, tty = process.stdout.isTTY === true): Promise<Exit> {
  const seconds = Number(opts.interval ?? '2');
  if (!Number.isFinite(seconds) || seconds < 0.5 || seconds > 3600) {
    throw new UsageError('--interval must be a number of seconds from 0.5 to 3600');
  }
  const gateway = await gatewayOf(opts);
  if (opts.once || !tty) {
    io.stdout.write(formatTop(await snapshot(gateway)));
    return 0;
  }
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  // The alternate screen, as top(1) does: the terminal is left as it was on exit.
  io.stdout.write('\x1b[?1049h\x1b[?25l');
  try {
    while (!stop.signal.aborted) {
      let screen: string;
      try {
        screen = formatTop(await snapshot(gateway));
      } catch (e) {
        if (!(e instanceof CliError)) throw e;
        screen = `switchyard top — ${gateway.url} — ${new Date().toISOString()}\n\nerror: ${e.message}\n`;
      }
      io.stdout.write(`\x1b[H\x1b[2J${screen}\n(refreshing every ${seconds} s; Ctrl-C to quit)\n`);
      await sleep(seconds * 1000, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    io.stdout.write('\x1b[?25h\x1b[?1049l');
  }
  return 0;
}

/** `switchyard top`. */
export function topCommand(): Command {
  return withGatewayOptions(
    new Command('top').description(
      'a live view of server health, call stats, recent calls and projection lag',
    ),
  )
    .option('--once', 'print one screen and exit (also what happens without a terminal)')
    .option('--interval <seconds>', 'seconds between refreshes (default 2)')
    .action((opts) => run((io) => top(opts, io)));
}
