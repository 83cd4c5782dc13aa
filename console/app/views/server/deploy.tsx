import { useState } from 'preact/hooks';
import { holds, useSession } from '../../context.ts';
import { useAction, useResource } from '../../hooks.ts';
import { useRequestSchema } from '../../openapi.ts';
import { ObjectFields } from '../../schema-form.tsx';
import { Badge, Card, ErrorBox, Loaded, ms, Table, Time } from '../../ui.tsx';

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
  const { api } = useSession();
  const { schema, error } = useRequestSchema('POST', '/api/v1/deployments');
  const [value, setValue] = useState<Record<string, unknown>>({ server: props.server });
  const deploy = useAction((body: Record<string, unknown>) =>
    api.send<{ id: string }>('POST', '/deployments', body),
  );
  if (error) return <ErrorBox error={error} />;
  if (!schema) return <p class="muted">Loading the form…</p>;
  return (
    <Card title={`Deploy ${props.server}`} class="wide">
      <form
        aria-label={`Deploy ${props.server}`}
        onSubmit={async (e) => {
          e.preventDefault();
          if (await deploy.start(value)) props.onDone();
        }}
      >
        <ObjectFields schema={schema} value={value} onChange={setValue} />
        <div class="actions">
          <button type="submit" disabled={deploy.pending}>
            {deploy.pending ? 'Deploying…' : 'Deploy'}
          </button>
          <button type="button" class="secondary" onClick={props.onDone}>
            Cancel
          </button>
        </div>
        <ErrorBox error={deploy.error} />
      </form>
    </Card>
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
                      aria-label={`Roll back to the revision of deployment ${x.id}`}
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
