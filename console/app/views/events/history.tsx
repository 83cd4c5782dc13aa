import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useSession } from '../../context.ts';
import { useAction, useResource } from '../../hooks.ts';
import { href } from '../../router.ts';
import { Card, ErrorBox, Loaded } from '../../ui.tsx';
import { EventList } from './event-list.tsx';
import { eventsLink, type LoggedEvent, type StreamPage, streamPath } from './model.ts';

/** One stream's history, by revision, with the ways to follow it; focused when it opens. */
export function StreamHistory(props: { stream: string; query: URLSearchParams }) {
  const { stream, query } = props;
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    box.current?.focus();
  }, [stream]);
  const call = stream.startsWith('toolcall-') ? stream.slice('toolcall-'.length) : undefined;
  return (
    <div ref={box} tabIndex={-1} class="events-history">
      <Card title={`Stream ${stream}`} class="wide">
        <p class="actions">
          <a href={eventsLink(query, { stream, category: undefined, type: undefined, after: undefined })}>
            Follow this stream live
          </a>
          {call && <a href={href('calls', call)}>Open the tool call</a>}
          <a href={eventsLink(query, { history: undefined })}>Close</a>
        </p>
        <HistoryPages key={stream} stream={stream} />
      </Card>
    </div>
  );
}

function HistoryPages(props: { stream: string }) {
  const { api } = useSession();
  const first = useResource<StreamPage>(streamPath(props.stream));
  const [later, setLater] = useState<{ events: LoggedEvent[]; next: string | null }>();
  const more = useAction(
    useCallback(
      async (from: string) => {
        const page = await api.get<StreamPage>(streamPath(props.stream, from));
        setLater((old) => ({ events: [...(old?.events ?? []), ...page.events], next: page.nextRevision }));
      },
      [api, props.stream],
    ),
  );
  return (
    <Loaded resource={first}>
      {(page) => {
        const next = later ? later.next : page.nextRevision;
        return (
          <>
            <EventList
              events={[...page.events, ...(later?.events ?? [])]}
              label={`Events of ${props.stream}`}
            />
            {next && (
              <button
                type="button"
                class="secondary"
                disabled={more.pending}
                onClick={() => void more.start(next)}
              >
                {more.pending ? 'Loading…' : 'Load more'}
              </button>
            )}
            <ErrorBox error={more.error} />
          </>
        );
      }}
    </Loaded>
  );
}
