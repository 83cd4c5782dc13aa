import { useCallback } from 'preact/hooks';
import { holds, useSession } from '../../context.ts';
import { useAction, useResource } from '../../hooks.ts';
import { Badge, Card, ErrorBox, Loaded, Table, Time } from '../../ui.tsx';
import { took } from './generation.tsx';
import type { SyncReport, TemplateSource } from './types.ts';

/** A source's status as a word, with the tone the shared badge knows it by. */
const TONE: Record<TemplateSource['status'], string> = {
  synced: 'succeeded',
  failed: 'failed',
  registered: 'starting',
  removed: 'STOPPED',
};

/** GET /template-sources, with their sync state; POST /template-sources/:name/sync on demand. */
export function Sources() {
  const { api, me } = useSession();
  const sources = useResource<{ items: TemplateSource[] }>('/template-sources', 10_000);
  const sync = useAction(
    useCallback(
      async (name: string) => {
        const answer = await api.send<{ reports: SyncReport[] }>(
          'POST',
          `/template-sources/${encodeURIComponent(name)}/sync`,
        );
        sources.reload();
        return answer.reports;
      },
      [api, sources.reload],
    ),
  );
  const manage = holds(me, 'mcp:manage');
  return (
    <div class="grid">
      <Card title="Template sources" class="wide">
        <ErrorBox error={sync.error} />
        {sync.result?.map((r) => (
          <SyncOutcome key={r.source} report={r} />
        ))}
        <Loaded resource={sources}>
          {({ items }) => (
            <Table
              caption="Template sources and their sync state"
              head={['Name', 'Location', 'State', 'Last sync', 'Last check', 'Templates', 'Rejected', '']}
              empty="No template source."
            >
              {items.map((s) => (
                <tr key={s.name}>
                  <td>
                    {s.name}
                    {s.builtIn && <span class="muted"> (built in)</span>}
                  </td>
                  <td>
                    {s.kind} <code>{s.location}</code>
                    {s.ref && <> @ {s.ref}</>}
                    {s.intervalMs && <div class="muted">every {took(s.intervalMs)}</div>}
                  </td>
                  <td>
                    <Badge state={TONE[s.status]} label={s.status} />
                    {s.lastError && (
                      <div class="tpl-error">
                        {s.lastError} {s.lastErrorCode && <code>{s.lastErrorCode}</code>}
                      </div>
                    )}
                  </td>
                  <td>
                    <Time at={s.lastSyncedAt} />
                    {s.lastCommit && (
                      <div class="muted">
                        commit <code>{s.lastCommit.slice(0, 12)}</code>
                      </div>
                    )}
                  </td>
                  <td>
                    {s.lastCheck ? (
                      <>
                        {s.lastCheck.outcome} <Time at={s.lastCheck.checkedAt} />
                      </>
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                  <td class="num">{s.templates.length}</td>
                  <td class="num">{s.rejected.length}</td>
                  <td>
                    {manage && (
                      <button
                        type="button"
                        class="secondary"
                        disabled={sync.pending}
                        aria-label={`Sync now: ${s.name}`}
                        onClick={() => void sync.start(s.name)}
                      >
                        Sync now
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </Loaded>
        {sync.pending && (
          <p role="status" class="muted">
            Syncing…
          </p>
        )}
      </Card>
    </div>
  );
}

function SyncOutcome(props: { report: SyncReport }) {
  const r = props.report;
  const list = (names: string[]) => (names.length > 0 ? names.join(', ') : 'none');
  return (
    <div role="status" class={r.ok ? 'notice' : 'error'}>
      <strong>
        Sync of {r.source}: {r.ok ? (r.changed ? 'changes published' : 'nothing changed') : 'failed'}
      </strong>{' '}
      ({took(r.durationMs)}). {r.templates} templates in the catalog; published {list(r.published)}; removed{' '}
      {list(r.removed)}.{r.error && ` ${r.error.message} (${r.error.code}).`}
      {r.rejected.length > 0 && (
        <ul>
          {r.rejected.map((x) => (
            <li key={x.dir}>
              Rejected <code>{x.name ?? x.dir}</code>: {x.issues.map((i) => i.message).join('; ')}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
