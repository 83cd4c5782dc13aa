import { useId, useState } from 'preact/hooks';
import { useResource } from '../../hooks.ts';
import { setQuery } from '../../router.ts';
import { Badge, Card, Field, Json, Loaded } from '../../ui.tsx';
import { type Explanation, usePrincipals } from './types.ts';

/** Common actions (domains/access/actions.ts), offered as suggestions; any action name may be typed. */
const ACTIONS = [
  'tool.call',
  'server.read',
  'server.register',
  'server.update',
  'server.remove',
  'resource.read',
  'prompt.get',
  'toolcall.read',
  'events.read',
  'template.read',
  'project.generate',
  'apikey.manage',
  'grant.manage',
  'policy.manage',
  'projection.rebuild',
];
const FIELDS = ['principal', 'action', 'server', 'tool', 'args', 'at'] as const;
type Values = Record<(typeof FIELDS)[number], string>;

/** GET /authz/explain: why a principal may or may not do something, now or as of `at`. */
export function Explain(props: { query: URLSearchParams }) {
  const params = new URLSearchParams();
  for (const f of FIELDS) {
    const v = props.query.get(f);
    if (v) params.set(f, v);
  }
  const asked = params.has('action');
  const explanation = useResource<Explanation>(asked ? `/authz/explain?${params}` : null);
  return (
    <div class="grid">
      <Card title="Explain a decision" class="wide">
        <ExplainForm query={props.query} />
      </Card>
      {asked && (
        <Card title="Decision" class="wide">
          <Loaded resource={explanation}>{(e) => <Decision explanation={e} />}</Loaded>
        </Card>
      )}
    </div>
  );
}

function Decision(props: { explanation: Explanation }) {
  const e = props.explanation;
  const principals = usePrincipals();
  return (
    <div class="acc-explained">
      <p class="acc-decision">
        <Badge
          state={e.effect === 'allow' ? 'active' : 'failed'}
          label={e.effect === 'allow' ? 'allowed' : 'denied'}
        />{' '}
        {principals.nameOf(e.principal)} — <code>{e.action}</code>
        {e.at ? (
          <>
            {' '}
            as of <code>{e.at}</code>
          </>
        ) : (
          ' now'
        )}
        {e.permission && <> (needs {e.permission})</>}
      </p>
      <h3>Reasons</h3>
      <ul>
        {e.reasons.map((r) => (
          <li key={r}>{r}</li>
        ))}
      </ul>
      <h3>What it is about</h3>
      <Json value={e.resource} />
      {e.visible !== undefined && <p class="muted">Visible to the principal: {e.visible ? 'yes' : 'no'}.</p>}
      {e.policyVersion && <p class="muted">Rules version {e.policyVersion}.</p>}
    </div>
  );
}

function ExplainForm(props: { query: URLSearchParams }) {
  const principals = usePrincipals();
  const listId = useId();
  const [values, setValues] = useState<Values>(() => {
    const v = Object.fromEntries(FIELDS.map((f) => [f, props.query.get(f) ?? ''])) as Values;
    return { ...v, action: v.action || 'tool.call' };
  });
  const set = (key: keyof Values) => (e: Event) =>
    setValues((v) => ({ ...v, [key]: (e.currentTarget as HTMLInputElement).value }));
  const submit = (e: Event) => {
    e.preventDefault();
    setQuery({ ...values, tab: 'explain' });
  };
  return (
    <form onSubmit={submit}>
      <div class="acc-row">
        <Field label="Principal" hint="Empty: myself">
          {(id) =>
            principals.list.length > 0 ? (
              <select id={id} value={values.principal} onChange={set('principal')}>
                <option value="">Myself</option>
                {principals.list.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name} ({p.kind})
                  </option>
                ))}
              </select>
            ) : (
              <input id={id} value={values.principal} onInput={set('principal')} placeholder="uuid" />
            )
          }
        </Field>
        <Field label="Action" hint="e.g. tool.call">
          {(id) => <input id={id} required list={listId} value={values.action} onInput={set('action')} />}
        </Field>
        <Field label="Server">
          {(id) => <input id={id} value={values.server} onInput={set('server')} />}
        </Field>
        <Field label="Tool">{(id) => <input id={id} value={values.tool} onInput={set('tool')} />}</Field>
        <Field label="As of" hint="ISO 8601 instant, e.g. 2026-01-31T12:00:00Z; empty: now">
          {(id) => <input id={id} value={values.at} onInput={set('at')} />}
        </Field>
      </div>
      <datalist id={listId}>
        {ACTIONS.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      <Field label="Tool arguments (JSON object)" hint="For conditions that read args; empty: none">
        {(id) => <textarea id={id} rows={3} spellcheck={false} value={values.args} onInput={set('args')} />}
      </Field>
      <div class="actions">
        <button type="submit">Explain</button>
      </div>
    </form>
  );
}
