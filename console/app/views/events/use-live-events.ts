import { useEffect, useRef, useState } from 'preact/hooks';
import type { StreamEvent } from '../../api.ts';
import { useEventStream } from '../../hooks.ts';
import { type EventsFilter, filterQuery, type LoggedEvent } from './model.ts';

/** How many events the page keeps (newest first); older ones fall off. */
export const CAP = 500;
/** Events arriving within this window are shown together (a catch-up sends thousands at once). */
const FLUSH_MS = 200;

export interface LiveEvents {
  rows: LoggedEvent[];
  received: number;
  status: 'connecting' | 'live' | 'reconnecting' | 'refused' | 'paused';
  paused: boolean;
  setPaused: (paused: boolean) => void;
  clear: () => void;
  /** Why the feed cannot connect (the API's refusal), once known. */
  problem: Error | undefined;
  /** Why the gateway ended the feed last (`shutdown`, `slow-consumer`, `unauthorized`, `error`). */
  ended: string | undefined;
}

/**
 * The live event log for a filter, newest first and capped. The page holds the cursor (the last
 * position shown): pausing closes the feed and resuming reopens it after that position, and a broken
 * feed reopens the same way — so `after` appears in the path once, never twice.
 */
export function useLiveEvents(filter: EventsFilter): LiveEvents {
  const [rows, setRows] = useState<LoggedEvent[]>([]);
  const [received, setReceived] = useState(0);
  const [paused, setPausedState] = useState(false);
  const [resumeAfter, setResumeAfter] = useState<string>();
  const [ended, setEnded] = useState<string>();
  const last = useRef<string | undefined>(undefined);
  const buffer = useRef<LoggedEvent[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const flush = () => {
    const batch = buffer.current.slice(-CAP).reverse();
    const count = buffer.current.length;
    buffer.current = [];
    timer.current = undefined;
    setRows((old) => [...batch, ...old].slice(0, CAP));
    setReceived((n) => n + count);
    setEnded(undefined);
  };
  const onEvent = (e: StreamEvent) => {
    if (e.event === 'end') {
      setEnded(reasonOf(e.data));
      return;
    }
    const event = parse(e.data);
    if (!event) return;
    last.current = event.position;
    buffer.current.push(event);
    timer.current ??= setTimeout(flush, FLUSH_MS);
  };
  useEffect(() => () => clearTimeout(timer.current), []);

  const cursor = { ...filter, after: resumeAfter ?? filter.after };
  const query = filterQuery(cursor);
  // Without a position to start from, the feed starts at the log's head: a log of millions of
  // events is not replayed into the page.
  if (!cursor.after) query.set('from', 'now');
  const path = paused ? null : `/events/stream?${query}`;
  const feed = useEventStream(path, onEvent);
  const problem = feed.status === 'refused' ? feed.error : undefined;

  const setPaused = (p: boolean) => {
    if (!p && last.current) setResumeAfter(last.current);
    setPausedState(p);
  };
  const clear = () => {
    setRows([]);
    setReceived(0);
  };
  return {
    rows,
    received,
    status: paused ? 'paused' : feed.status,
    paused,
    setPaused,
    clear,
    problem,
    ended,
  };
}

function parse(data: string): LoggedEvent | undefined {
  try {
    const e = JSON.parse(data) as LoggedEvent;
    return typeof e.position === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}

function reasonOf(data: string): string {
  try {
    return String((JSON.parse(data) as { reason?: unknown }).reason ?? 'unknown');
  } catch {
    return 'unknown';
  }
}
