/**
 * One rule for strings that cannot be stored: PostgreSQL (text and jsonb) refuses NUL, JSON and
 * UTF-8 have no place for a lone surrogate, and one such value in an event would stop every
 * projection that meets it. Checked at every edge — REST (params, query, body), MCP tool arguments,
 * what upstreams send — before anything runs or is appended.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is refused
const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored, or undefined when it can. */
export function unstorableReason(s: string): string | undefined {
  if (NUL.test(s)) return 'contains a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(s)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

/** Deeper than this a value is not walked: it is refused as unstorable rather than risk the stack. */
const MAX_DEPTH = 64;

/**
 * The first place in a JSON-like value (keys included) holding a string that cannot be stored, as a
 * dotted path and the reason; undefined when every string can be stored.
 */
export function findUnstorable(value: unknown, path = ''): { path: string; reason: string } | undefined {
  return walk(value, path, 0);
}

function walk(value: unknown, path: string, depth: number): { path: string; reason: string } | undefined {
  if (typeof value === 'string') {
    const reason = unstorableReason(value);
    return reason ? { path: path || '(value)', reason } : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_DEPTH)
    return { path: path || '(value)', reason: `nested deeper than ${MAX_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = walk(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    const keyReason = unstorableReason(k);
    const at = path ? `${path}.${k}` : k;
    if (keyReason) return { path: at, reason: `a key ${keyReason}` };
    const found = walk(v, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * For data Switchyard does not choose — an upstream's catalog, tool descriptions, error messages —
 * where refusing would only hide the server: every NUL and lone surrogate is replaced by U+FFFD, in
 * strings and keys, so one hostile byte can never stop an append or a projection.
 */
export function sanitizeStorable<T>(value: T): T {
  return clean(value, 0) as T;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is replaced
const UNSTORABLE_G = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function clean(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.replace(UNSTORABLE_G, '\uFFFD');
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
  // Dates, buffers and other instances are not JSON data from outside: left as they are.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, clean(k, depth) as string, {
      value: clean(v, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
