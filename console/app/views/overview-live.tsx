import { useEffect, useState } from 'preact/hooks';
import { LineChart } from '../chart.tsx';
import { type StreamState, useEventStream } from '../hooks.ts';
import { Card, ErrorBox, percent } from '../ui.tsx';

const WINDOW_S = 120;
const OUTCOMES = 'ToolCallSucceeded,ToolCallFailed,ToolCallAbandoned';

interface Buckets {
  /** Second (epoch) of the last bucket. */
  end: number;
  calls: number[];
  errors: number[];
}

const empty = (now: number): Buckets => ({
  end: now,
  calls: new Array(WINDOW_S).fill(0),
  errors: new Array(WINDOW_S).fill(0),
});

/** Moves the window to `now`: whole seconds that passed become empty buckets. */
function advance(b: Buckets, now: number): Buckets {
  const shift = Math.min(WINDOW_S, now - b.end);
  if (shift <= 0) return b;
  return {
    end: now,
    calls: [...b.calls.slice(shift), ...new Array(shift).fill(0)],
    errors: [...b.errors.slice(shift), ...new Array(shift).fill(0)],
  };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** What changes the health card: a check's verdict, a server coming, going, switched on or off. */
const SERVER_CHANGES = 'ServerHealthChanged,ServerRegistered,ServerEnabled,ServerDisabled,ServerRemoved';

export interface LiveOverview {
  buckets: Buckets;
  feed: StreamState;
}

/**
 * The overview's one feed of the log, from its head when the page opened: tool-call outcomes count
 * into one-second buckets; a failed call and a change of a server's health tell the cards that show
 * them to read again (the cards also refresh on a timer, in case the feed is down).
 */
export function useLiveOverview(on: { serverChanged: () => void; callFailed: () => void }): LiveOverview {
  const [buckets, setBuckets] = useState(() => empty(Math.floor(Date.now() / 1000)));
  const feed = useEventStream(`/events/stream?type=${OUTCOMES},${SERVER_CHANGES}&from=now`, (e) => {
    if (e.event !== 'message') return;
    const event = JSON.parse(e.data) as { type: string; data: { isError?: boolean } };
    // The read models follow the log within moments: read them again a little after the event.
    if (!OUTCOMES.includes(event.type)) return void setTimeout(on.serverChanged, 500);
    const failed = event.type !== 'ToolCallSucceeded' || event.data.isError === true;
    if (event.type === 'ToolCallFailed') setTimeout(on.callFailed, 500);
    setBuckets((b) => {
      const next = advance(b, Math.floor(Date.now() / 1000));
      next.calls[WINDOW_S - 1]! += 1;
      if (failed) next.errors[WINDOW_S - 1]! += 1;
      return { ...next };
    });
  });
  useEffect(() => {
    const timer = setInterval(() => setBuckets((b) => advance(b, Math.floor(Date.now() / 1000))), 1000);
    return () => clearInterval(timer);
  }, []);
  return { buckets, feed };
}

/** Calls per second and errors over the last two minutes, as the feed counted them. */
export function LiveCalls(props: LiveOverview) {
  const { buckets, feed } = props;
  const times = buckets.calls.map((_, i) => buckets.end - WINDOW_S + 1 + i);
  const last10 = sum(buckets.calls.slice(-10)) / 10;
  const lastMinute = sum(buckets.calls.slice(-60));
  const errorsMinute = sum(buckets.errors.slice(-60));
  return (
    <Card title="Tool calls, live" class="wide">
      <dl class="stats">
        <div>
          <dt>calls/s (last 10 s)</dt>
          <dd>{last10.toFixed(1)}</dd>
        </div>
        <div>
          <dt>calls (last minute)</dt>
          <dd>{lastMinute}</dd>
        </div>
        <div>
          <dt>error rate (last minute)</dt>
          <dd>{lastMinute === 0 ? '—' : percent(errorsMinute / lastMinute)}</dd>
        </div>
        <div>
          <dt>feed</dt>
          <dd class="feed-status">{feed.status}</dd>
        </div>
      </dl>
      {feed.status === 'refused' && <ErrorBox error={feed.error} />}
      <LineChart
        label={`Calls and errors per second over the last ${WINDOW_S} seconds: ${lastMinute} calls and ${errorsMinute} errors in the last minute`}
        times={times}
        series={[
          { label: 'calls/s', colorVar: '--accent', values: buckets.calls },
          { label: 'errors/s', colorVar: '--bad', values: buckets.errors },
        ]}
      />
    </Card>
  );
}
