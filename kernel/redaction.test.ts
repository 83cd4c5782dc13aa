import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newApiKey } from './api-keys.ts';
import {
  isSecretName,
  type RedactionOptions,
  type RedactionPattern,
  redactArguments,
  TOO_DEEP,
  TOO_LARGE,
} from './redaction.ts';

const R = '[redacted]';

/** given(arguments).whenRecorded(options).thenRecords(expected) / .thenNeverShows(secret, …) */
function given(args: unknown) {
  return {
    whenRecorded(options?: RedactionOptions | readonly RedactionPattern[]) {
      const out = redactArguments(args, options);
      return {
        out,
        thenRecords(expected: unknown) {
          expect(out).toEqual(expected);
        },
        thenNeverShows(...secrets: string[]) {
          const json = JSON.stringify(out);
          for (const s of secrets) expect(json).not.toContain(s);
        },
      };
    },
  };
}

const b64url = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
const jwt = (header: unknown = { alg: 'HS256', typ: 'JWT' }, payload: unknown = { sub: 'alice' }) =>
  `${b64url(header)}.${b64url(payload)}.c2lnbmF0dXJlLWJ5dGVz_Zm9v-YmFy`;

describe('redactArguments: credential names', () => {
  it('hides values under credential names, in any case and any of camelCase, snake_case, kebab-case', () => {
    given({
      pwd: 'hunter2',
      auth: 'Bearer opaque',
      cookie: 'sid=abc',
      'Set-Cookie': 'sid=abc; HttpOnly',
      session: 's-1',
      sessionid: 's-2',
      passwd: 'p',
      DB_PASS: 'p',
      passphrase: 'p',
      jwt: 'j',
      bearer: 'b',
      signature: 's',
      sig: 's',
      otp: 123456,
      pin: 1234,
      client_secret: 'c',
      refresh_token: 'r',
      access_key: 'a',
      private_key: 'k',
      apikey: 'k',
      'X-API-KEY': 'k',
      HTTPAuthToken: 't',
      key: 'k',
      credentials: ['a', 'b'],
    })
      .whenRecorded()
      .thenRecords({
        pwd: R,
        auth: R,
        cookie: R,
        'Set-Cookie': R,
        session: R,
        sessionid: R,
        passwd: R,
        DB_PASS: R,
        passphrase: R,
        jwt: R,
        bearer: R,
        signature: R,
        sig: R,
        otp: R,
        pin: R,
        client_secret: R,
        refresh_token: R,
        access_key: R,
        private_key: R,
        apikey: R,
        'X-API-KEY': R,
        HTTPAuthToken: R,
        key: R,
        credentials: R,
      });
  });

  it('keeps words that merely contain a credential word, and lists of field names', () => {
    const args = {
      keyword: 'k',
      monkey: 'm',
      keys: ['id', 'name'],
      sortKeys: ['id'],
      author: 'ada',
      authority: 'x',
      passage: 'p',
      compass: 'c',
      spinner: true,
      private: true,
      ssn: '078-05-1120',
    };
    given(args).whenRecorded().thenRecords(args);
    // …but a plural compound of a credential word is still one.
    given({ apiKeys: ['k1'], sshKeys: ['k2'] })
      .whenRecorded()
      .thenRecords({ apiKeys: R, sshKeys: R });
  });

  it('hides at any depth, inside arrays, whatever the value; null and booleans carry nothing and stay', () => {
    given({
      nested: { config: { clientSecret: { value: 's' } } },
      list: [{ accessToken: 't', keep: 1 }, 'plain', ['PRIVATE_KEY']],
      password: null,
      token: false,
    })
      .whenRecorded()
      .thenRecords({
        nested: { config: { clientSecret: R } },
        list: [{ accessToken: R, keep: 1 }, 'plain', ['PRIVATE_KEY']],
        password: null,
        token: false,
      });
  });

  it('takes more names as regular expressions or case-insensitive strings, on top of the built-in ones', () => {
    given({ ssn: '1', Card_Number: '4111', password: 'p', note: 'n' })
      .whenRecorded({ patterns: [/^ssn$/, 'card_?number'] })
      .thenRecords({ ssn: R, Card_Number: R, password: R, note: 'n' });
    // The old call shape (the patterns array) still works; an empty list does not switch defaults off.
    given({ ssn: '1', a: { password: 'p' } })
      .whenRecorded([/^ssn$/])
      .thenRecords({ ssn: R, a: { password: R } });
    given({ a: { password: 'p' } })
      .whenRecorded([])
      .thenRecords({ a: { password: R } });
    // A global regex keeps no state between keys.
    given({ x1: 1, x2: 2 })
      .whenRecorded({ patterns: [/x/g] })
      .thenRecords({ x1: R, x2: R });
  });

  it('isSecretName is the built-in rule', () => {
    expect(['pwd', 'X-Auth-Token', 'aws_secret_access_key', 'oauth2'].every(isSecretName)).toBe(true);
    expect(['keyword', 'author', 'keys', 'name'].some(isSecretName)).toBe(false);
  });

  it('does not change its input', () => {
    const args = { password: 'hunter2', text: 'Bearer abcdefgh' };
    redactArguments(args);
    expect(args).toEqual({ password: 'hunter2', text: 'Bearer abcdefgh' });
  });
});

describe('redactArguments: credentials inside any string', () => {
  const aws = 'AKIAIOSFODNN7EXAMPLE';
  const awsSecret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const ghp = `ghp_${'aB3dE6gH9j'.repeat(4).slice(0, 36)}`;
  const sy = newApiKey().key;
  const cases: [string, string, string][] = [
    ['a Bearer token', 'curl -H "X: Bearer eyabc.def-123_x~y+z/w=="', `curl -H "X: Bearer ${R}"`],
    ['a Basic credential', 'use Basic dXNlcjpodW50ZXIy now', `use Basic ${R} now`],
    ['a JWT', `token is ${jwt()} ok`, `token is ${R} ok`],
    ['an unsigned JWT (alg none)', `${b64url({ alg: 'none' })}.${b64url({ sub: 'x' })}.`, R],
    ['an AWS access key id', `id ${aws} and ASIAY34FZKBOKMUTVV7A`, `id ${R} and ${R}`],
    [
      'an AWS secret after aws_secret_access_key',
      `[default]\naws_access_key_id = ${aws}\naws_secret_access_key = ${awsSecret}\nregion = eu-west-1`,
      `[default]\naws_access_key_id = ${R}\naws_secret_access_key = ${R}\nregion = eu-west-1`,
    ],
    ['a GitHub classic token', `git push with ${ghp}`, `git push with ${R}`],
    ['a GitHub OAuth token', `gho_${'x'.repeat(36)}`, R],
    ['a GitHub app token', `ghs_${'Y'.repeat(36)}`, R],
    ['a GitHub fine-grained token', `github_pat_11ABCDEFG0123456789_${'z'.repeat(59)}`, R],
    ['a Slack token', 'slack xoxb-1234567890-0987654321-AbCdEfGhIjKl', `slack ${R}`],
    ['a Google API key', `AIza${'SyA1b2C3d4E5f6G7h8I9j0K_L-m3n4o5p6'.slice(0, 35)}`, R],
    ['a Stripe secret key', `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`, R],
    ['a Stripe restricted key', 'rk_live_51H8x9yZAbCdEf', R],
    ['a Switchyard API key', `key ${sy}.`, `key ${R}.`],
    [
      'URL userinfo (the URL is kept)',
      'clone https://alice:s3cr3t@git.example.com/repo.git and postgres://u:p%40ss@db:5432/app',
      `clone https://${R}@git.example.com/repo.git and postgres://${R}@db:5432/app`,
    ],
    [
      'a PEM private key',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\nbye',
      `${R}\nbye`,
    ],
    [
      'a query-string credential',
      'https://api.test/v1?q=cats&api_key=abc123&page=2',
      `https://api.test/v1?q=cats&api_key=${R}&page=2`,
    ],
    ['an env line', 'export DB_PASSWORD=hunter2; run', `export DB_PASSWORD=${R}; run`],
    ['a header line', 'Cookie: sid=abc; theme=dark\r\nHost: x', `Cookie: ${R}\r\nHost: x`],
    ['JSON inside a string', '{"user":"bob","password":"hun\\"ter2"}', `{"user":"bob","password":"${R}"}`],
  ];
  it.each(cases)('hides %s', (_, text, expected) => {
    given({ text }).whenRecorded().thenRecords({ text: expected });
  });

  it('keeps look-alikes that are not credentials', () => {
    const args = {
      a: 'Basic usage: see the docs',
      b: 'eyebrow.example.com and e.g.x',
      c: `${b64url({ typ: 'not-a-jwt' })}.${b64url({})}.x`,
      d: 'https://medium.com/@alice/post?page=2',
      e: 'the keyword: cats',
    };
    given(args).whenRecorded().thenRecords(args);
  });

  it('hides a credential used as a key, and the value under it', () => {
    given({ [`ghp_${'q'.repeat(36)}`]: 'repo', ok: 1 })
      .whenRecorded()
      .thenRecords({ [R]: R, ok: 1 });
  });
});

describe('redactArguments: name/value pairs', () => {
  it('hides the value of a header or environment entry whose name is a credential', () => {
    given({
      headers: [
        { name: 'Authorization', value: 'opaque-1' },
        { name: 'Accept', value: 'application/json' },
        { key: 'X-Api-Key', value: 'opaque-2' },
        { header: 'Cookie', value: 'opaque-3' },
      ],
      env: [
        { Name: 'GITHUB_TOKEN', Value: 'opaque-4' },
        { name: 'LOG_LEVEL', value: 'debug' },
      ],
    })
      .whenRecorded()
      .thenRecords({
        headers: [
          { name: 'Authorization', value: R },
          { name: 'Accept', value: 'application/json' },
          { key: 'X-Api-Key', value: R },
          { header: 'Cookie', value: R },
        ],
        env: [
          { Name: 'GITHUB_TOKEN', Value: R },
          { name: 'LOG_LEVEL', value: 'debug' },
        ],
      });
  });

  it('the name of a pair is a label: "key" there is kept, other credential names beside it are not', () => {
    given({ key: 'Content-Type', value: 'text/plain', password: 'p' })
      .whenRecorded()
      .thenRecords({ key: 'Content-Type', value: 'text/plain', password: R });
  });
});

describe('redactArguments: the tool input schema', () => {
  const inputSchema = {
    type: 'object',
    $defs: { Secret: { type: 'string', writeOnly: true } },
    properties: {
      dsn: { type: 'string', format: 'password' },
      opaque: { type: 'string', writeOnly: true },
      conn: { type: 'object', properties: { phrase: { $ref: '#/$defs/Secret' }, host: { type: 'string' } } },
      list: { type: 'array', items: { allOf: [{ type: 'string' }, { writeOnly: true }] } },
      tuple: { type: 'array', prefixItems: [{ type: 'string' }, { format: 'password' }] },
      vault: { type: 'object', additionalProperties: { anyOf: [{ writeOnly: true }, { type: 'number' }] } },
      plain: { type: 'string' },
    },
  };

  it('hides properties marked writeOnly or format "password", nested, in items, behind $ref and combinators', () => {
    given({
      dsn: 'mysql:host=db',
      opaque: 'xyz',
      conn: { phrase: 'open sesame', host: 'db' },
      list: ['a', 'b'],
      tuple: ['visible', 'hidden'],
      vault: { anything: 'v' },
      plain: 'seen',
    })
      .whenRecorded({ inputSchema })
      .thenRecords({
        dsn: R,
        opaque: R,
        conn: { phrase: R, host: 'db' },
        list: [R, R],
        tuple: ['visible', R],
        vault: { anything: R },
        plain: 'seen',
      });
  });

  it("reads only the schema's own properties and stops on a self-referencing schema", () => {
    // `properties.constructor` would otherwise be Object.prototype.constructor.
    given({ constructor: 'c', toString: 't' })
      .whenRecorded({ inputSchema: { properties: {} } })
      .thenRecords({ constructor: 'c', toString: 't' });
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100; i++) deep = { next: deep };
    const selfRef = { $ref: '#', properties: { next: { $ref: '#' } }, anyOf: [{ $ref: '#' }] };
    const out = JSON.stringify(redactArguments({ next: deep }, { inputSchema: selfRef }));
    expect(out).toContain(TOO_DEEP);
  });

  it('ignores a schema that is not an object', () => {
    given({ a: 'x' }).whenRecorded({ inputSchema: 'nonsense' }).thenRecords({ a: 'x' });
  });
});

describe('redactArguments: a copy without prototype tricks, bounded', () => {
  it('keeps __proto__, constructor and prototype as plain data and never sets a prototype', () => {
    const args = JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}');
    const out = redactArguments(args) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out.polluted).toBeUndefined();
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(JSON.stringify(out)).toBe(
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}}}',
    );
  });

  it('copies own enumerable data only: no getter runs, no symbol or inherited key is copied', () => {
    const args = Object.create({ inherited: 1 }) as Record<string | symbol, unknown>;
    args.own = 1;
    args[Symbol('s')] = 2;
    Object.defineProperty(args, 'hidden', { value: 3, enumerable: false });
    Object.defineProperty(args, 'getter', {
      enumerable: true,
      get() {
        throw new Error('getter ran');
      },
    });
    expect(redactArguments(args)).toEqual({ own: 1 });
  });

  it('stops walking a hostile nesting instead of blowing the stack', () => {
    let deep: unknown = { password: 'p' };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const out = JSON.stringify(redactArguments({ deep }));
    expect(out).toContain(TOO_DEEP);
    expect(out).not.toContain('"p"');
  });

  it('walks at most 10,000 values: the rest of an array, or of an object, becomes one marker', () => {
    const big = Array.from({ length: 20_000 }, (_, i) => `v${i}`);
    const out = redactArguments({ big }) as { big: string[] };
    expect(out.big.length).toBeLessThanOrEqual(10_000);
    expect(out.big.at(-1)).toBe(TOO_LARGE);
    expect(out.big).not.toContain('v19999');

    const wide = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]));
    const outWide = redactArguments(wide) as Record<string, unknown>;
    expect(Object.keys(outWide).length).toBeLessThanOrEqual(10_000);
    expect(outWide[TOO_LARGE]).toBe(TOO_LARGE);
    expect(redactArguments(outWide)).toEqual(outWide);
  });
});

describe('redactArguments: properties', () => {
  const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const chars = (alphabet: string, minLength: number, maxLength = minLength) =>
    fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
  // Long and random enough never to occur by chance elsewhere in the value.
  const core = chars(alnum, 20, 32);
  const upper = chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 16);
  const lower = chars('abcdefghijklmnopqrstuvwxyz0123456789', 16);
  const b64urlChars = chars(`${alnum}_-`, 43);

  type Planted = { value: unknown; secrets: string[] };
  const inText = (secretText: fc.Arbitrary<[string, string]>): fc.Arbitrary<Planted> =>
    fc
      .tuple(fc.string(), secretText, fc.string())
      .map(([before, [text, secret], after]) => ({ value: `${before} ${text} ${after}`, secrets: [secret] }));
  const same = (a: fc.Arbitrary<string>) => a.map((s): [string, string] => [s, s]);

  const secretNames = fc.constantFrom(
    'password',
    'pwd',
    'apiKey',
    'X-Api-Key',
    'client_secret',
    'auth',
    'AUTH_TOKEN',
    'cookie',
    'session',
    'privateKey',
    'key',
  );
  const headerNames = fc.constantFrom('Authorization', 'Cookie', 'X-Api-Key', 'GITHUB_TOKEN', 'DB_PASSWORD');
  const planted: fc.Arbitrary<Planted> = fc.oneof(
    inText(same(core.map((c) => `ghp_${c}${c}`.slice(0, 40)))),
    inText(same(core.map((c) => `github_pat_${c}`))),
    inText(same(core.map((c) => `xoxb-${c}`))),
    inText(same(fc.tuple(core, core).map(([a, b]) => `AIza${a}${b}`.slice(0, 39)))),
    inText(same(core.map((c) => `sk_live_${c}`))),
    inText(same(fc.tuple(lower, b64urlChars).map(([id, s]) => `sy_${id}_${s}`))),
    inText(same(upper.map((u) => `AKIA${u}`))),
    inText(core.map((c): [string, string] => [`Bearer ${c}`, c])),
    inText(core.map((c): [string, string] => [`Basic ${Buffer.from(`user:${c}`).toString('base64')}`, c])),
    inText(core.map((c): [string, string] => [jwt({ alg: 'RS256' }, { sub: c }), b64url({ sub: c })])),
    inText(core.map((c): [string, string] => [`https://user:${c}@host.test/path`, c])),
    inText(
      core.map((c): [string, string] => [`-----BEGIN PRIVATE KEY-----\n${c}\n-----END PRIVATE KEY-----`, c]),
    ),
    inText(core.map((c): [string, string] => [`https://h.test/?x=1&access_token=${c}`, c])),
    inText(core.map((c): [string, string] => [`aws_secret_access_key = ${c}${c}`.slice(0, 64), c])),
    fc.tuple(secretNames, core).map(([k, c]) => ({ value: { [k]: c }, secrets: [c] })),
    fc.tuple(secretNames, core).map(([k, c]) => ({ value: { [k]: { nested: [c] } }, secrets: [c] })),
    fc.tuple(headerNames, core).map(([n, c]) => ({ value: [{ name: n, value: c }], secrets: [c] })),
  );
  const plain: fc.Arbitrary<Planted> = fc.jsonValue({ maxDepth: 2 }).map((value) => ({ value, secrets: [] }));
  const { node } = fc.letrec<{ node: Planted }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      plain,
      planted,
      fc.array(tie('node'), { maxLength: 4 }).map((xs) => ({
        value: xs.map((x) => x.value),
        secrets: xs.flatMap((x) => x.secrets),
      })),
      fc.array(fc.tuple(fc.string(), tie('node')), { maxLength: 4 }).map((entries) => {
        const value: Record<string, unknown> = {};
        for (const [k, x] of entries)
          Object.defineProperty(value, k, {
            value: x.value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        // A later duplicate key replaces an earlier value: only what is in the input must be hidden.
        const kept = new Set(Object.values(value));
        return { value, secrets: entries.filter(([, x]) => kept.has(x.value)).flatMap(([, x]) => x.secrets) };
      }),
    ),
  }));

  it('no planted credential ever shows in what is recorded, and recording twice changes nothing', () => {
    fc.assert(
      fc.property(node, ({ value, secrets }) => {
        const once = redactArguments(value);
        const json = JSON.stringify(once) ?? '';
        for (const s of secrets) expect(json).not.toContain(s);
        expect(redactArguments(once)).toEqual(once);
      }),
      { numRuns: 500 },
    );
  });

  it('is idempotent on any JSON value, including strings made of credential-shaped fragments', () => {
    const fragment = fc.oneof(
      fc.constantFrom(
        'Bearer ',
        'Basic ',
        'dXNlcjpwYXNz',
        'https://',
        'a:b@',
        '@',
        ':',
        '=',
        '"',
        "'",
        ' ',
        '\n',
        'password',
        'token',
        'key',
        'eyJhbGciOiJIUzI1NiJ9',
        '.',
        'ghp_',
        'AKIA',
        '-----BEGIN PRIVATE KEY-----',
        '[redacted]',
        '&',
        '?',
      ),
      fc.string({ maxLength: 3 }),
    );
    const text = fc.array(fragment, { maxLength: 12 }).map((xs) => xs.join(''));
    const value = fc.oneof(fc.jsonValue(), text, fc.dictionary(text, text));
    fc.assert(
      fc.property(value, (v) => {
        const once = redactArguments(v);
        expect(redactArguments(once)).toEqual(once);
      }),
      { numRuns: 1000 },
    );
  });
});
