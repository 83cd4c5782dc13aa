/**
 * Collision-safe names on the aggregate endpoint. Tools and prompts become `<server><sep><name>`
 * (default separator `__`; server names cannot contain it, so the split is unambiguous). Resource
 * URIs and URI templates become `switchyard://<server>/<original>`, which keeps the original
 * readable and makes two servers' `file:///a` distinct.
 */
export interface Naming {
  separator: string;
  /** The aggregate endpoint's prefix mode when the client does not choose one. */
  prefix: PrefixMode;
}

export const defaultNaming: Naming = { separator: '__', prefix: 'always' };

export function qualify(naming: Pick<Naming, 'separator'>, server: string, name: string): string {
  return `${server}${naming.separator}${name}`;
}

/** Splits a qualified name at the first separator; undefined when there is none. */
export function unqualify(
  naming: Pick<Naming, 'separator'>,
  qualified: string,
): { server: string; name: string } | undefined {
  const i = qualified.indexOf(naming.separator);
  if (i <= 0) return undefined;
  const name = qualified.slice(i + naming.separator.length);
  if (name === '') return undefined;
  return { server: qualified.slice(0, i), name };
}

const URI_PREFIX = 'switchyard://';

export function wrapUri(server: string, uri: string): string {
  return `${URI_PREFIX}${server}/${uri}`;
}

export function unwrapUri(wrapped: string): { server: string; uri: string } | undefined {
  if (!wrapped.startsWith(URI_PREFIX)) return undefined;
  const rest = wrapped.slice(URI_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const uri = rest.slice(slash + 1);
  return uri === '' ? undefined : { server: rest.slice(0, slash), uri };
}

/**
 * How the aggregate endpoint names what its servers offer: `always` qualified (the default);
 * `collisions`, as each server names it where no other server offers the same name, qualified where
 * two would clash; `never`, as each server names it, the first server (in name order) keeping a
 * name two offer. Set per endpoint with `/mcp?prefix=…`, by default with SWITCHYARD_PREFIX_MODE.
 */
export const PREFIX_MODES = ['always', 'collisions', 'never'] as const;
export type PrefixMode = (typeof PREFIX_MODES)[number];

/** A tool, prompt, resource URI or URI template (`name`) as one server (`server`) offers it. */
export interface Offered {
  server: string;
  name: string;
}

export interface Exposure {
  /** What a name on the endpoint means. */
  byName: ReadonlyMap<string, Offered>;
  /** The endpoint's name for what a server offers; undefined when the endpoint does not serve it. */
  nameOf(server: string, name: string): string | undefined;
}

/**
 * The endpoint's names for everything `offered`, under a prefix mode. `qualify` gives the collision-
 * free form (`<server>__<tool>`, `switchyard://<server>/<uri>`); a plain name that would equal some
 * qualified one, or that starts with `reserved` (the platform's own tools), is qualified too
 * (`collisions`) or not served (`never`), so every name on the endpoint means exactly one thing.
 */
export function expose(
  mode: PrefixMode,
  offered: readonly Offered[],
  qualify: (server: string, name: string) => string,
  reserved?: string,
): Exposure {
  const names = new Map<string, string>();
  const key = (o: Offered) => `${o.server}\u0000${o.name}`;
  if (mode === 'always') {
    for (const o of offered) names.set(key(o), qualify(o.server, o.name));
  } else {
    const sorted = [...offered].sort((a, b) => (a.server < b.server ? -1 : a.server > b.server ? 1 : 0));
    const owners = new Map<string, number>();
    for (const o of sorted) owners.set(o.name, (owners.get(o.name) ?? 0) + 1);
    const qualified = new Set(sorted.map((o) => qualify(o.server, o.name)));
    const plainIsSafe = (name: string) =>
      !qualified.has(name) && (reserved === undefined || !name.startsWith(reserved));
    const taken = new Set<string>();
    for (const o of sorted) {
      if (!plainIsSafe(o.name)) {
        if (mode === 'collisions') names.set(key(o), qualify(o.server, o.name));
        continue;
      }
      if (mode === 'collisions') {
        names.set(key(o), owners.get(o.name) === 1 ? o.name : qualify(o.server, o.name));
      } else if (!taken.has(o.name)) {
        taken.add(o.name);
        names.set(key(o), o.name);
      }
    }
  }
  const byName = new Map<string, Offered>();
  for (const o of offered) {
    const name = names.get(key(o));
    if (name !== undefined && !byName.has(name)) byName.set(name, o);
  }
  return { byName, nameOf: (server, name) => names.get(key({ server, name })) };
}
