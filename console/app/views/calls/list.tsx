import { useCallback, useState } from 'preact/hooks';
import { useSession } from '../../context.ts';
import { useAction, useResource } from '../../hooks.ts';
import { href, navigate, useRoute } from '../../router.ts';
import { Card, ErrorBox, Loaded, ms, PageHeader, Table, Time } from '../../ui.tsx';
import { CallFilters } from './filters.tsx';
import { callFilterOf, callQuery, type ToolCall, type ToolCallPage } from './model.ts';
import { OutcomeBadge } from './outcome.tsx';

const PAGE_SIZE = 50;
const REFRESH_MS = 5000;

/** The audit log of tool calls: filtered through the hash query, newest first, refreshed while watched. */
export function ToolCalls() {
  const { query } = useRoute();
  const filter = callFilterOf(query);
  const q = callQuery(filter);
  const [follow, setFollow] = useState(true);
  return (
    <>
      <PageHeader title="Tool calls">
        <label class="calls-follow">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} />
          Refresh every {REFRESH_MS / 1000} s
        </label>
      </PageHeader>
      <CallFilters key={q} filter={filter} />
      {filter.from && filter.to && filter.from > filter.to ? (
        <p class="error" role="alert">
          “Started from” is after “Started before”: no call can match.
        </p>
      ) : (
        <CallLog key={q} query={q} follow={follow} />
      )}
    </>
  );
}

/** Older pages, loaded on demand, behind the first page (which refreshes). */
interface Older {
  rows: ToolCall[];
  cursor: string | null;
}

function CallLog(props: { query: string; follow: boolean }) {
  const { api } = useSession();
  const base = `/tool-calls?${props.query}${props.query ? '&' : ''}limit=${PAGE_SIZE}`;
  const head = useResource<ToolCallPage>(base, props.follow ? REFRESH_MS : undefined);
  const [older, setOlder] = useState<Older>();
  const { rows, cursor, broken } = merge(head.data, older);
  const more = useAction(
    useCallback(
      async (after: string, shown: ToolCall[]) => {
        const page = await api.get<ToolCallPage>(`${base}&cursor=${encodeURIComponent(after)}`);
        setOlder({ rows: [...shown, ...page.items], cursor: page.nextCursor });
      },
      [api, base],
    ),
  );
  return (
    <Card title="Calls" class="wide calls-log">
      <Loaded resource={head}>
        {() => (
          <>
            {broken && (
              <p class="notice" role="status">
                More calls arrived than a page holds since the last refresh: the older pages were dropped;
                “Load more” continues from the newest page.
              </p>
            )}
            <CallTable rows={rows} />
            <p class="calls-foot">
              <span class="muted" aria-live="polite">
                {rows.length} {rows.length === 1 ? 'call' : 'calls'} shown
                {cursor ? '' : rows.length > 0 ? ' — the oldest is reached' : ''}
              </span>
              {cursor && (
                <button
                  type="button"
                  class="secondary"
                  disabled={more.pending}
                  onClick={() => void more.start(cursor, rows)}
                >
                  {more.pending ? 'Loading…' : 'Load more'}
                </button>
              )}
            </p>
            <ErrorBox error={more.error} />
          </>
        )}
      </Loaded>
    </Card>
  );
}

/**
 * The first page (fresh) over the older pages loaded so far (each call once, the fresh copy winning).
 * When the first page no longer overlaps them, calls may be missing in between: the older pages go.
 */
function merge(head: ToolCallPage | undefined, older: Older | undefined) {
  const items = head?.items ?? [];
  if (!older) return { rows: items, cursor: head?.nextCursor ?? null, broken: false };
  const olderIds = new Set(older.rows.map((r) => r.id));
  const overlaps = items.length < PAGE_SIZE || items.some((i) => olderIds.has(i.id));
  if (!overlaps) return { rows: items, cursor: head?.nextCursor ?? null, broken: true };
  const fresh = new Set(items.map((i) => i.id));
  return {
    rows: [...items, ...older.rows.filter((r) => !fresh.has(r.id))],
    cursor: older.cursor,
    broken: false,
  };
}

function CallTable(props: { rows: ToolCall[] }) {
  return (
    <Table
      caption="Tool calls, newest first"
      head={['Started', 'Server', 'Tool', 'Actor', 'Via', 'Outcome', 'Duration']}
      empty="No calls match."
    >
      {props.rows.map((c) => (
        <CallRow key={c.id} call={c} />
      ))}
    </Table>
  );
}

function CallRow(props: { call: ToolCall }) {
  const c = props.call;
  const { me } = useSession();
  const target = href('calls', c.id);
  // The link in the first cell is the way for the keyboard; the whole row answers a pointer.
  const open = (e: MouseEvent) => {
    if (!(e.target as Element).closest('a, button') && !getSelection()?.toString()) navigate(target);
  };
  return (
    <tr class="calls-row" onClick={open}>
      <td>
        <a
          href={target}
          aria-label={`Call of ${c.tool} on ${c.serverName}, started ${new Date(c.startedAt).toLocaleString()}`}
        >
          <Time at={c.startedAt} />
        </a>
      </td>
      <td>
        <a href={href('servers', c.serverName)}>{c.serverName}</a>
      </td>
      <td>
        <code>{c.tool}</code>
      </td>
      <td class="calls-actor" title={c.actor}>
        {c.actor === me.id ? `${me.name} (you)` : c.actor}
      </td>
      <td>{c.via.toUpperCase()}</td>
      <td>
        <OutcomeBadge call={c} />
      </td>
      <td class="num">{ms(c.durationMs)}</td>
    </tr>
  );
}
