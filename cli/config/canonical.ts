/**
 * JSON with object keys sorted at every level: two values that mean the same configuration give
 * the same text whatever order their keys came in (an API answer, a hand-written file).
 * `undefined` members are left out, as JSON leaves them out.
 */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Whether two values are the same configuration (see {@link canonical}). */
export const sameConfig = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);
