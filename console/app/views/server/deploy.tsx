import { holds, useSession } from '../../context.ts';
import { useAction, useResource } from '../../hooks.ts';
import { RequestForm } from '../../request-form.tsx';
import { Badge, ErrorBox, Loaded, ms, Table, Time } from '../../ui.tsx';

interface Deployment {
  id: string;
  status: string;
  currentStep: string | null;
  failedStep: string | null;
  reason: string | null;
  revision: number | null;
  source: Record<string, unknown>;
  durationMs: number | null;
  requestedAt: string;
}

/** Deploy: a form drawn from the API's schema of POST /api/v1/deployments, the server's name filled in. */
export function DeployForm(props: { server: string; onDone: () => void }) {
  return (
    <RequestForm
      title={`Deploy ${props.server}`}
      method="POST"
      schemaPath="/api/v1/deployments"
      path="/deployments"
      initial={{ server: props.server }}
      submit="Deploy"
      pending="Deploying…"
      onDone={props.onDone}
      onCancel={props.onDone}
    />
  );
}

/** The server's deployments, newest first: follow one, stop it, or bring back what an earlier one put live. */
export function DeploymentsTab(props: { server: string }) {
  const { api, me } = useSession();
  const list = useResource<{ items: Deployment[] }>(
    `/deployments?server=${encodeURIComponent(props.server)}`,
    3000,
  );
  const act = useAction(async (id: string, what: 'stop' | 'rollback') => {
    if (what === 'stop') await api.send('DELETE', `/deployments/${id}`);
    else await api.send('POST', `/deployments/${id}/rollback`);
    list.reload();
    return what;
  });
  const mayManage = holds(me, 'mcp:manage');
  return (
    <Loaded resource={list}>
      {(d) => (
        <>
          <ErrorBox error={act.error} />
          <Table
            caption="Deployments"
            head={['requested', 'source', 'status', 'step', 'revision', 'took', '']}
            empty="Not deployed through Switchyard."
          >
            {d.items.map((x) => (
              <tr key={x.id}>
                <td>
                  <Time at={x.requestedAt} />
                </td>
                <td>
                  <code>{JSON.stringify(x.source)}</code>
                </td>
                <td>
                  <Badge state={x.status} />
                  {x.reason && <div class="muted">{x.reason}</div>}
                </td>
                <td>{x.currentStep ?? x.failedStep ?? '—'}</td>
                <td class="num">{x.revision ?? '—'}</td>
                <td class="num">{ms(x.durationMs)}</td>
                <td>
                  {mayManage && (x.status === 'running' || x.status === 'queued') && (
                    <button
                      type="button"
                      class="danger"
                      onClick={() => confirm('Stop this deployment?') && act.start(x.id, 'stop')}
                    >
                      Stop
                    </button>
                  )}
                  {mayManage && x.status === 'succeeded' && (
                    <button
                      type="button"
                      class="secondary"
                      aria-label={`Roll back to this: the revision deployment ${x.id} put live`}
                      onClick={() => confirm('Deploy this revision again?') && act.start(x.id, 'rollback')}
                    >
                      Roll back to this
                    </button>
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
