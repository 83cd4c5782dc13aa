import { useState } from 'preact/hooks';
import { holds, useSession } from '../context.ts';
import { useAction, useResource } from '../hooks.ts';
import { RequestForm } from '../request-form.tsx';
import { href, navigate, useRoute } from '../router.ts';
import { Badge, ErrorBox, Json, Loaded, PageHeader, Tabs, Time } from '../ui.tsx';
import { DeployForm, DeploymentsTab } from './server/deploy.tsx';
import { HistoryTab, PromptsTab, ResourcesTab, StatsTab } from './server/details.tsx';
import { InstancesTab, LogsTab } from './server/runtime.tsx';
import { ToolsTab } from './server/tools.tsx';
import type { ServerRow } from './servers.tsx';

type Server = ServerRow & { transport: unknown; settings: Record<string, unknown>; updatedAt: string };

const TABS: Array<[string, string]> = [
  ['tools', 'Tools'],
  ['resources', 'Resources'],
  ['prompts', 'Prompts'],
  ['instances', 'Instances'],
  ['logs', 'Logs'],
  ['stats', 'Stats'],
  ['history', 'History'],
  ['deployments', 'Deployments'],
  ['config', 'Configuration'],
];

/** Edit: PATCH with a form drawn from the API's schema of the update, filled with what is set now. */
function EditForm(props: { server: Server; onDone: () => void }) {
  return (
    <RequestForm
      title={`Edit ${props.server.name}`}
      method="PATCH"
      schemaPath="/api/v1/servers/{id}"
      path={`/servers/${encodeURIComponent(props.server.id)}`}
      initial={{ description: props.server.description ?? undefined, tags: props.server.tags }}
      submit="Save"
      pending="Saving…"
      onDone={props.onDone}
      onCancel={props.onDone}
    />
  );
}

function ServerActions(props: {
  server: Server;
  reload: () => void;
  onEdit: () => void;
  onDeploy: () => void;
}) {
  const { api, me } = useSession();
  const id = encodeURIComponent(props.server.id);
  const act = useAction(async (what: 'enable' | 'disable' | 'refresh' | 'remove') => {
    if (what === 'remove') {
      await api.send('DELETE', `/servers/${id}`);
      navigate(href('servers'));
      return what;
    }
    await api.send('POST', `/servers/${id}/${what}`);
    props.reload();
    return what;
  });
  if (!holds(me, 'mcp:write')) return null;
  return (
    <>
      <button type="button" class="secondary" onClick={props.onEdit}>
        Edit
      </button>
      <button
        type="button"
        class="secondary"
        disabled={act.pending}
        onClick={() => act.start(props.server.enabled ? 'disable' : 'enable')}
      >
        {props.server.enabled ? 'Disable' : 'Enable'}
      </button>
      <button type="button" class="secondary" disabled={act.pending} onClick={() => act.start('refresh')}>
        Refresh capabilities
      </button>
      {holds(me, 'mcp:manage') && (
        <button type="button" class="secondary" onClick={props.onDeploy}>
          Deploy…
        </button>
      )}
      <button
        type="button"
        class="danger"
        disabled={act.pending}
        onClick={() =>
          confirm(`Remove ${props.server.name}? Its history stays in the log.`) && act.start('remove')
        }
      >
        Remove
      </button>
      <ErrorBox error={act.error} />
    </>
  );
}

function Tab(props: { tab: string; server: Server }) {
  const name = props.server.name;
  switch (props.tab) {
    case 'resources':
      return <ResourcesTab server={name} />;
    case 'prompts':
      return <PromptsTab server={name} />;
    case 'instances':
      return <InstancesTab server={name} />;
    case 'logs':
      return <LogsTab server={name} />;
    case 'stats':
      return <StatsTab server={name} />;
    case 'history':
      return <HistoryTab server={name} />;
    case 'deployments':
      return <DeploymentsTab server={name} />;
    case 'config':
      return <Json value={{ transport: props.server.transport, settings: props.server.settings }} />;
    default:
      return <ToolsTab server={name} />;
  }
}

/** One server: its health, what it offers, its processes, its stats and history; what can be done to it. */
export function ServerPage(props: { name: string }) {
  const route = useRoute();
  const server = useResource<Server>(`/servers/${encodeURIComponent(props.name)}`, 3000);
  const [editing, setEditing] = useState(false);
  const [deploying, setDeploying] = useState(false);
  const tab = route.query.get('tab') ?? 'tools';
  return (
    <Loaded resource={server}>
      {(s) => (
        <>
          <PageHeader title={s.name}>
            <ServerActions
              server={s}
              reload={server.reload}
              onEdit={() => setEditing(true)}
              onDeploy={() => setDeploying(true)}
            />
          </PageHeader>
          <p class="server-summary">
            {s.enabled ? <Badge state={s.health?.status ?? 'UNCHECKED'} /> : <Badge state="DISABLED" />}{' '}
            <span class="muted">
              {s.transportType} · revision {s.revision} · updated <Time at={s.updatedAt} />
            </span>
            {s.health?.lastError && <span class="error"> {s.health.lastError}</span>}
          </p>
          {s.description && <p>{s.description}</p>}
          {editing && (
            <EditForm
              server={s}
              onDone={() => {
                setEditing(false);
                server.reload();
              }}
            />
          )}
          {deploying && (
            <DeployForm
              server={s.name}
              onDone={() => {
                setDeploying(false);
                navigate(`${href('servers', s.name)}?tab=deployments`);
              }}
            />
          )}
          <Tabs tabs={TABS} current={tab} hrefOf={(t) => `${href('servers', s.name)}?tab=${t}`} />
          <Tab tab={tab} server={s} />
        </>
      )}
    </Loaded>
  );
}
