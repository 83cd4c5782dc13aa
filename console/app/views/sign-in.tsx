import { useState } from 'preact/hooks';
import { type ConsoleConfig, startOidcSignIn } from '../auth.ts';
import { ThemeToggle } from '../layout.tsx';
import { ErrorBox, Field } from '../ui.tsx';

/** Sign in with an API key (checked against /api/v1/me) or through the OpenID provider. */
export function SignIn(props: {
  config: ConsoleConfig | undefined;
  error: Error | undefined;
  onKey: (key: string) => Promise<void>;
}) {
  const [key, setKey] = useState('');
  const [pending, setPending] = useState(false);
  const [oidcError, setOidcError] = useState<Error>();
  const oidc = props.config?.oidc;
  const submit = async (e: Event) => {
    e.preventDefault();
    setPending(true);
    await props.onKey(key.trim());
    setPending(false);
  };
  return (
    <main id="main" class="sign-in">
      <div class="card">
        <h1>Switchyard console</h1>
        <form onSubmit={submit}>
          <Field label="API key" hint="sy_… — kept in this tab only, gone when it closes.">
            {(id) => (
              <input
                id={id}
                name="api-key"
                type="password"
                autoComplete="off"
                required
                value={key}
                onInput={(e) => setKey(e.currentTarget.value)}
              />
            )}
          </Field>
          <button type="submit" disabled={pending || key.trim() === ''}>
            {pending ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        {oidc && (
          <p>
            <button
              type="button"
              class="secondary"
              onClick={() => startOidcSignIn(oidc).catch((e: Error) => setOidcError(e))}
            >
              Sign in with {new URL(oidc.issuer).host}
            </button>
          </p>
        )}
        <ErrorBox error={props.error ?? oidcError} />
        <div class="sign-in-foot">
          <span class="muted">{props.config ? `version ${props.config.version}` : ''}</span>
          <ThemeToggle />
        </div>
      </div>
    </main>
  );
}
