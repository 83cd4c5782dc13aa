import { useState } from 'preact/hooks';
import { useResource } from '../../hooks.ts';
import { href, setQuery } from '../../router.ts';
import { Card, Field, Loaded, Table } from '../../ui.tsx';
import type { TemplateSummary } from './types.ts';

const FILTERS = ['q', 'stack', 'tag', 'source'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

/** GET /templates with the filters in the address (`?q=fast&stack=node-fastify`), so a search can be shared. */
export function Catalog(props: { query: URLSearchParams }) {
  const params = new URLSearchParams({ limit: '100' });
  for (const f of FILTERS) {
    const v = props.query.get(f);
    if (v) params.set(f, v);
  }
  const templates = useResource<{ items: TemplateSummary[] }>(`/templates?${params}`);
  return (
    <div class="grid">
      <Card title="Search the catalog" class="wide">
        <SearchForm key={props.query.toString()} query={props.query} />
      </Card>
      <Card title="Templates" class="wide">
        <Loaded resource={templates}>
          {({ items }) => (
            <Table
              caption="Templates matching the search"
              head={['Name', 'Stack', 'Version', 'Tags', 'Source', 'Description']}
              empty="No template matches."
            >
              {items.map((t) => (
                <tr key={t.name}>
                  <td>
                    <a href={href('templates', t.name)}>{t.name}</a>
                  </td>
                  <td>{t.stack}</td>
                  <td>{t.version}</td>
                  <td>{t.tags.join(', ')}</td>
                  <td>{t.source}</td>
                  <td>
                    <div class="tpl-description">{t.description}</div>
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

function SearchForm(props: { query: URLSearchParams }) {
  const stacks = useResource<{ items: Array<{ stack: string; templates: number }> }>('/template-stacks');
  const [values, setValues] = useState<Filters>(() => ({
    q: props.query.get('q') ?? '',
    stack: props.query.get('stack') ?? '',
    tag: props.query.get('tag') ?? '',
    source: props.query.get('source') ?? '',
  }));
  const set = (key: keyof Filters) => (e: Event) =>
    setValues((v) => ({ ...v, [key]: (e.currentTarget as HTMLInputElement).value }));
  const submit = (e: Event) => {
    e.preventDefault();
    setQuery({ ...values, tab: 'catalog' });
  };
  const clear = () => {
    setValues({ q: '', stack: '', tag: '', source: '' });
    setQuery({ q: undefined, stack: undefined, tag: undefined, source: undefined });
  };
  return (
    <form class="inline" aria-label="Search templates" onSubmit={submit}>
      <Field label="Words" hint="Prefixes of words in the name, stack, tags or description">
        {(id) => <input id={id} type="search" value={values.q} onInput={set('q')} />}
      </Field>
      <Field label="Stack">
        {(id) => (
          <select id={id} value={values.stack} onChange={set('stack')}>
            <option value="">Any stack</option>
            {stacks.data?.items.map((s) => (
              <option key={s.stack} value={s.stack}>
                {s.stack} ({s.templates})
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Tag">{(id) => <input id={id} value={values.tag} onInput={set('tag')} />}</Field>
      <Field label="Source">{(id) => <input id={id} value={values.source} onInput={set('source')} />}</Field>
      <button type="submit">Search</button>
      <button type="button" class="secondary" onClick={clear}>
        Clear
      </button>
    </form>
  );
}
