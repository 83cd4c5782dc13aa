import type { ComponentChildren, JSX } from 'preact';
import { useId } from 'preact/hooks';
import type { Resource } from './hooks.ts';

/** A page's heading and the actions that belong to the whole page. */
export function PageHeader(props: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1>{props.title}</h1>
      {props.children && <div class="actions">{props.children}</div>}
    </header>
  );
}

export function Card(props: { title: string; children: ComponentChildren; class?: string }) {
  const id = useId();
  return (
    <section class={`card ${props.class ?? ''}`} aria-labelledby={id}>
      <h2 id={id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** An error of the API, said in words (with its code), where the data would have been. */
export function ErrorBox(props: { error: Error | undefined }) {
  if (!props.error) return null;
  const code = (props.error as { code?: string }).code;
  return (
    <p class="error" role="alert">
      {props.error.message}
      {code && <code> {code}</code>}
    </p>
  );
}

/** What a resource holds: a spinner, its error, or its content. */
export function Loaded<T>(props: { resource: Resource<T>; children: (data: T) => ComponentChildren }) {
  const { data, error, loading } = props.resource;
  if (data === undefined) {
    return error ? <ErrorBox error={error} /> : loading ? <p class="muted">Loading…</p> : null;
  }
  return (
    <>
      {error && <ErrorBox error={error} />}
      {props.children(data)}
    </>
  );
}

const STATE_TONES: Record<string, string> = {
  HEALTHY: 'good',
  healthy: 'good',
  succeeded: 'good',
  live: 'good',
  active: 'good',
  closed: 'good',
  UNHEALTHY: 'bad',
  unhealthy: 'bad',
  ERROR: 'bad',
  failed: 'bad',
  abandoned: 'bad',
  crashed: 'bad',
  open: 'bad',
  STARTING: 'warn',
  starting: 'warn',
  running: 'warn',
  'half-open': 'warn',
  UNCHECKED: 'muted',
  STOPPED: 'muted',
  DISABLED: 'muted',
};

/** A state as a word with a colour and a shape (never the colour alone). */
export function Badge(props: { state: string; label?: string }) {
  const tone = STATE_TONES[props.state] ?? 'muted';
  const mark = tone === 'good' ? '●' : tone === 'bad' ? '▲' : tone === 'warn' ? '◆' : '○';
  return (
    <span class={`badge ${tone}`}>
      <span aria-hidden="true">{mark} </span>
      {props.label ?? props.state}
    </span>
  );
}

/** A moment, in the reader's local time, with the exact ISO time on hover. */
export function Time(props: { at: string | null | undefined }) {
  if (!props.at) return <span class="muted">—</span>;
  const d = new Date(props.at);
  return (
    <time dateTime={props.at} title={props.at}>
      {d.toLocaleString()}
    </time>
  );
}

export const ms = (v: number | null | undefined) =>
  v === null || v === undefined
    ? '—'
    : v < 10 && !Number.isInteger(v)
      ? `${v.toFixed(1)} ms`
      : `${Math.round(v)} ms`;

export const percent = (v: number | null | undefined) =>
  v === null || v === undefined ? '—' : `${(v * 100).toFixed(v < 0.1 && v > 0 ? 1 : 0)}%`;

export function duration(msValue: number): string {
  const s = Math.floor(msValue / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d`;
}

/** Preformatted text that may scroll: focusable, so that a keyboard can scroll it too (WCAG 2.1.1). */
export function ScrollText(props: { label: string; class: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus to be scrolled by keyboard
    <section class={`scroll ${props.class}`} aria-label={props.label} tabIndex={0}>
      <pre>{props.children}</pre>
    </section>
  );
}

/** JSON as the API gave it, pretty-printed (text, never HTML). */
export function Json(props: { value: unknown; label?: string }) {
  return (
    <ScrollText class="json" label={props.label ?? 'JSON'}>
      {JSON.stringify(props.value, null, 2)}
    </ScrollText>
  );
}

/** A labelled form control: the label is tied to the control for screen readers. */
export function Field(props: { label: string; hint?: string; children: (id: string) => JSX.Element }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.children(id)}
      {props.hint && <small class="muted">{props.hint}</small>}
    </div>
  );
}

/** Tabs as links (each tab is an address), marked for assistive technology. */
export function Tabs(props: {
  tabs: Array<[string, string]>;
  current: string;
  hrefOf: (tab: string) => string;
}) {
  return (
    <nav class="tabs" aria-label="Sections">
      {props.tabs.map(([key, label]) => (
        <a
          key={key}
          class="nav-link"
          href={props.hrefOf(key)}
          aria-current={key === props.current ? 'page' : undefined}
        >
          {label}
        </a>
      ))}
    </nav>
  );
}

/** A table with a caption for assistive technology and an empty state. */
export function Table(props: {
  caption: string;
  head: string[];
  empty?: string;
  children: ComponentChildren[];
}) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.children.length > 0 ? (
            props.children
          ) : (
            <tr>
              <td colSpan={props.head.length} class="muted">
                {props.empty ?? 'Nothing yet.'}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
