import { describe, expect, it } from 'vitest';
import { defaultNaming, qualify, unqualify, unwrapUri, wrapUri } from './names.ts';

describe('collision-safe names', () => {
  it('qualifies and splits tool names at the first separator', () => {
    expect(qualify(defaultNaming, 'everything', 'echo')).toBe('everything__echo');
    expect(unqualify(defaultNaming, 'everything__get__tiny')).toEqual({
      server: 'everything',
      name: 'get__tiny',
    });
    expect(unqualify(defaultNaming, 'echo')).toBeUndefined();
    expect(unqualify(defaultNaming, '__echo')).toBeUndefined();
    expect(unqualify(defaultNaming, 'everything__')).toBeUndefined();
    expect(unqualify({ separator: '.' }, 'fs.read_file')).toEqual({ server: 'fs', name: 'read_file' });
  });

  it('keeps two servers’ identical resource URIs apart, and reversible', () => {
    const a = wrapUri('a', 'file:///etc/hosts');
    const b = wrapUri('b', 'file:///etc/hosts');
    expect(a).not.toBe(b);
    expect(unwrapUri(a)).toEqual({ server: 'a', uri: 'file:///etc/hosts' });
    expect(unwrapUri(wrapUri('x', 'test://static/resource/{id}'))).toEqual({
      server: 'x',
      uri: 'test://static/resource/{id}',
    });
    expect(unwrapUri('file:///etc/hosts')).toBeUndefined();
    expect(unwrapUri('switchyard://a/')).toBeUndefined();
  });
});
