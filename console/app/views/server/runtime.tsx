import { useEffect, useRef, useState } from 'preact/hooks';
import { useSession } from '../../context.ts';
import { useResource } from '../../hooks.ts';
import { Badge, duration, ErrorBox, Loaded, ScrollText, Table, Time } from '../../ui.tsx';

interface Instance {
  runner: string;
  index: number;
  target: string;
  pid: number | null;
  state: string;
  startedAt: string | null;
  uptimeMs: number | null;
  restarts: number;
  inFlight: number;
  circuit: string;
  lastExit?: { at: string; reason: string };
  callerSessions?: number;
}

export function InstancesTab(props: { server: string }) {
  const instances = useResource<{ instances: Instance[]; unreachable: string[] }>(
    `/servers/${encodeURIComponent(props.server)}/instances`,
    3000,
  );
  return (
    <Loaded resource={instances}>
      {(r) => (
        <>
          {r.unreachable.length > 0 && (
            <p class="notice">Runners not answering: {r.unreachable.join(', ')}</p>
          )}
          <Table
            caption="Instances"
            head={[
              'runner',
              '#',
              'process',
              'state',
              'up',
              'restarts',
              'in flight',
              'own sessions',
              'circuit',
              'last exit',
            ]}
            empty="No instance running."
          >
            {r.instances.map((i) => (
              <tr key={`${i.runner}/${i.index}`}>
                <td>{i.runner}</td>
                <td class="num">{i.index}</td>
                <td>{i.target}</td>
                <td>
                  <Badge state={i.state} />
                </td>
                <td>{i.uptimeMs === null ? '—' : duration(i.uptimeMs)}</td>
                <td class="num">{i.restarts}</td>
                <td class="num">{i.inFlight}</td>
                <td class="num">{i.callerSessions ?? '—'}</td>
                <td>
                  <Badge state={i.circuit} />
                </td>
                <td>
                  {i.lastExit ? (
                    <>
                      {i.lastExit.reason} <Time at={i.lastExit.at} />
                    </>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </Table>
        </>
      )}
    </Loaded>
  );
}

interface LogLine {
  runner: string;
  instance: number;
  pid: number | null;
  seq: number;
  at: string;
  line: string;
}

const KEEP = 1000;

/** Its processes' stderr (secrets redacted by the runner), following new lines every 2 s. */
export function LogsTab(props: { server: string }) {
  const { api } = useSession();
  const [lines, setLines] = useState<LogLine[]>([]);
  const [error, setError] = useState<Error>();
  const [following, setFollowing] = useState(true);
  const cursor = useRef<string | undefined>(undefined);
  const path = `/servers/${encodeURIComponent(props.server)}/logs`;
  useEffect(() => {
    cursor.current = undefined;
    setLines([]);
  }, [path]);
  useEffect(() => {
    if (!following) return;
    let live = true;
    const read = async () => {
      try {
        const r = await api.get<{ lines: LogLine[]; cursor: string }>(
          cursor.current ? `${path}?after=${encodeURIComponent(cursor.current)}` : path,
        );
        if (!live) return;
        cursor.current = r.cursor;
        setError(undefined);
        if (r.lines.length > 0) setLines((old) => [...old, ...r.lines].slice(-KEEP));
      } catch (e) {
        if (live) setError(e as Error);
      }
    };
    void read();
    const timer = setInterval(read, 2000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api, path, following]);
  return (
    <>
      <div class="actions">
        <button
          type="button"
          class="secondary"
          aria-pressed={following}
          onClick={() => setFollowing((f) => !f)}
        >
          {following ? 'Pause' : 'Follow'}
        </button>
        <span class="muted">{lines.length} lines</span>
      </div>
      <ErrorBox error={error} />
      <ScrollText class="log" label="stderr">
        {lines.length === 0
          ? 'Nothing written to stderr.'
          : lines.map((l) => `${l.at.slice(11, 23)} [${l.runner}#${l.instance}] ${l.line}`).join('\n')}
      </ScrollText>
    </>
  );
}
