/**
 * JSON text parsed as PostgreSQL's jsonb gives it back: an object's keys shorter first, then in
 * byte order (jsonb stores them so), the last of duplicate keys kept. For events a reader is handed
 * without reading them from the log, so that they are the same, key for key, as the ones it reads.
 */
export function asStoredJson(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? inJsonbOrder(value as Record<string, unknown>)
      : value,
  );
}

function inJsonbOrder(object: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(object);
  if (keys.length < 2) return object;
  const sorted = [...keys].sort(jsonbKeyOrder);
  if (sorted.every((k, i) => k === keys[i])) return object;
  const out: Record<string, unknown> = {};
  for (const k of sorted) out[k] = object[k];
  return out;
}

/** Keys outside ASCII, whose UTF-8 bytes sort differently from their UTF-16 code units. */
const BEYOND_ASCII = /[^ -~]/;

function jsonbKeyOrder(a: string, b: string): number {
  if (!BEYOND_ASCII.test(a) && !BEYOND_ASCII.test(b))
    return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length - bb.length || Buffer.compare(ab, bb);
}
