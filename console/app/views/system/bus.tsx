import { ApiError } from '../../api.ts';
import { useResource } from '../../hooks.ts';
import { Card, ErrorBox, Loaded, Table, Time } from '../../ui.tsx';
import { bytes } from '../templates/types.ts';
import { REFRESH_MS } from './refresh.ts';

interface BusView {
  stream: { name: string; messages: number; bytes: number; firstSeq: number; lastSeq: number };
  subjects: Record<string, number>;
  consumers: Array<{
    name: string;
    filterSubjects: string[];
    pending: number;
    ackPending: number;
    redelivered: number;
    /** Stream sequence of the ack floor. */
    ackFloor: number;
    delivered: number;
  }>;
  /** The newest dead letters (at most 100), newest first. */
  deadLetters: Array<{
    consumer: string;
    event: { id: string; type: string; stream: string; position: string; recordedAt: string };
    error: string;
  }>;
  deadLettersTotal?: number;
}

/** GET /bus: the NATS JetStream stream the log is published to, its subjects, consumers, dead letters. */
export function Bus() {
  const bus = useResource<BusView>('/bus', REFRESH_MS);
  const absent = bus.error instanceof ApiError && (bus.error.status === 404 || bus.error.status === 503);
  if (absent) {
    return (
      <Card title="Event bus" class="wide">
        <p class="notice">
          No bus to report: this gateway runs without NATS JetStream, or does not report it (GET /api/v1/bus
          answered {(bus.error as ApiError).status}).
        </p>
      </Card>
    );
  }
  const b = bus.data;
  if (!b) {
    return (
      <Card title="Event bus" class="wide">
        <Loaded resource={bus}>{() => null}</Loaded>
      </Card>
    );
  }
  const total = b.deadLettersTotal ?? b.deadLetters.length;
  return (
    <>
      <Card title={`Event bus: stream ${b.stream.name}`} class="wide">
        <ErrorBox error={bus.error} />
        <dl class="stats">
          <div>
            <dt>Messages</dt>
            <dd>{b.stream.messages}</dd>
          </div>
          <div>
            <dt>Size</dt>
            <dd>{bytes(b.stream.bytes)}</dd>
          </div>
          <div>
            <dt>First sequence</dt>
            <dd>{b.stream.firstSeq}</dd>
          </div>
          <div>
            <dt>Last sequence</dt>
            <dd>{b.stream.lastSeq}</dd>
          </div>
        </dl>
        <h3 class="sys-subhead">Subjects</h3>
        <Table caption="Messages per subject" head={['Subject', 'Messages']} empty="No subject.">
          {Object.entries(b.subjects)
            .sort(([, x], [, y]) => y - x)
            .map(([subject, count]) => (
              <tr key={subject}>
                <td>
                  <code>{subject}</code>
                </td>
                <td class="num">{count}</td>
              </tr>
            ))}
        </Table>
      </Card>
      <Card title="Consumers" class="wide">
        <Table
          caption="Consumers of the stream"
          head={['Name', 'Subjects', 'Pending', 'Awaiting ack', 'Redelivered', 'Ack floor', 'Delivered']}
          empty="No consumer."
        >
          {b.consumers.map((c) => (
            <tr key={c.name}>
              <td>{c.name}</td>
              <td>
                <code>{c.filterSubjects.length > 0 ? c.filterSubjects.join(', ') : 'all'}</code>
              </td>
              <td class="num">{c.pending}</td>
              <td class="num">{c.ackPending}</td>
              <td class="num">{c.redelivered}</td>
              <td class="num">{c.ackFloor}</td>
              <td class="num">{c.delivered}</td>
            </tr>
          ))}
        </Table>
      </Card>
      <Card title={`Dead letters (${total})`} class="wide">
        {total > b.deadLetters.length && (
          <p class="muted">
            The newest {b.deadLetters.length} of {total}.
          </p>
        )}
        <Table
          caption="Events consumers gave up on"
          head={['Consumer', 'Event', 'Type', 'Stream', 'Position', 'Recorded', 'Error']}
          empty="No dead letter."
        >
          {b.deadLetters.map((d) => (
            <tr key={`${d.consumer}-${d.event.id}`}>
              <td>{d.consumer}</td>
              <td>
                <code>{d.event.id}</code>
              </td>
              <td>{d.event.type}</td>
              <td>
                <code>{d.event.stream}</code>
              </td>
              <td class="num">{d.event.position}</td>
              <td>
                <Time at={d.event.recordedAt} />
              </td>
              <td>{d.error}</td>
            </tr>
          ))}
        </Table>
      </Card>
    </>
  );
}
