import fc from 'fast-check';

/**
 * Values an attacker would try, shared by the REST and MCP fuzzers: NUL, lone surrogates,
 * traversal, huge numbers, prototype keys, template and SQL injection, CRLF, type confusion, deep
 * nesting.
 */

export const hostileString = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\uD800',
    'x\uDFFFy',
    '../../etc/passwd',
    '..%2f..%2f',
    '%00',
    '99999999999999999999',
    '-1',
    '1e309',
    'NaN',
    '__proto__',
    'constructor',
    '{{ range.constructor("return process")() }}',
    "'; DROP TABLE events; --",
    'A'.repeat(10_000),
    '',
    ' ',
    '\r\nX-Injected: 1',
    'sy_aaaaaaaaaaaaaaaa_' + 'A'.repeat(43),
  ),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.string({ maxLength: 20 }),
);

/** Keys an attacker would put in an object: prototype keys, and hostile strings. */
export const hostileKey = fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'prototype'));

/** Any JSON-ish value, a few levels deep, made of hostile strings and keys. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'name', 'transport')),
      tie('value'),
      { maxKeys: 4 },
    ),
  ),
})).value;

/** A dictionary of hostile values under hostile keys, and sometimes under `keys` a caller expects. */
export function hostileRecord(keys: readonly string[] = []): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(
    keys.length > 0 ? fc.oneof(fc.constantFrom(...keys), hostileKey) : hostileKey,
    hostileValue,
    {
      maxKeys: 4,
    },
  );
}

/**
 * JSON text nested `depth` levels deep (`{"a":{"a":…1…}}` or `[[…1…]]`): past what a recursive
 * walker's stack holds at the largest depths. Text, because JSON.stringify itself recurses.
 */
export function deeplyNested(depth: number, kind: 'object' | 'array'): string {
  return kind === 'object'
    ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    : `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/**
 * A header value a client can send (no NUL, CR or LF: fetch refuses those itself), made from a
 * hostile string: every other character outside printable ASCII becomes `?`, and sometimes huge.
 */
export const hostileHeader = fc.oneof(
  hostileString.map((s) => s.replace(/[^\x20-\x7e]/g, '?').trim()),
  fc.constantFrom('x'.repeat(20_000), '\u00e9\u00ff', '-1', '0', 'null', 'undefined', '*', ','),
);

/** Percent-encodes a path segment; a lone surrogate (which encodeURIComponent refuses) as its raw UTF-8-ish bytes. */
export function encodeSegment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...s].map((ch) => (/[\uD800-\uDFFF]/.test(ch) ? '%ED%A0%80' : encodeURIComponent(ch))).join('');
  }
}
