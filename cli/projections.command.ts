import type { ProjectionStatusView } from '../gateway/ports.ts';
import { CliError } from './errors.ts';
import { type GatewayOptions, gatewayOf } from './gateway-options.ts';
import { apiGet, apiPost } from './http-client.ts';

/** `switchyard projections status|rebuild|quarantine|release [name] [eventId]` through the gateway. */
export async function projectionsCommand(
  action: string,
  name: string | undefined,
  eventId: string | undefined,
  opts: GatewayOptions & { json?: boolean; reason?: string },
) {
  const gateway = await gatewayOf(opts);
  if (action === 'status') {
    const { projections } = await apiGet<{ projections: ProjectionStatusView[] }>(
      gateway,
      '/api/v1/projections',
    );
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(projections, null, 2)}\n`);
      return;
    }
    const rows = projections.map((p) => [
      p.name,
      p.state,
      p.checkpoint,
      String(p.lagEvents),
      `${p.lagMs} ms`,
      String(quarantinedCount(p)),
      p.lastError ?? '',
    ]);
    printTable(
      ['PROJECTION', 'STATE', 'CHECKPOINT', 'LAG (EVENTS)', 'LAG', 'QUARANTINED', 'LAST ERROR'],
      rows,
    );
    return;
  }
  if (action === 'rebuild') {
    if (!name) throw new CliError('projections rebuild needs a projection name');
    const r = await apiPost<{ name: string; events: number; durationMs: number }>(
      gateway,
      `/api/v1/projections/${encodeURIComponent(name)}/rebuild`,
    );
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(r)}\n`
        : `rebuilt ${r.name} from ${r.events} events in ${r.durationMs} ms\n`,
    );
    return;
  }
  if (action === 'quarantine' || action === 'release') {
    if (!name || !eventId)
      throw new CliError(`projections ${action} needs a projection name and an event id`);
    if (!opts.reason) throw new CliError(`projections ${action} needs --reason (it is recorded in the log)`);
    const path =
      action === 'quarantine'
        ? `/api/v1/projections/${encodeURIComponent(name)}/quarantine`
        : `/api/v1/projections/${encodeURIComponent(name)}/quarantine/${encodeURIComponent(eventId)}/release`;
    const body = action === 'quarantine' ? { eventId, reason: opts.reason } : { reason: opts.reason };
    const r = await apiPost<{ stream: string; position: string | null }>(gateway, path, body);
    const done = action === 'quarantine' ? 'quarantined' : 'released';
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(r)}\n`
        : r.position === null
          ? `${eventId} was already ${done} for ${name}\n`
          : `${done} ${eventId} for ${name} (${r.stream}, position ${r.position})\n`,
    );
    return;
  }
  throw new CliError(`unknown action ${action} (status | rebuild | quarantine | release)`);
}

function quarantinedCount(p: ProjectionStatusView): number {
  const q = p.quarantined as { count?: unknown } | undefined;
  return typeof q?.count === 'number' ? q.count : 0;
}

export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}
