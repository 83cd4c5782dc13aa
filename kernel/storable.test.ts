import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findUnstorable, sanitizeStorable, unstorableReason } from './storable.ts';

describe('strings that cannot be stored', () => {
  it('refuses NUL and lone surrogates, anywhere, keys included, and says where', () => {
    expect(unstorableReason('a\u0000b')).toMatch(/NUL/);
    expect(unstorableReason('\uD800')).toMatch(/surrogate/);
    expect(unstorableReason('x\uDC00')).toMatch(/surrogate/);
    expect(unstorableReason('😀 ok \u00e9')).toBeUndefined();
    expect(findUnstorable({ a: [{ b: 'ok' }, { c: 'x\u0000' }] })).toEqual({
      path: 'a[1].c',
      reason: expect.stringMatching(/NUL/),
    });
    expect(findUnstorable({ 'k\u0000': 1 })).toMatchObject({
      path: 'k\u0000',
      reason: expect.stringMatching(/^a key/),
    });
    let deep: unknown = 'x';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(findUnstorable(deep)?.reason).toMatch(/nested deeper/);
  });

  it('accepts every value PostgreSQL jsonb takes (well-formed strings without NUL)', () => {
    const value = fc
      .jsonValue({ maxDepth: 5, stringUnit: 'grapheme' })
      .filter((v) => !JSON.stringify(v).includes('\\u0000'));
    fc.assert(
      fc.property(value, (v) => {
        expect(findUnstorable(v)).toBeUndefined();
      }),
    );
  });

  it('cleans what upstreams send: every unstorable character replaced, keys included, nothing else changed', () => {
    const dirty = { 'na\u0000me': 'a\u0000b', list: ['\uD800x', 'ok 😀'], n: 1, __proto__x: null };
    const clean = sanitizeStorable(dirty);
    expect(findUnstorable(clean)).toBeUndefined();
    expect(clean).toEqual({ 'na\uFFFDme': 'a\uFFFDb', list: ['\uFFFDx', 'ok 😀'], n: 1, __proto__x: null });
    const at = new Date();
    expect(sanitizeStorable({ at }).at).toBe(at);
    const proto = sanitizeStorable(JSON.parse('{"__proto__":{"polluted":1}}') as object);
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });
});
