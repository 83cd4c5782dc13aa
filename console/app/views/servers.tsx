import { useState } from 'preact/hooks';
import { holds, useSession } from '../context.ts';
import { useAction, useResource } from '../hooks.ts';
import { useRequestSchema } from '../openapi.ts';
import { href, navigate } from '../router.ts';
import { ObjectFields } from '../schema-form.tsx';
import { Badge, Card, ErrorBox, Loaded, ms, PageHeader, percent, Table } from '../ui.tsx';
import type { WindowStats } from './overview.tsx';

export interface ServerRow {
  id: string;
  name: string;
  description: string | null;
  transportType: string;
  enabled: boolean;
  status: string;
  tags: string[];
  revision: string;
  health: { status: string; since: string | null; lastError: string | null; latencyMs: number | null } | null;
}

/** Register a server: a form drawn from the API's own schema of POST /api/v1/servers. */
function RegisterForm(props: { onDone: () => void }) {
  const { api } = useSession();
  const { schema, error } = useRequestSchema('POST', '/api/v1/servers');
  const [value, setValue] = useState<Record<string, unknown>>({ transport: { type: 'stdio' } });
  const register = useAction((body: Record<string, unknown>) =>
    api.send<{ id: string }>('POST', '/servers', body),
  );
  if (error) return <ErrorBox error={error} />;
  if (!schema) return <p class="muted">Loading the form…</p>;
  return (
    <Card title="Register a server" class="wide">
      <form
        aria-label="Register a server"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await register.start(value)) navigate(href('servers', String(value.name)));
        }}
      >
        <ObjectFields schema={schema} value={value} onChange={setValue} />
        <div class="actions">
          <button type="submit" disabled={register.pending}>
            {register.pending ? 'Registering…' : 'Register'}
          </button>
          <button type="button" class="secondary" onClick={props.onDone}>
            Cancel
          </button>
        </div>
        <ErrorBox error={register.error} />
      </form>
    </Card>
  );
}

export function Servers() {
  const { me } = useSession();
  const servers = useResource<{ items: ServerRow[] }>('/servers?limit=500', 5000);
  const stats = useResource<WindowStats>('/tool-calls/stats?tools=0', 15000);
  const [registering, setRegistering] = useState(false);
  const byId = new Map((stats.data?.servers ?? []).map((s) => [s.serverId, s]));
  return (
    <>
      <PageHeader title="Servers">
        {holds(me, 'mcp:write') && !registering && (
          <button type="button" onClick={() => setRegistering(true)}>
            Register a server
          </button>
        )}
      </PageHeader>
      {registering && <RegisterForm onDone={() => setRegistering(false)} />}
      <Loaded resource={servers}>
        {(s) => (
          <Table
            caption="Registered servers"
            head={['name', 'transport', 'health', 'calls (1 h)', 'errors', 'p95', 'tags']}
            empty="No server registered yet."
          >
            {s.items.map((server) => {
              const st = byId.get(server.id);
              return (
                <tr key={server.id}>
                  <td>
                    <a href={href('servers', server.name)}>{server.name}</a>
                    {server.description && <div class="muted">{server.description}</div>}
                  </td>
                  <td>{server.transportType}</td>
                  <td>
                    {server.enabled ? (
                      <Badge state={server.health?.status ?? 'UNCHECKED'} />
                    ) : (
                      <Badge state="DISABLED" />
                    )}
                  </td>
                  <td class="num">{st?.calls ?? 0}</td>
                  <td class="num">{percent(st?.errorRate)}</td>
                  <td class="num">{ms(st?.p95Ms)}</td>
                  <td>{server.tags.join(', ')}</td>
                </tr>
              );
            })}
          </Table>
        )}
      </Loaded>
    </>
  );
}
