import type { CatalogServer } from './catalog-source.ts';
import { type Exposure, expose, type Naming, type PrefixMode, qualify, unwrapUri, wrapUri } from './names.ts';

/** What a server offers, by the kind of name it goes by. */
export type Offering = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

const namesOf: Record<Offering, (s: CatalogServer) => string[]> = {
  tools: (s) => s.tools.map((t) => t.name),
  prompts: (s) => s.prompts.map((p) => p.name),
  resources: (s) => s.resources.map((r) => r.uri),
  resourceTemplates: (s) => s.resourceTemplates.map((t) => t.uriTemplate),
};

/** Wrapped URIs start with this: a server's own URI that does must be wrapped to be told apart. */
const WRAPPED = 'switchyard://';

/**
 * The aggregate endpoint's names for one kind of offering of `servers` (the servers the caller may
 * see, whole: a name does not change with a grant on one tool). Tools give way to the platform's
 * own `<platformPrefix>…` names.
 */
export function exposureOf(
  naming: Naming,
  mode: PrefixMode,
  servers: readonly CatalogServer[],
  offering: Offering,
  platformPrefix: string,
): Exposure {
  const offered = servers.flatMap((s) => namesOf[offering](s).map((name) => ({ server: s.name, name })));
  const byUri = offering === 'resources' || offering === 'resourceTemplates';
  return expose(
    mode,
    offered,
    byUri ? wrapUri : (server, name) => qualify(naming, server, name),
    byUri ? WRAPPED : offering === 'tools' ? platformPrefix : undefined,
  );
}

/**
 * The server and its own URI a resource URI on the aggregate endpoint means: a listed resource, a
 * wrapped URI (`switchyard://<server>/<uri>`), or a URI one of the listed templates matches (the
 * first server, in name order, whose template matches).
 */
export function resourceOwner(
  naming: Naming,
  mode: PrefixMode,
  servers: readonly CatalogServer[],
  uri: string,
): { server: string; uri: string; wrapped: boolean } | undefined {
  const wrapped = unwrapUri(uri);
  if (mode === 'always') return wrapped && { ...wrapped, wrapped: true };
  const listed = exposureOf(naming, mode, servers, 'resources', '').byName.get(uri);
  if (listed) return { server: listed.server, uri: listed.name, wrapped: uri !== listed.name };
  const templates = exposureOf(naming, mode, servers, 'resourceTemplates', '');
  for (const [name, t] of templates.byName) {
    if (name === t.name && matchesTemplate(t.name, uri)) return { server: t.server, uri, wrapped: false };
  }
  if (wrapped && servers.some((s) => s.name === wrapped.server)) return { ...wrapped, wrapped: true };
  return undefined;
}

/**
 * Whether a URI is one a URI template (RFC 6570) can expand to: `{x}` stands for one path segment,
 * `{+x}` and `{#x}` for anything, `{?x,y}` and `{&x}` for a query part, `{/x}` and `{.x}` for
 * segments with that prefix.
 */
export function matchesTemplate(template: string, uri: string): boolean {
  let pattern = '^';
  let last = 0;
  for (const m of template.matchAll(/\{([+#./;?&]?)[^}]*\}/g)) {
    pattern += escapeRegExp(template.slice(last, m.index));
    const op = m[1];
    pattern +=
      op === '+' || op === '#'
        ? '.*'
        : op === '?' || op === '&'
          ? '(?:[?&][^#]*)?'
          : op === '/' || op === '.' || op === ';'
            ? `(?:\\${op}[^/?#]*)*`
            : '[^/?#]*';
    last = m.index + m[0].length;
  }
  pattern += `${escapeRegExp(template.slice(last))}$`;
  return new RegExp(pattern).test(uri);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What the servers offer under the endpoint's names; what the endpoint does not serve is left out. */
export function renamed<K extends string, T extends { [k in K]: string }>(
  servers: readonly CatalogServer[],
  names: Exposure,
  items: (s: CatalogServer) => readonly T[],
  key: K,
): T[] {
  return servers.flatMap((s) =>
    items(s).flatMap((item) => {
      const name = names.nameOf(s.name, item[key]);
      return name === undefined ? [] : [{ ...item, [key]: name }];
    }),
  );
}
