import { useCallback, useState } from 'preact/hooks';
import { holds, useSession } from '../../context.ts';
import { useAction, useResource } from '../../hooks.ts';
import { href } from '../../router.ts';
import { Badge, Card, ErrorBox, Loaded, Table, Time } from '../../ui.tsx';
import { CreateKeyForm, NewKeyBox } from './new-key.tsx';
import { type ApiKey, type IssuedKey, ownKeyId, usePrincipals } from './types.ts';

function stateOf(k: ApiKey): string {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && Date.parse(k.expiresAt) <= Date.now()) return 'expired';
  return 'active';
}

/**
 * GET /api-keys (one's own; a manager's view holds the tenant's), create, rotate and revoke. A
 * created or rotated key is shown once, in {@link NewKeyBox}, and kept nowhere.
 */
export function ApiKeys(props: { principal: string | undefined }) {
  const { api, me } = useSession();
  const principals = usePrincipals();
  const query = props.principal ? `?principal=${encodeURIComponent(props.principal)}` : '';
  const keys = useResource<{ items: ApiKey[] }>(`/api-keys${query}`, 15_000);
  const [issued, setIssued] = useState<{ key: IssuedKey; rotated: boolean }>();
  const onIssued = useCallback(
    (key: IssuedKey) => {
      setIssued({ key, rotated: false });
      keys.reload();
    },
    [keys.reload],
  );
  const act = useAction(
    useCallback(
      async (kind: 'rotate' | 'revoke', keyId: string) => {
        const path = `/api-keys/${encodeURIComponent(keyId)}`;
        if (kind === 'revoke') await api.send('DELETE', path);
        else setIssued({ key: await api.send<IssuedKey>('POST', `${path}/rotate`), rotated: true });
        keys.reload();
        return true;
      },
      [api, keys.reload],
    ),
  );
  const own = ownKeyId(me);
  const confirmed = (kind: 'rotate' | 'revoke', k: ApiKey) => {
    const signedIn = k.keyId === own ? ' This console is signed in with it: you will be signed out.' : '';
    const what =
      kind === 'revoke'
        ? `Revoke API key “${k.name}” (${k.keyId})? Every gateway refuses it within a second.`
        : `Rotate API key “${k.name}” (${k.keyId})? It is revoked now and replaced by a new key.`;
    return confirm(what + signedIn);
  };
  return (
    <div class="grid">
      {issued && (
        <NewKeyBox issued={issued.key} rotated={issued.rotated} onDismiss={() => setIssued(undefined)} />
      )}
      <Card title="Create an API key" class="wide">
        <CreateKeyForm principals={principals.list} forPrincipal={props.principal} onIssued={onIssued} />
      </Card>
      <Card
        title={props.principal ? `API keys of ${principals.nameOf(props.principal)}` : 'API keys'}
        class="wide"
      >
        {props.principal && (
          <p>
            <a href={`${href('access')}?tab=keys`}>Every key I may see</a>
          </p>
        )}
        <ErrorBox error={act.error} />
        <Loaded resource={keys}>
          {({ items }) => (
            <Table
              caption="API keys (the keys themselves are never shown again)"
              head={[
                'Name',
                'Key id',
                'Ends with',
                'Principal',
                'Scopes',
                'Issued',
                'Expires',
                'State',
                'Actions',
              ]}
              empty="No API key."
            >
              {items.map((k) => {
                const state = stateOf(k);
                const manageable = state === 'active' && (k.principalId === me.id || holds(me, 'mcp:manage'));
                return (
                  <tr key={k.keyId}>
                    <td>
                      {k.name}
                      {k.keyId === own && <span class="muted"> (this console’s)</span>}
                    </td>
                    <td>
                      <code>{k.keyId}</code>
                    </td>
                    <td>
                      <code>…{k.last4}</code>
                    </td>
                    <td>{principals.nameOf(k.principalId)}</td>
                    <td>{k.scopes ? k.scopes.join(', ') : 'the principal’s'}</td>
                    <td>
                      <Time at={k.issuedAt} />
                      {k.rotatedFrom && <div class="muted">replaces {k.rotatedFrom}</div>}
                    </td>
                    <td>{k.expiresAt ? <Time at={k.expiresAt} /> : 'never'}</td>
                    <td>
                      <Badge state={state === 'active' ? 'active' : 'DISABLED'} label={state} />
                      {k.revokedAt && (
                        <div class="muted">
                          <Time at={k.revokedAt} />
                        </div>
                      )}
                    </td>
                    <td class="acc-actions">
                      {manageable && (
                        <>
                          <button
                            type="button"
                            class="secondary"
                            disabled={act.pending}
                            aria-label={`Rotate key ${k.keyId}`}
                            onClick={() => confirmed('rotate', k) && void act.start('rotate', k.keyId)}
                          >
                            Rotate
                          </button>
                          <button
                            type="button"
                            class="danger"
                            disabled={act.pending}
                            aria-label={`Revoke key ${k.keyId}`}
                            onClick={() => confirmed('revoke', k) && void act.start('revoke', k.keyId)}
                          >
                            Revoke
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </Table>
          )}
        </Loaded>
      </Card>
    </div>
  );
}
