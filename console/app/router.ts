import { useEffect, useState } from 'preact/hooks';

/** Where the console is: the hash (`#/servers/everything?tab=tools`), so the gateway serves one page. */
export interface Route {
  path: string[];
  query: URLSearchParams;
}

function current(): Route {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = raw.split('?', 2);
  return {
    path: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(query),
  };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const onChange = () => setRoute(current());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** A link target inside the console: `href('servers', name)` → `#/servers/<name>`. */
export const href = (...parts: string[]) => `#/${parts.map(encodeURIComponent).join('/')}`;

export function navigate(target: string) {
  location.hash = target.replace(/^#/, '');
}

/** Replaces the query of the current route (filters), keeping the path. */
export function setQuery(values: Record<string, string | undefined>) {
  const { path, query } = current();
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === '') query.delete(k);
    else query.set(k, v);
  }
  const q = query.toString();
  history.replaceState(null, '', `#/${path.map(encodeURIComponent).join('/')}${q ? `?${q}` : ''}`);
  dispatchEvent(new HashChangeEvent('hashchange'));
}
