/**
 * Collision-safe names on the aggregate endpoint. Tools and prompts become `<server><sep><name>`
 * (default separator `__`; server names cannot contain it, so the split is unambiguous). Resource
 * URIs and URI templates become `switchyard://<server>/<original>`, which keeps the original
 * readable and makes two servers' `file:///a` distinct.
 */
export interface Naming {
  separator: string;
}

export const defaultNaming: Naming = { separator: '__' };

export function qualify(naming: Naming, server: string, name: string): string {
  return `${server}${naming.separator}${name}`;
}

/** Splits a qualified name at the first separator; undefined when there is none. */
export function unqualify(naming: Naming, qualified: string): { server: string; name: string } | undefined {
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
