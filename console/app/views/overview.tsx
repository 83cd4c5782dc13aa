import { useEffect, useState } from 'preact/hooks';
import { useSession } from '../context.ts';
import { type Resource, useResource } from '../hooks.ts';
import { metricValue } from '../metrics.ts';
import { href } from '../router.ts';
import { Badge, Card, ErrorBox, Loaded, ms, PageHeader, percent, Table, Time } from '../ui.tsx';
import { LiveCalls, useLiveOverview } from './overview-live.tsx';

export interface HealthSummary {
  total: number;
  enabled: number;
  disabled: number;
  healthy: number;
  unhealthy: number;
  byState: Record<string, number>;
  servers: Array<{
    id: string;
    name: string;
    enabled: boolean;
    state: string;
    since: string | null;
    lastError: string | null;
  }>;
}

export interface WindowStats {
  servers: Array<{
    serverId: string;
    serverName: string;
    calls: number;
    errors: number;
    errorRate: number | null;
    p95Ms: number | null;
  }>;
  tools: Array<{
    serverName: string;
    tool: string;
    calls: number;
    errorRate: number | null;
    p50Ms: number | null;
    p95Ms: number | null;
  }>;
}

function ServersHealth(props: { health: Resource<HealthSummary> }) {
  const { health } = props;
  return (
    <Card title="Servers by health">
      <Loaded resource={health}>
        {(h) => {
          const attention = h.servers.filter((s) => s.enabled && s.state !== 'HEALTHY');
          return (
            <>
              <dl class="stats">
                <div>
                  <dt>servers</dt>
                  <dd>{h.total}</dd>
                </div>
                <div>
                  <dt>healthy</dt>
                  <dd>{h.healthy}</dd>
                </div>
                <div>
                  <dt>unhealthy</dt>
                  <dd>{h.unhealthy}</dd>
                </div>
                <div>
                  <dt>disabled</dt>
                  <dd>{h.disabled}</dd>
                </div>
              </dl>
              {attention.length === 0 ? (
                <p class="muted">
                  {h.total === 0 ? 'No server registered yet.' : 'Every enabled server is healthy.'}
                </p>
              ) : (
                <Table
                  caption="Servers that need attention"
                  head={['server', 'state', 'since', 'last error']}
                >
                  {attention.slice(0, 10).map((s) => (
                    <tr key={s.id}>
                      <td>
                        <a href={href('servers', s.name)}>{s.name}</a>
                      </td>
                      <td>
                        <Badge state={s.state} />
                      </td>
                      <td>
                        <Time at={s.since} />
                      </td>
                      <td>{s.lastError ?? '—'}</td>
                    </tr>
                  ))}
                </Table>
              )}
            </>
          );
        }}
      </Loaded>
    </Card>
  );
}

function SlowestTools() {
  const stats = useResource<WindowStats>('/tool-calls/stats?tools=8', 15000);
  return (
    <Card title="Slowest tools (last hour, p95)">
      <Loaded resource={stats}>
        {(s) => (
          <Table
            caption="Slowest tools in the last hour"
            head={['tool', 'calls', 'p50', 'p95', 'errors']}
            empty="No calls in the last hour."
          >
            {s.tools.map((t) => (
              <tr key={`${t.serverName}/${t.tool}`}>
                <td>
                  <a href={href('servers', t.serverName)}>{t.serverName}</a> · {t.tool}
                </td>
                <td class="num">{t.calls}</td>
                <td class="num">{ms(t.p50Ms)}</td>
                <td class="num">{ms(t.p95Ms)}</td>
                <td class="num">{percent(t.errorRate)}</td>
              </tr>
            ))}
          </Table>
        )}
      </Loaded>
    </Card>
  );
}

interface ProjectionStatus {
  name: string;
  state: string;
  lagEvents: number;
  lagMs: number;
  lastError: string | null;
}

function Lag() {
  const { api } = useSession();
  const projections = useResource<{ projections: ProjectionStatus[] }>('/projections', 5000);
  const [relay, setRelay] = useState<{ events?: number; seconds?: number; error?: Error }>();
  useEffect(() => {
    const read = () =>
      api.text('/metrics').then(
        (t) =>
          setRelay({
            events: metricValue(t, 'switchyard_relay_lag_events'),
            seconds: metricValue(t, 'switchyard_relay_lag_seconds'),
          }),
        (error: Error) => setRelay({ error }),
      );
    void read();
    const timer = setInterval(read, 5000);
    return () => clearInterval(timer);
  }, [api]);
  return (
    <Card title="Read models and relay">
      <Loaded resource={projections}>
        {(p) => (
          <Table caption="Projection lag" head={['read model', 'state', 'behind (events)', 'behind']}>
            {p.projections.map((x) => (
              <tr key={x.name}>
                <td>{x.name}</td>
                <td>
                  <Badge state={x.state} />
                </td>
                <td class="num">{x.lagEvents}</td>
                <td class="num">{ms(x.lagMs)}</td>
              </tr>
            ))}
          </Table>
        )}
      </Loaded>
      {relay?.error ? (
        <ErrorBox error={relay.error} />
      ) : relay?.events === undefined ? (
        <p class="muted">Relay: not run by this gateway (or not leading).</p>
      ) : (
        <p>
          Relay to the bus: <strong>{relay.events}</strong> events behind
          {relay.seconds ? `, oldest ${relay.seconds.toFixed(1)} s` : ''}.
        </p>
      )}
    </Card>
  );
}

interface ToolCallRow {
  id: string;
  serverName: string;
  tool: string;
  status: string;
  isError: boolean;
  startedAt: string;
  error: { code: string; message: string } | null;
}

function RecentFailures(props: { failed: Resource<{ items: ToolCallRow[] }> }) {
  const { failed } = props;
  return (
    <Card title="Recent failures">
      <Loaded resource={failed}>
        {(f) => (
          <Table caption="Recent failed tool calls" head={['when', 'tool', 'error']} empty="No failed call.">
            {f.items.map((c) => (
              <tr key={c.id}>
                <td>
                  <a href={href('calls', c.id)}>
                    <Time at={c.startedAt} />
                  </a>
                </td>
                <td>
                  {c.serverName} · {c.tool}
                </td>
                <td>{c.error ? `${c.error.code}: ${c.error.message}` : '—'}</td>
              </tr>
            ))}
          </Table>
        )}
      </Loaded>
    </Card>
  );
}

/** What an operator paged at night looks at first: health, traffic, failures, lag. */
export function Overview() {
  const health = useResource<HealthSummary>('/health/servers', 15000);
  const failed = useResource<{ items: ToolCallRow[] }>('/tool-calls?status=failed&limit=8', 30000);
  const live = useLiveOverview({ serverChanged: health.reload, callFailed: failed.reload });
  return (
    <>
      <PageHeader title="Overview" />
      <div class="grid">
        <ServersHealth health={health} />
        <Lag />
        <LiveCalls {...live} />
        <SlowestTools />
        <RecentFailures failed={failed} />
      </div>
    </>
  );
}
