import { useEffect, useState } from 'preact/hooks';
import { LineChart } from '../chart.tsx';
import { useEventStream } from '../hooks.ts';
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

/**
 * Calls per second and errors, live: the outcomes of tool calls as they are appended to the log
 * (the event feed, from the log's head when the page opened), in one-second buckets.
 */
export function LiveCalls() {
  const [buckets, setBuckets] = useState(() => empty(Math.floor(Date.now() / 1000)));
  const feed = useEventStream(`/events/stream?type=${OUTCOMES}&from=now`, (e) => {
    if (e.event !== 'message') return;
    const event = JSON.parse(e.data) as { type: string; data: { isError?: boolean } };
    const failed = event.type !== 'ToolCallSucceeded' || event.data.isError === true;
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
