/**
 * Canonical JSON (RFC 8785 in spirit): object keys sorted by UTF-16 code units, no whitespace,
 * strings and numbers as JSON.stringify writes them, bigints as decimal strings, dates as ISO
 * strings, `undefined` members left out (as `null` in arrays, like JSON.stringify). Two readers
 * holding the same values get the same text, whatever order the keys came in — PostgreSQL's jsonb
 * reorders them, the API passes them on as read.
 *
 * Written as one string built by hand, not Object.entries/map/join: verify hashes every event of
 * the log, and this is most of its time.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
      // A safe integer prints the same either way; String() skips the serializer's setup.
      return Number.isSafeInteger(value) ? String(value) : JSON.stringify(value);
    case 'bigint':
      return `"${value.toString()}"`;
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const item: unknown = value[i];
          out += item === undefined ? 'null' : canonicalJson(item);
        }
        return `${out}]`;
      }
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      const object = value as Record<string, unknown>;
      // The default sort compares UTF-16 code units, which is RFC 8785's order.
      const keys = sortedKeys(object);
      let out = '{';
      let first = true;
      for (const key of keys) {
        const item = object[key];
        if (item === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += encodedKey(key) + canonicalJson(item);
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
  }
}

/**
 * Keys repeat from event to event (the same types, the same envelopes): their encoded form
 * (`"key":`) is kept, up to a bound, rather than made again for every object of every event.
 */
const keyCache = new Map<string, string>();
const KEY_CACHE_LIMIT = 10_000;

function encodedKey(key: string): string {
  let encoded = keyCache.get(key);
  if (encoded === undefined) {
    encoded = `${JSON.stringify(key)}:`;
    if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(key, encoded);
  }
  return encoded;
}

/** The object's keys in code-unit order; most objects come sorted already, and are not sorted again. */
function sortedKeys(object: Record<string, unknown>): string[] {
  const keys = Object.keys(object);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) return keys.sort();
  }
  return keys;
}
