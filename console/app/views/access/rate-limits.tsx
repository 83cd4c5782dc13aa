import { holds, useSession } from '../../context.ts';
import { useRemove, useResource } from '../../hooks.ts';
import { Card, ErrorBox, Loaded, Table, Time } from '../../ui.tsx';
import { type RateLimit, usePrincipals } from './types.ts';

const SCOPES: Record<RateLimit['scope'], string> = {
  address: 'per client address',
  principal: 'per principal',
  'principal-tool': 'per principal and tool',
};

/** GET /rate-limits (those that apply to the tenant); DELETE /rate-limits/:id. */
export function RateLimits() {
  const { me } = useSession();
  const principals = usePrincipals();
  const limits = useResource<{ items: RateLimit[] }>('/rate-limits', 15_000);
  const remove = useRemove('/rate-limits', limits.reload);
  const matchText = (m: RateLimit['match']) =>
    [
      m.principal && `principal ${principals.nameOf(m.principal)}`,
      m.server && `servers ${m.server}`,
      m.tool && `tools ${m.tool}`,
    ]
      .filter(Boolean)
      .join(', ') || 'everything';
  return (
    <Card title="Rate limits" class="wide">
      <ErrorBox error={remove.error} />
      <Loaded resource={limits}>
        {({ items }) => (
          <Table
            caption="Rate limits that apply to the tenant"
            head={['Name', 'Counted', 'Allows', 'Applies to', 'Tenant', 'Set', '']}
            empty="No rate limit."
          >
            {items.map((l) => (
              <tr key={l.rateLimitId}>
                <td>{l.name}</td>
                <td>{SCOPES[l.scope]}</td>
                <td>
                  {l.points} requests per {l.windowSeconds} s
                </td>
                <td>{matchText(l.match)}</td>
                <td>{l.tenant ?? 'every tenant'}</td>
                <td>
                  <Time at={l.setAt} />
                </td>
                <td>
                  {holds(me, 'mcp:manage') && (
                    <button
                      type="button"
                      class="danger"
                      disabled={remove.pending}
                      aria-label={`Remove rate limit ${l.name}`}
                      onClick={() =>
                        confirm(`Remove rate limit “${l.name}”?`) && void remove.start(l.rateLimitId)
                      }
                    >
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Loaded>
    </Card>
  );
}
