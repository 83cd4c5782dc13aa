import { useCallback } from 'preact/hooks';
import { holds, useSession } from '../../context.ts';
import { useAction, useResource } from '../../hooks.ts';
import { Badge, Card, duration, ErrorBox, Loaded, ms, Table, Time } from '../../ui.tsx';
import { REFRESH_MS } from './refresh.ts';

interface QuarantinedEvent {
  eventId: string;
  position: string;
  eventType: string;
  stream: string;
  reason: string;
  error: string | null;
  actor: string;
  quarantinedAt: string;
}

interface ProjectionStatus {
  name: string;
  version: number;
  state: 'stopped' | 'catching-up' | 'live' | 'rebuilding' | 'failed';
  checkpoint: string;
  lagEvents: number;
  lagMs: number;
  lastError: string | null;
  failedEvent: { id: string; position: string } | null;
  quarantined: { count: number; events: QuarantinedEvent[] };
  runningHere: boolean;
}

const TONE: Record<ProjectionStatus['state'], string> = {
  live: 'live',
  'catching-up': 'running',
  rebuilding: 'running',
  failed: 'failed',
  stopped: 'STOPPED',
};

type Decision =
  | { kind: 'rebuild'; name: string }
  | { kind: 'quarantine'; name: string; eventId: string; reason: string }
  | { kind: 'release'; name: string; eventId: string; reason: string };

const lag = (v: number) => (v < 1000 ? ms(v) : duration(v));

/** GET /projections; rebuild, quarantine the event a projection stopped on, release a quarantined one. */
export function Projections() {
  const { api, me } = useSession();
  const projections = useResource<{ projections: ProjectionStatus[] }>('/projections', REFRESH_MS);
  const act = useAction(
    useCallback(
      async (d: Decision) => {
        const base = `/projections/${encodeURIComponent(d.name)}`;
        let said: string;
        if (d.kind === 'rebuild') {
          const r = await api.send<{ events: number; durationMs: number }>('POST', `${base}/rebuild`);
          said = `Rebuilt ${d.name}: ${r.events} event${r.events === 1 ? '' : 's'} in ${lag(r.durationMs)}.`;
        } else if (d.kind === 'quarantine') {
          await api.send('POST', `${base}/quarantine`, { eventId: d.eventId, reason: d.reason });
          said = `Event ${d.eventId} quarantined: ${d.name} skips it from now on.`;
        } else {
          await api.send('POST', `${base}/quarantine/${encodeURIComponent(d.eventId)}/release`, {
            reason: d.reason,
          });
          said = `Event ${d.eventId} released: the next rebuild of ${d.name} applies it again.`;
        }
        projections.reload();
        return said;
      },
      [api, projections.reload],
    ),
  );
  const manage = holds(me, 'mcp:manage');
  const rebuild = (name: string) =>
    confirm(`Rebuild ${name} from the event log? Its tables are rebuilt aside and swapped in when done.`) &&
    void act.start({ kind: 'rebuild', name });
  const decide = (kind: 'quarantine' | 'release', name: string, eventId: string) => {
    const question =
      kind === 'quarantine'
        ? `Quarantine event ${eventId}: ${name} will skip it, live and in every rebuild. Why?`
        : `Release event ${eventId}: the next rebuild of ${name} applies it again. Why?`;
    const reason = prompt(question)?.trim();
    if (reason) void act.start({ kind, name, eventId, reason });
  };
  return (
    <Card title="Projections (read models)" class="wide">
      <ErrorBox error={act.error} />
      <p role="status" class={act.result ? 'notice' : 'sr-only'}>
        {act.pending ? 'Working…' : (act.result ?? '')}
      </p>
      <Loaded resource={projections}>
        {({ projections: items }) => (
          <>
            <Table
              caption="Projections: state, checkpoint and lag"
              head={['Name', 'State', 'Checkpoint', 'Lag (events)', 'Lag (time)', 'Here', 'Last error', '']}
            >
              {items.map((p) => (
                <tr key={p.name}>
                  <td>
                    {p.name} <span class="muted">v{p.version}</span>
                  </td>
                  <td>
                    <Badge state={TONE[p.state]} label={p.state} />
                  </td>
                  <td class="num">
                    <code>{p.checkpoint}</code>
                  </td>
                  <td class="num">{p.lagEvents}</td>
                  <td class="num">{lag(p.lagMs)}</td>
                  <td>{p.runningHere ? 'runs here' : 'elsewhere'}</td>
                  <td>
                    {p.lastError ?? <span class="muted">none</span>}
                    {p.failedEvent && (
                      <div class="muted">
                        stopped on event <code>{p.failedEvent.id}</code> at {p.failedEvent.position}
                      </div>
                    )}
                  </td>
                  <td class="sys-actions">
                    {manage && (
                      <>
                        <button
                          type="button"
                          class="secondary"
                          disabled={act.pending}
                          aria-label={`Rebuild projection ${p.name}`}
                          onClick={() => rebuild(p.name)}
                        >
                          Rebuild
                        </button>
                        {p.failedEvent && (
                          <button
                            type="button"
                            class="danger"
                            disabled={act.pending}
                            aria-label={`Quarantine event ${p.failedEvent.id} of projection ${p.name}`}
                            onClick={() => decide('quarantine', p.name, p.failedEvent!.id)}
                          >
                            Quarantine event
                          </button>
                        )}
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </Table>
            <Quarantined
              items={items}
              manage={manage}
              pending={act.pending}
              onRelease={(n, id) => decide('release', n, id)}
            />
          </>
        )}
      </Loaded>
    </Card>
  );
}

function Quarantined(props: {
  items: ProjectionStatus[];
  manage: boolean;
  pending: boolean;
  onRelease: (projection: string, eventId: string) => void;
}) {
  const rows = props.items.flatMap((p) => p.quarantined.events.map((e) => ({ projection: p.name, e })));
  return (
    <>
      <h3 class="sys-subhead">Quarantined events ({rows.length})</h3>
      <Table
        caption="Events projections skip"
        head={['Projection', 'Event', 'Type', 'Stream', 'Why', 'Failed with', 'By', 'When', '']}
        empty="No quarantined event."
      >
        {rows.map(({ projection, e }) => (
          <tr key={`${projection}-${e.eventId}`}>
            <td>{projection}</td>
            <td>
              <code>{e.eventId}</code> <span class="muted">at {e.position}</span>
            </td>
            <td>{e.eventType}</td>
            <td>
              <code>{e.stream}</code>
            </td>
            <td>{e.reason}</td>
            <td>{e.error ?? <span class="muted">—</span>}</td>
            <td>{e.actor}</td>
            <td>
              <Time at={e.quarantinedAt} />
            </td>
            <td>
              {props.manage && (
                <button
                  type="button"
                  class="secondary"
                  disabled={props.pending}
                  aria-label={`Release event ${e.eventId} of projection ${projection}`}
                  onClick={() => props.onRelease(projection, e.eventId)}
                >
                  Release
                </button>
              )}
            </td>
          </tr>
        ))}
      </Table>
    </>
  );
}
