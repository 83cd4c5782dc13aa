import { LineChart } from '../../chart.tsx';
import { useResource } from '../../hooks.ts';
import { href } from '../../router.ts';
import { Card, Json, Loaded, ms, percent, Table, Time } from '../../ui.tsx';

const of = (server: string, what: string) => `/servers/${encodeURIComponent(server)}/${what}`;

export function ResourcesTab(props: { server: string }) {
  const r = useResource<{
    resources: Array<{ uri: string; name: string; mimeType?: string; description?: string }>;
  }>(of(props.server, 'resources'));
  return (
    <Loaded resource={r}>
      {(d) => (
        <Table caption="Resources" head={['name', 'uri', 'type', 'description']} empty="No resource.">
          {d.resources.map((x) => (
            <tr key={x.uri}>
              <td>{x.name}</td>
              <td>
                <code>{x.uri}</code>
              </td>
              <td>{x.mimeType ?? '—'}</td>
              <td>{x.description ?? ''}</td>
            </tr>
          ))}
        </Table>
      )}
    </Loaded>
  );
}

export function PromptsTab(props: { server: string }) {
  const r = useResource<{
    prompts: Array<{
      name: string;
      title?: string;
      description?: string;
      arguments?: Array<{ name: string; required?: boolean }>;
    }>;
  }>(of(props.server, 'prompts'));
  return (
    <Loaded resource={r}>
      {(d) => (
        <Table caption="Prompts" head={['name', 'arguments', 'description']} empty="No prompt.">
          {d.prompts.map((p) => (
            <tr key={p.name}>
              <td>{p.title ? `${p.title} (${p.name})` : p.name}</td>
              <td>{(p.arguments ?? []).map((a) => `${a.name}${a.required ? '*' : ''}`).join(', ') || '—'}</td>
              <td>{p.description ?? ''}</td>
            </tr>
          ))}
        </Table>
      )}
    </Loaded>
  );
}

interface Stats {
  calls: number;
  errors: number;
  errorRate: number | null;
  running: number;
  avgMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  lastUsedAt: string | null;
}

interface Point {
  at: string;
  calls: number;
  errors: number;
  p95Ms: number | null;
}

/** The last 24 hours by the hour, empty hours as zero (the API leaves them out). */
function hourly(points: Point[]) {
  const hour = 3600;
  const end = Math.floor(Date.now() / 1000 / hour) * hour;
  const times = Array.from({ length: 24 }, (_, i) => end - (23 - i) * hour);
  const at = new Map(points.map((p) => [Math.floor(Date.parse(p.at) / 1000), p]));
  return {
    times,
    calls: times.map((t) => at.get(t)?.calls ?? 0),
    errors: times.map((t) => at.get(t)?.errors ?? 0),
    p95: times.map((t) => at.get(t)?.p95Ms ?? 0),
  };
}

export function StatsTab(props: { server: string }) {
  const since = new Date(Math.floor(Date.now() / 3600_000) * 3600_000 - 23 * 3600_000).toISOString();
  const day = useResource<Stats & { series: Point[] }>(
    `${of(props.server, 'stats')}?series=hour&since=${encodeURIComponent(since)}`,
    60000,
  );
  const all = useResource<Stats & { tools: Array<Stats & { tool: string }> }>(
    of(props.server, 'stats'),
    10000,
  );
  const h = hourly(day.data?.series ?? []);
  return (
    <Loaded resource={all}>
      {(s) => (
        <>
          <dl class="stats">
            <div>
              <dt>calls</dt>
              <dd>{s.calls}</dd>
            </div>
            <div>
              <dt>calls (24 h)</dt>
              <dd>{day.data?.calls ?? '—'}</dd>
            </div>
            <div>
              <dt>error rate</dt>
              <dd>{percent(s.errorRate)}</dd>
            </div>
            <div>
              <dt>mean</dt>
              <dd>{ms(s.avgMs)}</dd>
            </div>
            <div>
              <dt>p50</dt>
              <dd>{ms(s.p50Ms)}</dd>
            </div>
            <div>
              <dt>p95</dt>
              <dd>{ms(s.p95Ms)}</dd>
            </div>
            <div>
              <dt>running</dt>
              <dd>{s.running}</dd>
            </div>
          </dl>
          <div class="grid">
            <Card title="Calls per hour (24 h)">
              <LineChart
                label={`Calls and errors per hour over the last 24 hours: ${day.data?.calls ?? 0} calls, ${day.data?.errors ?? 0} errors`}
                times={h.times}
                series={[
                  { label: 'calls', colorVar: '--accent', values: h.calls },
                  { label: 'errors', colorVar: '--bad', values: h.errors },
                ]}
              />
            </Card>
            <Card title="p95 per hour (ms)">
              <LineChart
                label={`p95 duration per hour over the last 24 hours; over the whole day ${ms(day.data?.p95Ms)}`}
                times={h.times}
                series={[{ label: 'p95 ms', colorVar: '--warn', values: h.p95 }]}
              />
            </Card>
          </div>
          <p>
            Last used: <Time at={s.lastUsedAt} /> ·{' '}
            <a href={`${href('calls')}?server=${encodeURIComponent(props.server)}`}>its calls</a>
          </p>
          <Table
            caption="Per tool"
            head={['tool', 'calls', 'errors', 'mean', 'p50', 'p95', 'last used']}
            empty="No call yet."
          >
            {s.tools.map((t) => (
              <tr key={t.tool}>
                <td>{t.tool}</td>
                <td class="num">{t.calls}</td>
                <td class="num">{percent(t.errorRate)}</td>
                <td class="num">{ms(t.avgMs)}</td>
                <td class="num">{ms(t.p50Ms)}</td>
                <td class="num">{ms(t.p95Ms)}</td>
                <td>
                  <Time at={t.lastUsedAt} />
                </td>
              </tr>
            ))}
          </Table>
        </>
      )}
    </Loaded>
  );
}

export function HistoryTab(props: { server: string }) {
  const r = useResource<{
    items: Array<{ revision: string; type: string; recordedAt: string; actor: string; data: unknown }>;
  }>(`${of(props.server, 'history')}?limit=100`);
  return (
    <Loaded resource={r}>
      {(d) => (
        <Table caption="Configuration history" head={['rev', 'change', 'when', 'who', 'what']}>
          {d.items.map((e) => (
            <tr key={e.revision}>
              <td class="num">{e.revision}</td>
              <td>{e.type}</td>
              <td>
                <Time at={e.recordedAt} />
              </td>
              <td>
                <code>{e.actor}</code>
              </td>
              <td>
                <details>
                  <summary>data</summary>
                  <Json value={e.data} />
                </details>
              </td>
            </tr>
          ))}
        </Table>
      )}
    </Loaded>
  );
}
