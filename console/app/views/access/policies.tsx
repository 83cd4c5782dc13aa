import { useCallback, useState } from 'preact/hooks';
import { holds, useSession } from '../../context.ts';
import { useAction, useRemove, useResource } from '../../hooks.ts';
import { Badge, Card, ErrorBox, Field, Loaded, Table, Time } from '../../ui.tsx';
import type { Policy } from './types.ts';

const EXAMPLE = {
  name: 'no deletes on production',
  description: 'Nobody calls delete tools on prod servers',
  effect: 'deny',
  target: { actions: ['tool.call'], server: 'prod-*', tool: 'delete*' },
  condition: "principal.kind == 'service'",
};

/** The body of PUT /policies/:id that keeps a policy as it is: what the editor starts from. */
function bodyOf(p: Policy) {
  return {
    name: p.name,
    ...(p.description !== undefined && { description: p.description }),
    effect: p.effect,
    target: p.target,
    ...(p.condition !== undefined && { condition: p.condition }),
  };
}

/** GET /policies; POST /policies, PUT /policies/:id (a JSON editor), DELETE /policies/:id. */
export function Policies() {
  const { me } = useSession();
  const policies = useResource<{ items: Policy[] }>('/policies', 15_000);
  const [editing, setEditing] = useState<Policy>();
  const remove = useRemove('/policies', policies.reload);
  const manage = holds(me, 'mcp:manage');
  return (
    <div class="grid">
      {manage && (
        <PolicyEditor
          key={editing?.policyId ?? 'new'}
          policy={editing}
          onDone={() => {
            setEditing(undefined);
            policies.reload();
          }}
        />
      )}
      <Card title="Policies" class="wide">
        <ErrorBox error={remove.error} />
        <Loaded resource={policies}>
          {({ items }) => (
            <Table
              caption="Policies of the tenant"
              head={['Name', 'Effect', 'Actions', 'Server', 'Tool', 'Condition', 'Set', '']}
              empty="No policy: grants and roles alone decide."
            >
              {items.map((p) => (
                <tr key={p.policyId}>
                  <td>
                    {p.name}
                    {p.description && <div class="muted">{p.description}</div>}
                  </td>
                  <td>
                    <Badge state={p.effect === 'allow' ? 'active' : 'failed'} label={p.effect} />
                  </td>
                  <td>{p.target.actions.join(', ')}</td>
                  <td>{p.target.server ?? 'any'}</td>
                  <td>{p.target.tool ?? 'any'}</td>
                  <td>{p.condition ? <code>{p.condition}</code> : 'always'}</td>
                  <td>
                    <Time at={p.setAt} />
                  </td>
                  <td class="acc-actions">
                    {manage && (
                      <>
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`Edit policy ${p.name}`}
                          onClick={() => setEditing(p)}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          class="danger"
                          disabled={remove.pending}
                          aria-label={`Remove policy ${p.name}`}
                          onClick={() =>
                            confirm(`Remove policy “${p.name}”?`) && void remove.start(p.policyId)
                          }
                        >
                          Remove
                        </button>
                      </>
                    )}
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

function PolicyEditor(props: { policy: Policy | undefined; onDone: () => void }) {
  const { api } = useSession();
  const { policy, onDone } = props;
  const [text, setText] = useState(() => JSON.stringify(policy ? bodyOf(policy) : EXAMPLE, null, 2));
  const [parseError, setParseError] = useState<Error>();
  const save = useAction(
    useCallback(
      async (body: unknown) => {
        if (policy) await api.send('PUT', `/policies/${encodeURIComponent(policy.policyId)}`, body);
        else await api.send('POST', '/policies', body);
        onDone();
        return true;
      },
      [api, policy, onDone],
    ),
  );
  const submit = (e: Event) => {
    e.preventDefault();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      setParseError(new Error(`Not JSON: ${(err as Error).message}`));
      return;
    }
    setParseError(undefined);
    void save.start(body);
  };
  return (
    <Card title={policy ? `Edit policy “${policy.name}”` : 'Add a policy'} class="wide">
      <form onSubmit={submit}>
        <Field
          label="Policy (JSON)"
          hint="name, description, effect (allow or deny), target {actions, server, tool} and a CEL condition over principal, claims, action, server, tool and args"
        >
          {(id) => (
            <textarea
              id={id}
              class="acc-policy"
              rows={12}
              spellcheck={false}
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
            />
          )}
        </Field>
        <div class="actions">
          <button type="submit" disabled={save.pending}>
            {policy ? 'Save a new version' : 'Add policy'}
          </button>
          {policy && (
            <button type="button" class="secondary" onClick={onDone}>
              Cancel
            </button>
          )}
        </div>
      </form>
      <ErrorBox error={parseError ?? save.error} />
    </Card>
  );
}
