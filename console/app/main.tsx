import './styles.css';
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { createApi } from './api.ts';
import {
  type ConsoleConfig,
  finishOidcSignIn,
  forgetCredential,
  loadConfig,
  storeCredential,
  storedCredential,
} from './auth.ts';
import { type Me, SessionContext } from './context.ts';
import { initialTheme, Layout } from './layout.tsx';
import { type Route, useRoute } from './router.ts';
import { Access } from './views/access.tsx';
import { CallDetail, ToolCalls } from './views/calls.tsx';
import { Events } from './views/events.tsx';
import { Overview } from './views/overview.tsx';
import { ServerPage } from './views/server.tsx';
import { Servers } from './views/servers.tsx';
import { SignIn } from './views/sign-in.tsx';
import { System } from './views/system.tsx';
import { Templates } from './views/templates.tsx';

function View(props: { route: Route }) {
  const [section = 'overview', id] = props.route.path;
  switch (section) {
    case 'servers':
      return id ? <ServerPage name={id} /> : <Servers />;
    case 'calls':
      return id ? <CallDetail id={id} /> : <ToolCalls />;
    case 'events':
      return <Events />;
    case 'templates':
      return <Templates />;
    case 'access':
      return <Access />;
    case 'system':
      return <System />;
    default:
      return <Overview />;
  }
}

function App() {
  const route = useRoute();
  const [config, setConfig] = useState<ConsoleConfig>();
  const [credential, setCredential] = useState<string | null>(storedCredential);
  const [me, setMe] = useState<Me>();
  const [error, setError] = useState<Error>();

  const signOut = useCallback(() => {
    forgetCredential();
    setCredential(null);
    setMe(undefined);
  }, []);
  const api = useMemo(
    () =>
      createApi(credential ?? '', () => {
        setError(new Error('The credential is no longer accepted (revoked or expired): sign in again.'));
        signOut();
      }),
    [credential, signOut],
  );

  useEffect(() => {
    loadConfig().then(async (c) => {
      setConfig(c);
      if (!c.oidc) return;
      try {
        const token = await finishOidcSignIn(c.oidc);
        if (token) {
          storeCredential(token);
          setCredential(token);
        }
      } catch (e) {
        setError(e as Error);
      }
    }, setError);
  }, []);

  useEffect(() => {
    if (!credential) return;
    api.get<Me>('/me').then(
      (m) => {
        setMe(m);
        setError(undefined);
      },
      (e: Error) => {
        setError(e);
        signOut();
      },
    );
  }, [api, credential, signOut]);

  const signInWithKey = async (key: string) => {
    const probe = createApi(key, () => undefined);
    try {
      const m = await probe.get<Me>('/me');
      storeCredential(key);
      setCredential(key);
      setMe(m);
      setError(undefined);
    } catch (e) {
      setError(e as Error);
    }
  };

  if (!credential || !me) {
    if (credential && !error) return <p class="boot">Signing in…</p>;
    return <SignIn config={config} error={error} onKey={signInWithKey} />;
  }
  return (
    <SessionContext.Provider value={{ api, me, signOut }}>
      <Layout section={route.path[0] ?? 'overview'}>
        <View route={route} />
      </Layout>
    </SessionContext.Provider>
  );
}

document.documentElement.dataset.theme = initialTheme();
const root = document.getElementById('app')!;
root.replaceChildren(); // the page's "Loading…" line
render(<App />, root);
