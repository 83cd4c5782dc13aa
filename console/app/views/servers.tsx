import { useState } from 'preact/hooks';
import { holds, useSession } from '../context.ts';
import { useResource } from '../hooks.ts';
import { RequestForm } from '../request-form.tsx';
import { href, navigate } from '../router.ts';
import { Badge, Loaded, ms, PageHeader, percent, Table } from '../ui.tsx';
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
      {registering && (
        <RequestForm
          title="Register a server"
          method="POST"
          schemaPath="/api/v1/servers"
          path="/servers"
          initial={{ transport: { type: 'stdio' } }}
          submit="Register"
          pending="Registering…"
          onDone={(_, body) => navigate(href('servers', String(body.name)))}
          onCancel={() => setRegistering(false)}
        />
      )}
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
