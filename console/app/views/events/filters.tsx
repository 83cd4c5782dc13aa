import { useState } from 'preact/hooks';
import { setQuery } from '../../router.ts';
import { Field } from '../../ui.tsx';
import { type EventsFilter, filterProblem } from './model.ts';

const EMPTY: EventsFilter = { category: '', type: '', stream: '', after: '' };

/** The filters of the live log, applied to the hash query; keyed by it, so a link resets the form. */
export function EventFilters(props: { filter: EventsFilter }) {
  const [f, setF] = useState(props.filter);
  const [problem, setProblem] = useState('');
  const set = (key: keyof EventsFilter) => (e: { currentTarget: { value: string } }) =>
    setF((old) => ({ ...old, [key]: e.currentTarget.value }));
  const apply = (next: EventsFilter) => {
    const trimmed = { ...next, after: next.after.trim(), stream: next.stream.trim() };
    const why = filterProblem(trimmed);
    setProblem(why);
    if (!why) setQuery({ ...trimmed });
  };
  return (
    <form
      class="inline ev-filters"
      aria-label="Filter events"
      onSubmit={(e) => {
        e.preventDefault();
        apply(f);
      }}
    >
      <Field label="Category" hint="Comma-separated, e.g. server,toolcall">
        {(id) => <input id={id} value={f.category} onInput={set('category')} />}
      </Field>
      <Field label="Type" hint="Comma-separated, e.g. ServerRegistered">
        {(id) => <input id={id} value={f.type} onInput={set('type')} />}
      </Field>
      <Field label="Stream" hint="One stream, e.g. server-<id>">
        {(id) => <input id={id} value={f.stream} onInput={set('stream')} />}
      </Field>
      <Field label="After position" hint="Empty: from the start of the log">
        {(id) => <input id={id} inputMode="numeric" value={f.after} onInput={set('after')} />}
      </Field>
      <div class="ev-filter-buttons">
        <button type="submit">Apply</button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setF(EMPTY);
            apply(EMPTY);
          }}
        >
          Clear
        </button>
      </div>
      {problem && (
        <p class="error ev-filter-problem" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}
