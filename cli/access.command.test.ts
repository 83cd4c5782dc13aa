import { describe, expect, it } from 'vitest';
import { exitCodeOf, UsageError } from './errors.ts';
import { type GrantFlags, grantInput } from './grants.command.ts';
import { issueKeyInput, parseScopes } from './keys.command.ts';

const PRINCIPAL = '0b7c5a52-3b8f-4f8e-9d7a-2f1c9e6b4a10';

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
};

describe('keys create flags', () => {
  it('turns --scopes, --expires-in-days and --principal into the request body', () => {
    expect(
      issueKeyInput({
        name: 'ci',
        scopes: 'mcp:read, mcp:execute,mcp:read',
        expiresInDays: '30',
        principal: PRINCIPAL,
      }),
    ).toEqual({ name: 'ci', scopes: ['mcp:read', 'mcp:execute'], expiresInDays: 30, principalId: PRINCIPAL });
    expect(issueKeyInput({ name: 'ci' })).toEqual({ name: 'ci' });
  });

  it('refuses unknown scopes and fractional days as usage errors (exit 2)', () => {
    const e = thrown(() => parseScopes('mcp:read,admin'));
    expect(e).toBeInstanceOf(UsageError);
    expect(exitCodeOf(e)).toBe(2);
    expect((e as Error).message).toMatch(/unknown admin; give a comma-separated list of mcp:read, /);
    expect(() => parseScopes(' , ')).toThrow(UsageError);
    expect(() => issueKeyInput({ name: 'ci', expiresInDays: '1.5' })).toThrow('--expires-in-days');
  });
});

describe('grants add flags', () => {
  const add = (flags: Partial<GrantFlags>, tenant?: string) =>
    grantInput({ permission: 'mcp:execute', ...flags }, tenant);

  it('grants on the whole tenant by default', () => {
    expect(add({ principal: PRINCIPAL })).toEqual({
      subject: { type: 'principal', id: PRINCIPAL },
      permission: 'mcp:execute',
      resource: { type: 'tenant' },
    });
  });

  it('names servers, tools (split at the first "/") or the platform', () => {
    expect(add({ principal: PRINCIPAL, server: 'git*' }).resource).toEqual({
      type: 'server',
      server: 'git*',
    });
    expect(add({ principal: PRINCIPAL, tool: 'github/repos/create_*' }).resource).toEqual({
      type: 'tool',
      server: 'github',
      tool: 'repos/create_*',
    });
    expect(add({ principal: PRINCIPAL, platform: true }).resource).toEqual({ type: 'platform' });
  });

  it('makes a tenant-wide grant to the given tenant, else to the caller’s', () => {
    expect(add({ tenantWide: true, tenant: 'team-b' }, 'team-a')).toMatchObject({
      subject: { type: 'tenant', id: 'team-b' },
      tenant: 'team-b',
    });
    const own = add({ tenantWide: true }, 'team-a');
    expect(own.subject).toEqual({ type: 'tenant', id: 'team-a' });
    expect(own).not.toHaveProperty('tenant');
  });

  it('refuses ambiguous or malformed flags as usage errors', () => {
    for (const [flags, message] of [
      [{}, 'give either --principal <uuid> or --tenant-wide'],
      [{ principal: PRINCIPAL, tenantWide: true }, 'give either --principal <uuid> or --tenant-wide'],
      [{ principal: PRINCIPAL, permission: 'mcp:all' }, 'expected one of mcp:read, mcp:execute'],
      [
        { principal: PRINCIPAL, server: 'a', platform: true },
        'give at most one of --server, --tool and --platform',
      ],
      [{ principal: PRINCIPAL, tool: 'no-slash' }, 'expected <server pattern>/<tool pattern>'],
      [{ principal: PRINCIPAL, tool: 'github/' }, 'expected <server pattern>/<tool pattern>'],
      [{ tenantWide: true }, '--tenant-wide needs the tenant'],
    ] as const) {
      const e = thrown(() => add(flags));
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).toContain(message);
    }
  });
});
