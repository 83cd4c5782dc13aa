import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useSession } from '../../context.ts';
import { useResource } from '../../hooks.ts';
import { href } from '../../router.ts';
import { Card, Json, Loaded, ms, PageHeader, Time } from '../../ui.tsx';
import { EventList } from '../events/event-list.tsx';
import { type StreamPage, streamPath, traceIdsOf } from '../events/model.ts';
import { callStream, type ToolCall } from './model.ts';
import { OutcomeBadge } from './outcome.tsx';

const RUNNING_REFRESH_MS = 2000;

/** One tool call: what was asked, by whom, how it ended, and the events that record it. */
export function CallDetail(props: { id: string }) {
  // Polled while the call runs (or is not in the read model yet), then left alone.
  const [refresh, setRefresh] = useState<number | undefined>(RUNNING_REFRESH_MS);
  const call = useResource<ToolCall>(`/tool-calls/${encodeURIComponent(props.id)}`, refresh);
  const events = useResource<StreamPage>(streamPath(callStream(props.id)), refresh);
  const status = call.data?.status;
  const was = useRef(status);
  const reloadEvents = events.reload;
  useEffect(() => {
    if (status) setRefresh(status === 'running' ? RUNNING_REFRESH_MS : undefined);
    // The call just ended: its last event may have been recorded after the events were last read.
    if (was.current === 'running' && status !== 'running') reloadEvents();
    was.current = status;
  }, [status, reloadEvents]);
  return (
    <>
      <PageHeader title={call.data ? `${call.data.tool} on ${call.data.serverName}` : 'Tool call'}>
        {call.data && (
          <a href={`${href('calls')}?server=${encodeURIComponent(call.data.serverName)}`}>
            Calls of this server
          </a>
        )}
        <a href={href('calls')}>All calls</a>
      </PageHeader>
      <Loaded resource={call}>
        {(c) => <CallFacts call={c} traces={traceIdsOf(events.data?.events ?? [])} />}
      </Loaded>
      <Card title="Events" class="wide calls-events">
        <p class="muted">
          Stream <code>{callStream(props.id)}</code>
        </p>
        <Loaded resource={events}>
          {(page) => <EventList events={page.events} label="Events of the call" />}
        </Loaded>
      </Card>
    </>
  );
}

function CallFacts(props: { call: ToolCall; traces: string[] }) {
  const c = props.call;
  return (
    <div class="grid calls-detail">
      <Card title="Outcome">
        <p>
          <OutcomeBadge call={c} />
        </p>
        <Facts>
          <Fact term="Started">
            <Time at={c.startedAt} />
          </Fact>
          <Fact term="Finished">
            <Time at={c.finishedAt} />
          </Fact>
          <Fact term="Duration">{ms(c.durationMs)}</Fact>
        </Facts>
        <CallError call={c} />
      </Card>
      <Card title="Who and where">
        <Facts>
          <Fact term="Server">
            <a href={href('servers', c.serverName)}>{c.serverName}</a>
          </Fact>
          <Fact term="Tool">
            <code>{c.tool}</code>
          </Fact>
          <Fact term="Actor">
            <Actor id={c.actor} />
          </Fact>
          <Fact term="Tenant">{c.tenant}</Fact>
          <Fact term="Via">{c.via.toUpperCase()}</Fact>
          <Fact term="Session">{c.sessionId ? <code>{c.sessionId}</code> : '—'}</Fact>
        </Facts>
      </Card>
      <Card title="Result and trace">
        <Facts>
          <Fact term="Result size">{c.resultBytes === null ? '—' : `${c.resultBytes} bytes`}</Fact>
          <Fact term="Result hash (sha256)">
            {c.resultHash ? <code class="calls-hash">{c.resultHash}</code> : '—'}
          </Fact>
          <Fact term="Trace id">
            {props.traces.length > 0 ? props.traces.map((t) => <code key={t}>{t}</code>) : '—'}
          </Fact>
          <Fact term="Call id">
            <code>{c.id}</code>
          </Fact>
        </Facts>
      </Card>
      <Card title="Arguments" class="wide">
        <p class="muted">As recorded: secret-looking fields are redacted.</p>
        <Json value={c.arguments} />
      </Card>
    </div>
  );
}

function CallError(props: { call: ToolCall }) {
  const { error, abandonReason, isError, status } = props.call;
  if (error) {
    return (
      <p class="error">
        {error.message} <code>{error.code}</code> <span>({error.kind})</span>
      </p>
    );
  }
  if (abandonReason) return <p class="notice">Abandoned: {abandonReason}</p>;
  if (status === 'succeeded' && isError) {
    return <p class="notice">The tool answered with an error (isError: true); the call itself succeeded.</p>;
  }
  return null;
}

function Actor(props: { id: string }) {
  const { me } = useSession();
  return (
    <>
      <code>{props.id}</code>
      {props.id === me.id && ` (${me.name}, you)`}
    </>
  );
}

function Facts(props: { children: ComponentChildren }) {
  return <dl class="ev-facts">{props.children}</dl>;
}

function Fact(props: { term: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{props.term}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}
