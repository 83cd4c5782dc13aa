import { describe, expect, it } from 'vitest';
import { matchesTemplate } from './aggregate-names.ts';
import { defaultNaming, expose, qualify, unqualify, unwrapUri, wrapUri } from './names.ts';

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

  describe('prefix modes', () => {
    const q = (server: string, name: string) => qualify(defaultNaming, server, name);
    const offered = [
      { server: 'b', name: 'echo' },
      { server: 'a', name: 'echo' },
      { server: 'a', name: 'add' },
      { server: 'b', name: 'a__add' }, // looks like a's add, qualified
      { server: 'b', name: 'switchyard__list-servers' }, // looks like a platform tool
      { server: 'c', name: 'only' },
    ];
    const names = (mode: 'always' | 'collisions' | 'never') => {
      const e = expose(mode, offered, q, 'switchyard__');
      return Object.fromEntries(offered.map((o) => [`${o.server}/${o.name}`, e.nameOf(o.server, o.name)]));
    };

    it('always qualifies every name', () => {
      expect(Object.values(names('always'))).toEqual([
        'b__echo',
        'a__echo',
        'a__add',
        'b__a__add',
        'b__switchyard__list-servers',
        'c__only',
      ]);
    });

    it('collisions leaves unique names plain and qualifies every name that would clash', () => {
      expect(names('collisions')).toEqual({
        'b/echo': 'b__echo',
        'a/echo': 'a__echo',
        'a/add': 'add',
        'b/a__add': 'b__a__add', // plain, it would read as a's add qualified
        'b/switchyard__list-servers': 'b__switchyard__list-servers',
        'c/only': 'only',
      });
    });

    it('never keeps names plain, the first server in name order keeping a shared one', () => {
      expect(names('never')).toEqual({
        'b/echo': undefined,
        'a/echo': 'echo',
        'a/add': 'add',
        'b/a__add': undefined, // would read as a's add on an endpoint that qualifies
        'b/switchyard__list-servers': undefined,
        'c/only': 'only',
      });
    });

    it('maps every exposed name back to exactly one server and its own name', () => {
      for (const mode of ['always', 'collisions', 'never'] as const) {
        const e = expose(mode, offered, q, 'switchyard__');
        for (const [name, owner] of e.byName) expect(e.nameOf(owner.server, owner.name)).toBe(name);
      }
    });
  });

  it('matches URIs against URI templates', () => {
    expect(matchesTemplate('test://template/{id}/data', 'test://template/42/data')).toBe(true);
    expect(matchesTemplate('test://template/{id}/data', 'test://template/4/2/data')).toBe(false);
    expect(matchesTemplate('file:///{+path}', 'file:///etc/hosts')).toBe(true);
    expect(matchesTemplate('demo://r/{id}{?page,size}', 'demo://r/7?page=2')).toBe(true);
    expect(matchesTemplate('demo://r/{id}{?page,size}', 'demo://r/7')).toBe(true);
    expect(matchesTemplate('a.b://{x}', 'aXb://y')).toBe(false);
  });
});
