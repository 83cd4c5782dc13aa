import { ApiError } from '../../api.ts';
import { Badge, Card, Table, Time } from '../../ui.tsx';
import { DataCell } from './data-cell.tsx';
import { type EventsFilter, eventsLink, type LoggedEvent } from './model.ts';
import { CAP, type LiveEvents, useLiveEvents } from './use-live-events.ts';

const STATUS_WORDS: Record<LiveEvents['status'], [state: string, label: string]> = {
  connecting: ['starting', 'connecting'],
  live: ['live', 'live'],
  reconnecting: ['starting', 'reconnecting'],
  refused: ['failed', 'refused'],
  paused: ['STOPPED', 'paused'],
};

/** The event log as it happens, newest first; keyed by the filter, so a new filter starts afresh. */
export function LiveLog(props: { filter: EventsFilter; query: URLSearchParams }) {
  const feed = useLiveEvents(props.filter);
  const [state, label] = STATUS_WORDS[feed.status];
  return (
    <Card title="Live" class="wide events-live">
      <div class="events-toolbar">
        <span role="status">
          Feed: <Badge state={state} label={label} />
        </span>
        <button type="button" class="secondary" onClick={() => feed.setPaused(!feed.paused)}>
          {feed.paused ? 'Resume' : 'Pause'}
        </button>
        <button type="button" class="ghost" onClick={feed.clear} disabled={feed.rows.length === 0}>
          Clear
        </button>
        <span class="muted">
          {feed.rows.length < feed.received
            ? `The newest ${feed.rows.length} of ${feed.received} events received`
            : `${feed.received} events received`}
          {props.filter.after
            ? ` after position ${props.filter.after}`
            : ' appended since this page opened (set “after” to replay from a position)'}
          ; at most {CAP} kept.
        </span>
      </div>
      {feed.ended && feed.status !== 'live' && (
        <p class="notice">
          The gateway ended the feed ({feed.ended}); it resumes after the last event shown.
        </p>
      )}
      {feed.problem && (
        <p class="error" role="alert">
          The feed cannot connect: {feed.problem.message}
          {feed.problem instanceof ApiError && feed.problem.code && <code> {feed.problem.code}</code>}
        </p>
      )}
      <EventTable rows={feed.rows} query={props.query} />
    </Card>
  );
}

function EventTable(props: { rows: LoggedEvent[]; query: URLSearchParams }) {
  return (
    <Table
      caption="Events, newest first"
      head={['Position', 'Recorded', 'Type', 'Stream', 'Actor', 'Data']}
      empty="No events yet: they appear here as they are recorded."
    >
      {props.rows.map((e) => (
        <tr key={e.id}>
          <td class="num">{e.position}</td>
          <td>
            <Time at={e.recordedAt} />
          </td>
          <td>{e.type}</td>
          <td class="events-stream">
            <a
              href={eventsLink(props.query, { history: e.stream })}
              aria-label={`History of stream ${e.stream}`}
            >
              {e.stream}
            </a>
          </td>
          <td class="events-actor" title={e.metadata.actor}>
            {e.metadata.actor}
          </td>
          <td>
            <DataCell value={e.data} label={`${e.type} at position ${e.position}`} />
          </td>
        </tr>
      ))}
    </Table>
  );
}
