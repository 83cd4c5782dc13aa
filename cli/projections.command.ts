import type { ProjectionStatusView } from '../gateway/deps.ts';
import { CliError } from './errors.ts';
import { type GatewayOptions, gatewayOf } from './gateway-options.ts';
import { apiGet, apiPost } from './http-client.ts';

/** `switchyard projections status|rebuild [name]` through the gateway. */
export async function projectionsCommand(
  action: string,
  name: string | undefined,
  opts: GatewayOptions & { json?: boolean },
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
      p.lastError ?? '',
    ]);
    printTable(['PROJECTION', 'STATE', 'CHECKPOINT', 'LAG (EVENTS)', 'LAG', 'LAST ERROR'], rows);
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
  throw new CliError(`unknown action ${action} (status | rebuild)`);
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
