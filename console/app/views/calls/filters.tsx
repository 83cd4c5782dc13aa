import { useState } from 'preact/hooks';
import { useResource } from '../../hooks.ts';
import { setQuery } from '../../router.ts';
import { Field } from '../../ui.tsx';
import { type CallFilter, isoOf, localInput, STATUSES } from './model.ts';

const EMPTY: CallFilter = { server: '', tool: '', actor: '', status: '', from: '', to: '' };

/**
 * The filters of the log, applied to the hash query (so a filtered view is a link). The parent keys
 * this form by the query, so that following a link resets what is typed here.
 */
export function CallFilters(props: { filter: CallFilter }) {
  const [f, setF] = useState(props.filter);
  const set = (key: keyof CallFilter) => (e: { currentTarget: { value: string } }) =>
    setF((old) => ({ ...old, [key]: e.currentTarget.value }));
  const apply = (next: CallFilter) => setQuery({ ...next });
  return (
    <form
      class="inline ev-filters"
      aria-label="Filter tool calls"
      onSubmit={(e) => {
        e.preventDefault();
        apply(f);
      }}
    >
      <Field label="Server" hint="Name or id">
        {(id) => (
          <>
            <input id={id} list={`${id}-names`} value={f.server} onInput={set('server')} autoComplete="off" />
            <ServerNames id={`${id}-names`} />
          </>
        )}
      </Field>
      <Field label="Tool">{(id) => <input id={id} value={f.tool} onInput={set('tool')} />}</Field>
      <Field label="Actor" hint="Principal id">
        {(id) => <input id={id} value={f.actor} onInput={set('actor')} />}
      </Field>
      <Field label="Outcome">
        {(id) => (
          <select id={id} value={f.status} onChange={(e) => apply({ ...f, status: e.currentTarget.value })}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Started from">
        {(id) => (
          <input
            id={id}
            type="datetime-local"
            value={localInput(f.from)}
            onInput={(e) => setF((old) => ({ ...old, from: isoOf(e.currentTarget.value) }))}
          />
        )}
      </Field>
      <Field label="Started before">
        {(id) => (
          <input
            id={id}
            type="datetime-local"
            value={localInput(f.to)}
            onInput={(e) => setF((old) => ({ ...old, to: isoOf(e.currentTarget.value) }))}
          />
        )}
      </Field>
      <div class="ev-filter-buttons">
        <button type="submit">Apply</button>
        <button type="button" class="secondary" onClick={() => apply(EMPTY)}>
          Clear
        </button>
      </div>
    </form>
  );
}

/** The names of the servers the principal may read, as suggestions (nothing when it may not list them). */
function ServerNames(props: { id: string }) {
  const servers = useResource<{ items: Array<{ id: string; name: string }> }>('/servers?limit=500');
  return (
    <datalist id={props.id}>
      {servers.data?.items.map((s) => (
        <option key={s.id} value={s.name} />
      ))}
    </datalist>
  );
}
