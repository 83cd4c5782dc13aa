import { useCallback, useState } from 'preact/hooks';
import { holds, useSession } from '../../context.ts';
import { useAction, useRemove, useResource } from '../../hooks.ts';
import { Card, ErrorBox, Field, Loaded, Table, Time } from '../../ui.tsx';
import { type Grant, type GrantResource, PERMISSIONS, type Permission, usePrincipals } from './types.ts';

export function resourceText(r: GrantResource): string {
  switch (r.type) {
    case 'tenant':
      return 'everything of the tenant';
    case 'server':
      return `servers ${r.server}`;
    case 'tool':
      return `tools ${r.tool} on servers ${r.server}`;
    case 'platform':
      return 'the platform';
    default: {
      const _: never = r;
      return String(_);
    }
  }
}

/** GET /grants, POST /grants, DELETE /grants/:id. */
export function Grants() {
  const { me } = useSession();
  const principals = usePrincipals();
  const grants = useResource<{ items: Grant[] }>('/grants', 15_000);
  const remove = useRemove('/grants', grants.reload);
  const subjectText = (g: Grant) =>
    g.subject.type === 'tenant' ? `everyone in ${g.subject.id}` : principals.nameOf(g.subject.id);
  return (
    <div class="grid">
      {holds(me, 'mcp:manage') && (
        <Card title="Add a grant" class="wide">
          <GrantForm onAdded={grants.reload} />
        </Card>
      )}
      <Card title="Grants" class="wide">
        <ErrorBox error={remove.error} />
        <Loaded resource={grants}>
          {({ items }) => (
            <Table
              caption="Grants of the tenant"
              head={['To', 'Permission', 'On', 'Tenant', 'Added', '']}
              empty="No grant: principals hold what their roles give."
            >
              {items.map((g) => (
                <tr key={g.grantId}>
                  <td>{subjectText(g)}</td>
                  <td>{g.permission}</td>
                  <td>{resourceText(g.resource)}</td>
                  <td>{g.tenant}</td>
                  <td>
                    <Time at={g.addedAt} />
                  </td>
                  <td>
                    <button
                      type="button"
                      class="danger"
                      disabled={remove.pending}
                      aria-label={`Remove grant ${g.grantId}`}
                      onClick={() =>
                        confirm(
                          `Remove the grant of ${g.permission} to ${subjectText(g)} on ${resourceText(g.resource)}?`,
                        ) && void remove.start(g.grantId)
                      }
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </Loaded>
      </Card>
    </div>
  );
}

function GrantForm(props: { onAdded: () => void }) {
  const { api, me } = useSession();
  const principals = usePrincipals();
  const [subject, setSubject] = useState<'principal' | 'tenant'>('principal');
  const [subjectId, setSubjectId] = useState('');
  const [permission, setPermission] = useState<Permission>('mcp:execute');
  const [resource, setResource] = useState<GrantResource['type']>('server');
  const [server, setServer] = useState('');
  const [tool, setTool] = useState('');
  const add = useAction(
    useCallback(
      async (body: unknown) => {
        await api.send('POST', '/grants', body);
        props.onAdded();
        return true;
      },
      [api, props.onAdded],
    ),
  );
  const submit = (e: Event) => {
    e.preventDefault();
    const target: GrantResource =
      resource === 'server'
        ? { type: 'server', server }
        : resource === 'tool'
          ? { type: 'tool', server, tool }
          : { type: resource };
    void add.start({
      subject: { type: subject, id: subject === 'tenant' ? me.tenant : subjectId },
      permission,
      resource: target,
    });
  };
  const value = (set: (v: string) => void) => (e: Event) => set((e.currentTarget as HTMLInputElement).value);
  return (
    <>
      <form class="inline" onSubmit={submit}>
        <Field label="To">
          {(id) => (
            <select id={id} value={subject} onChange={value((v) => setSubject(v as 'principal' | 'tenant'))}>
              <option value="principal">One principal</option>
              <option value="tenant">Everyone in {me.tenant}</option>
            </select>
          )}
        </Field>
        {subject === 'principal' && (
          <Field label="Principal" hint={principals.list.length > 0 ? undefined : 'Its id (a uuid)'}>
            {(id) =>
              principals.list.length > 0 ? (
                <select id={id} required value={subjectId} onChange={value(setSubjectId)}>
                  <option value="">Choose…</option>
                  {principals.list.map((p) => (
                    <option key={p.id} value={p.id}>
                      {p.name} ({p.kind})
                    </option>
                  ))}
                </select>
              ) : (
                <input id={id} required value={subjectId} onInput={value(setSubjectId)} />
              )
            }
          </Field>
        )}
        <Field label="Permission">
          {(id) => (
            <select id={id} value={permission} onChange={value((v) => setPermission(v as Permission))}>
              {PERMISSIONS.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="On">
          {(id) => (
            <select id={id} value={resource} onChange={value((v) => setResource(v as GrantResource['type']))}>
              <option value="server">Servers matching</option>
              <option value="tool">Tools matching</option>
              <option value="tenant">The whole tenant</option>
              <option value="platform">The platform (administrators)</option>
            </select>
          )}
        </Field>
        {(resource === 'server' || resource === 'tool') && (
          <Field label="Server pattern" hint="A name, or * and ? wildcards">
            {(id) => <input id={id} required value={server} onInput={value(setServer)} />}
          </Field>
        )}
        {resource === 'tool' && (
          <Field label="Tool pattern">
            {(id) => <input id={id} required value={tool} onInput={value(setTool)} />}
          </Field>
        )}
        <button type="submit" disabled={add.pending}>
          Add grant
        </button>
      </form>
      <ErrorBox error={add.error} />
    </>
  );
}
