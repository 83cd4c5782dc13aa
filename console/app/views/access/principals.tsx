import { useResource } from '../../hooks.ts';
import { href } from '../../router.ts';
import { Badge, Card, Loaded, Table, Time } from '../../ui.tsx';
import type { Principal } from './types.ts';

const stateOf = (p: Principal) => (p.erased ? 'erased' : p.disabled ? 'disabled' : 'active');

/** GET /principals: the tenant's users and service accounts. */
export function Principals() {
  const principals = useResource<{ items: Principal[] }>('/principals', 15_000);
  return (
    <Card title="Principals" class="wide">
      <Loaded resource={principals}>
        {({ items }) => (
          <Table
            caption="Principals of the tenant"
            head={['Name', 'Kind', 'Roles', 'State', 'Signs in with', 'Created', 'Id', '']}
            empty="No principal."
          >
            {items.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>{p.kind}</td>
                <td>{p.roles.join(', ')}</td>
                <td>
                  <Badge state={p.disabled || p.erased ? 'DISABLED' : 'active'} label={stateOf(p)} />
                </td>
                <td>{p.source.type === 'oidc' ? `OpenID (${p.source.issuer})` : 'API keys'}</td>
                <td>
                  <Time at={p.createdAt} />
                </td>
                <td>
                  <code>{p.id}</code>
                </td>
                <td>
                  <a
                    href={`${href('access')}?tab=keys&principal=${encodeURIComponent(p.id)}`}
                    aria-label={`API keys of ${p.name}`}
                  >
                    Keys
                  </a>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Loaded>
    </Card>
  );
}
