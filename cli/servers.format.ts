import type { HealthSummary } from '../projections/health/health-summary.ts';
import type { ServerChangeView } from '../projections/servers/server-history.ts';
import type { ServerDetailView, ServerView } from '../projections/servers/servers.queries.ts';
import type { ToolCallView } from '../projections/tool-calls/tool-calls.queries.ts';
import type { ServerStats } from '../projections/tool-stats/tool-stats.queries.ts';
import type { InstanceView, ServerLogLine } from '../runners/runtime-views.port.ts';
import { formatTable } from './table.ts';

/** What `servers show` gathers: the server, its instances now, and what it offers. */
export interface ServerShowView {
  server: ServerDetailView;
  instances: { instances: InstanceView[]; unreachable: string[] } | { error: string };
  tools: Array<{ name: string; description?: string }>;
  resources: number;
  prompts: number;
}

const dash = (v: string | number | null | undefined) =>
  v === null || v === undefined || v === '' ? '-' : String(v);

/** 1234567 ms → `20m34s`; the two largest units. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${m % 60}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${Math.round(v)} ms`);
const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '-' : `${(v * 100).toFixed(v < 0.1 && v > 0 ? 1 : 0)}%`;

export function formatServerList(servers: ServerView[]): string {
  if (servers.length === 0) return 'no servers\n';
  return formatTable(
    ['NAME', 'TRANSPORT', 'ENABLED', 'HEALTH', 'SINCE', 'TAGS', 'ID'],
    servers.map((s) => [
      s.name,
      s.transportType,
      s.enabled ? 'yes' : 'no',
      s.enabled ? (s.health.status ?? 'UNCHECKED') : 'DISABLED',
      dash(s.health.since),
      s.tags.join(',') || '-',
      s.id,
    ]),
  );
}

export function formatStats(stats: ServerStats): string {
  return [
    `calls        ${stats.calls} finished, ${stats.running} running`,
    `errors       ${stats.errors} (${pct(stats.errorRate)})`,
    `time         mean ${ms(stats.avgMs)}, p50 ${ms(stats.p50Ms)}, p95 ${ms(stats.p95Ms)}`,
    `last used    ${dash(stats.lastUsedAt)}`,
  ].join('\n');
}

export function formatInstances(instances: InstanceView[]): string {
  if (instances.length === 0) return 'no instance running\n';
  return formatTable(
    ['RUNNER', '#', 'PID', 'STATE', 'UPTIME', 'RESTARTS', 'IN FLIGHT', 'OWN SESSIONS', 'LAST EXIT'],
    instances.map((i) => [
      i.runner,
      String(i.index),
      dash(i.pid),
      i.state,
      formatDuration(i.uptimeMs),
      String(i.restarts),
      String(i.inFlight),
      dash(i.callerSessions),
      i.lastExit ? `${i.lastExit.at} ${i.lastExit.reason}`.slice(0, 120) : '-',
    ]),
  );
}

export function formatServerShow(v: ServerShowView): string {
  const s = v.server;
  const transport =
    s.transport.type === 'stdio'
      ? `stdio: ${s.transport.command} ${s.transport.args.join(' ')}`
      : `${s.transport.type}: ${s.transport.url}`;
  const lines = [
    `name         ${s.name}`,
    `id           ${s.id}`,
    `description  ${dash(s.description)}`,
    `transport    ${transport}`,
    `enabled      ${s.enabled ? 'yes' : 'no'}`,
    `health       ${s.health.status ?? 'UNCHECKED'}${s.health.since ? ` since ${s.health.since}` : ''}${
      s.health.lastError ? ` (${s.health.lastError})` : ''
    }`,
    `tenant       ${s.tenant} (owner ${s.owner})`,
    `revision     ${s.revision}, updated ${s.updatedAt}`,
    formatStats(s.stats),
    `offers       ${v.tools.length} tools, ${v.resources} resources, ${v.prompts} prompts`,
    '',
    'INSTANCES',
  ];
  const instances =
    'error' in v.instances
      ? `not shown: ${v.instances.error}\n`
      : formatInstances(v.instances.instances) +
        (v.instances.unreachable.length > 0
          ? `runners that did not answer: ${v.instances.unreachable.join(', ')}\n`
          : '');
  const tools =
    v.tools.length === 0
      ? 'none the caller may call\n'
      : formatTable(
          ['TOOL', 'DESCRIPTION'],
          v.tools.map((t) => [t.name, (t.description ?? '').split('\n')[0]!.slice(0, 80)]),
        );
  return `${lines.join('\n')}\n${instances}\nTOOLS\n${tools}`;
}

/** One stderr line as `tail` would show it, with where it came from. */
export function formatLogLine(l: ServerLogLine): string {
  return `${l.at} ${l.runner} pid ${l.pid} | ${l.line}\n`;
}

export function formatHistory(items: ServerChangeView[]): string {
  if (items.length === 0) return 'no history\n';
  return formatTable(
    ['REV', 'WHEN', 'EVENT', 'ACTOR', 'CHANGES'],
    items.map((e) => {
      const { serverId: _id, ...rest } = e.data as Record<string, unknown>;
      return [e.revision, e.recordedAt, e.type, e.actor, JSON.stringify(rest).slice(0, 100)];
    }),
  );
}

export function formatCalls(calls: ToolCallView[]): string {
  if (calls.length === 0) return 'no calls\n';
  return formatTable(
    ['STARTED', 'SERVER', 'TOOL', 'STATUS', 'DURATION', 'VIA', 'ACTOR', 'ERROR'],
    calls.map((c) => [
      c.startedAt,
      c.serverName,
      c.tool,
      c.isError ? `${c.status} (isError)` : c.status,
      ms(c.durationMs),
      c.via,
      c.actor,
      c.error ? `${c.error.code}: ${c.error.message}`.slice(0, 80) : '-',
    ]),
  );
}

/** What `switchyard top` shows on one screen. */
export interface TopView {
  url: string;
  at: string;
  health: HealthSummary;
  stats: Map<string, ServerStats>;
  calls: ToolCallView[];
  /** Projection lag, or why it is not shown (it needs a platform grant). */
  projections: Array<{ name: string; state: string; lagEvents: number; lagMs: number }> | { error: string };
}

export function formatTop(v: TopView): string {
  const h = v.health;
  const states = Object.entries(h.byState)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  const head = [
    `switchyard top — ${v.url} — ${v.at}`,
    `servers: ${h.total} total, ${h.healthy} healthy, ${h.unhealthy} unhealthy, ${h.disabled} disabled${states ? ` (${states})` : ''}`,
    '',
  ].join('\n');
  const servers =
    h.servers.length === 0
      ? 'no servers\n'
      : formatTable(
          ['SERVER', 'STATE', 'CALLS', 'ERRORS', 'MEAN', 'P50', 'P95', 'LAST USED', 'LAST ERROR'],
          h.servers.map((s) => {
            const st = v.stats.get(s.id);
            return [
              s.name,
              s.state,
              st ? String(st.calls) : '-',
              pct(st?.errorRate),
              ms(st?.avgMs),
              ms(st?.p50Ms),
              ms(st?.p95Ms),
              dash(st?.lastUsedAt),
              (s.lastError ?? '-').slice(0, 60),
            ];
          }),
        );
  const lag =
    'error' in v.projections
      ? `projection lag: not shown (${v.projections.error})\n`
      : formatTable(
          ['PROJECTION', 'STATE', 'LAG (EVENTS)', 'LAG'],
          v.projections.map((p) => [p.name, p.state, String(p.lagEvents), `${p.lagMs} ms`]),
        );
  return `${head}${servers}\nRECENT CALLS\n${formatCalls(v.calls)}\n${lag}`;
}
