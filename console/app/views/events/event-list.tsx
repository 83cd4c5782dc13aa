import { Json, Time } from '../../ui.tsx';
import { type LoggedEvent, traceIdOf } from './model.ts';

/** One stream's events in order, each with its place in the log, its data and its metadata. */
export function EventList(props: { events: LoggedEvent[]; label: string }) {
  if (props.events.length === 0) return <p class="muted">No events.</p>;
  return (
    <ol class="ev-list" aria-label={props.label}>
      {props.events.map((e) => (
        <EventItem key={e.id} event={e} />
      ))}
    </ol>
  );
}

function EventItem(props: { event: LoggedEvent }) {
  const e = props.event;
  const trace = traceIdOf(e.metadata.traceparent);
  return (
    <li>
      <dl class="ev-facts inline">
        <div>
          <dt>Type</dt>
          <dd>
            <strong>{e.type}</strong>
          </dd>
        </div>
        <div>
          <dt>Revision</dt>
          <dd class="num">{e.revision}</dd>
        </div>
        <div>
          <dt>Position</dt>
          <dd class="num">{e.position}</dd>
        </div>
        <div>
          <dt>Recorded</dt>
          <dd>
            <Time at={e.recordedAt} />
          </dd>
        </div>
        <div>
          <dt>Actor</dt>
          <dd>
            <code>{e.metadata.actor}</code>
          </dd>
        </div>
        <div>
          <dt>Trace</dt>
          <dd>{trace ? <code>{trace}</code> : '—'}</dd>
        </div>
      </dl>
      <Json value={e.data} />
      <details>
        <summary>Metadata</summary>
        <Json value={e.metadata} />
      </details>
    </li>
  );
}
