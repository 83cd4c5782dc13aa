import { formatTable } from './table.ts';

/** The answers of /api/v1/audit/* as the CLI reads them (JSON: bigints as decimal strings). */
export interface CallRow {
  position: string;
  recordedAt: string;
  actor: string;
  serverName: string;
  tool: string;
  outcome: string;
  isError: boolean | null;
  errorCode: string | null;
  durationMs: number | null;
  arguments: Record<string, unknown>;
}

export interface ChangeRow {
  position: string;
  recordedAt: string;
  actor: string;
  type: string;
  stream: string;
  name: string | null;
}

export interface ServerAsOfJson {
  at: string;
  position: string;
  server: {
    id: string;
    name: string;
    status: string;
    enabled: boolean;
    description: string | null;
    transport: {
      type: string;
      command?: string;
      args?: string[];
      url?: string;
      env?: object;
      headers?: object;
    };
    tags: string[];
    settings: Record<string, unknown>;
    tenant: string;
    owner: string;
    registeredAt: string;
    revision: string;
    lastChange: { type: string; at: string; actor: string; position: string };
  };
  catalog: {
    status: string;
    failing: boolean;
    discoveredAt: string | null;
    tools: Array<{
      name: string;
      description: string | null;
      approved: boolean | null;
      override: object | null;
    }>;
    resources: number;
    prompts: number;
  };
  health: { status: string; since: string | null; latencyMs: number | null; error: string | null };
}

const MAX_ARGS = 60;
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Terminals show one line per row: control characters in a recorded value must not move the cursor. */
const printable = (s: string) => s.replace(/\p{Cc}/gu, ' ');

export function callsTable(rows: CallRow[], header: boolean): string {
  const lines = rows.map((r) => [
    r.recordedAt,
    r.position,
    printable(r.actor),
    printable(r.serverName),
    printable(r.tool),
    r.outcome === 'succeeded' && r.isError ? 'tool-error' : r.outcome,
    r.durationMs === null ? '' : String(r.durationMs),
    printable(clip(JSON.stringify(r.arguments), MAX_ARGS)),
  ]);
  const table = formatTable(
    ['TIME', 'POSITION', 'ACTOR', 'SERVER', 'TOOL', 'OUTCOME', 'MS', 'ARGUMENTS'],
    lines,
  );
  return header ? table : table.slice(table.indexOf('\n') + 1);
}

export function changesTable(rows: ChangeRow[], header: boolean): string {
  const lines = rows.map((r) => [
    r.recordedAt,
    r.position,
    printable(r.actor),
    r.type,
    printable(r.name ?? ''),
    r.stream,
  ]);
  const table = formatTable(['TIME', 'POSITION', 'ACTOR', 'CHANGE', 'NAME', 'STREAM'], lines);
  return header ? table : table.slice(table.indexOf('\n') + 1);
}

export function formatServerAsOf(s: ServerAsOfJson): string {
  const t = s.server.transport;
  const where = t.type === 'stdio' ? [t.command, ...(t.args ?? [])].join(' ') : (t.url ?? '');
  const secrets = Object.keys(t.env ?? t.headers ?? {});
  const lines = [
    `${s.server.name} (${s.server.id}) as of ${s.at}`,
    `  status      ${s.server.status}${s.server.status === 'active' ? (s.server.enabled ? ', enabled' : ', disabled') : ''}`,
    `  tenant      ${s.server.tenant} (owner ${s.server.owner}), registered ${s.server.registeredAt}`,
    `  transport   ${t.type} ${printable(where)}`,
    ...(secrets.length > 0
      ? [
          `  ${t.type === 'stdio' ? 'env' : 'headers'}${' '.repeat(t.type === 'stdio' ? 9 : 5)}${secrets.join(', ')} (values redacted)`,
        ]
      : []),
    `  tags        ${s.server.tags.join(', ') || '-'}`,
    `  settings    ${JSON.stringify(s.server.settings)}`,
    `  last change ${s.server.lastChange.type} by ${s.server.lastChange.actor} at ${s.server.lastChange.at} (revision ${s.server.revision})`,
    `  health      ${s.health.status}${s.health.since ? ` since ${s.health.since}` : ''}${s.health.error ? ` (${printable(s.health.error)})` : ''}`,
    `  catalog     ${s.catalog.status}${s.catalog.discoveredAt ? ` at ${s.catalog.discoveredAt}` : ''}${s.catalog.failing ? ', last discovery failing' : ''}: ${s.catalog.tools.length} tools, ${s.catalog.resources} resources, ${s.catalog.prompts} prompts`,
    ...s.catalog.tools.map(
      (tool) =>
        `    ${printable(tool.name)}${tool.approved === false ? ' (withheld: not approved)' : ''}${tool.override ? ` override ${JSON.stringify(tool.override)}` : ''}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
