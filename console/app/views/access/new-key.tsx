import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useSession } from '../../context.ts';
import { useAction } from '../../hooks.ts';
import { ErrorBox, Field } from '../../ui.tsx';
import { type IssuedKey, PERMISSIONS, type Permission, type Principal } from './types.ts';

/**
 * A key the API just issued: the only time it is shown. Held in this component's state only —
 * never stored, never logged — and gone when dismissed or when the page is left.
 */
export function NewKeyBox(props: { issued: IssuedKey; rotated: boolean; onDismiss: () => void }) {
  const { issued } = props;
  const [copied, setCopied] = useState<string>();
  const box = useRef<HTMLElement>(null);
  useEffect(() => box.current?.focus(), [issued.keyId]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(issued.key);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser refused the clipboard: select the key and copy it yourself.');
    }
  };
  return (
    <section class="card wide acc-new-key" aria-labelledby="new-key-title" tabIndex={-1} ref={box}>
      <h2 id="new-key-title">
        {props.rotated ? 'Key rotated: here is its replacement' : 'API key created'}: {issued.name} (
        <code>{issued.keyId}</code>)
      </h2>
      <p>
        <strong>Copy it now: it will not be shown again.</strong> Switchyard keeps only a keyed hash of it; if
        it is lost, rotate or revoke it and create another.
      </p>
      <Field label="New API key">
        {(id) => (
          <input
            id={id}
            class="secret"
            readOnly
            value={issued.key}
            autocomplete="off"
            spellcheck={false}
            onFocus={(e) => e.currentTarget.select()}
          />
        )}
      </Field>
      <div class="actions">
        <button type="button" onClick={() => void copy()}>
          Copy key
        </button>
        <button type="button" class="secondary" onClick={props.onDismiss}>
          I have copied it — dismiss
        </button>
      </div>
      <p role="status" class="muted">
        {copied ?? ''}
      </p>
    </section>
  );
}

/** POST /api-keys: for oneself, or (managers) for a principal of the tenant. */
export function CreateKeyForm(props: {
  principals: Principal[];
  forPrincipal: string | undefined;
  onIssued: (key: IssuedKey) => void;
}) {
  const { api, me } = useSession();
  const [name, setName] = useState('');
  const [principalId, setPrincipalId] = useState(props.forPrincipal ?? me.id);
  const [scopes, setScopes] = useState<Permission[]>([]);
  const [days, setDays] = useState('');
  const { onIssued } = props;
  const create = useAction(
    useCallback(
      // Hands the key on and answers only `true`, so the action's own state never holds it.
      async (body: Record<string, unknown>) => {
        onIssued(await api.send<IssuedKey>('POST', '/api-keys', body));
        return true;
      },
      [api, onIssued],
    ),
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    const done = await create.start({
      name: name.trim(),
      ...(principalId !== me.id && { principalId }),
      ...(scopes.length > 0 && { scopes }),
      ...(days && { expiresInDays: Number(days) }),
    });
    if (done) setName('');
  };
  const toggle = (p: Permission, on: boolean) =>
    setScopes((s) => (on ? [...s, p] : s.filter((x) => x !== p)));
  const others = props.principals.filter((p) => p.id !== me.id && !p.disabled);
  return (
    <form onSubmit={submit}>
      <div class="acc-row">
        <Field label="Name" hint="What the key is for, e.g. “CI deploys”">
          {(id) => (
            <input
              id={id}
              required
              maxLength={200}
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
            />
          )}
        </Field>
        {others.length > 0 && (
          <Field label="For">
            {(id) => (
              <select id={id} value={principalId} onChange={(e) => setPrincipalId(e.currentTarget.value)}>
                <option value={me.id}>Myself ({me.name})</option>
                {others.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name} ({p.kind})
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <Field label="Expires in days" hint="Empty: never">
          {(id) => (
            <input
              id={id}
              type="number"
              min={1}
              max={3650}
              step={1}
              value={days}
              onInput={(e) => setDays(e.currentTarget.value)}
            />
          )}
        </Field>
      </div>
      <fieldset class="acc-scopes">
        <legend>Scopes — at most these permissions (none ticked: the principal’s own)</legend>
        <div class="acc-checks">
          {PERMISSIONS.map((p) => (
            <label key={p} class="acc-check">
              <input
                type="checkbox"
                checked={scopes.includes(p)}
                onChange={(e) => toggle(p, e.currentTarget.checked)}
              />
              {p}
            </label>
          ))}
        </div>
      </fieldset>
      <div class="actions">
        <button type="submit" disabled={create.pending}>
          {create.pending ? 'Creating…' : 'Create key'}
        </button>
      </div>
      <ErrorBox error={create.error} />
    </form>
  );
}
