import { describe, expect, it } from 'vitest';
import type { ApiKeyView, GrantRecord } from '../domains/access/index.ts';
import {
  describeResource,
  formatGrantAdded,
  formatGrants,
  formatKeyDetails,
  formatKeys,
  formatMe,
  formatShownOnce,
  type IssuedKeyAnswer,
  type MeView,
  shortTime,
} from './access.format.ts';

const PRINCIPAL = '0b7c5a52-3b8f-4f8e-9d7a-2f1c9e6b4a10';
const KEY = `sy_abcdefgh12345678_${'s'.repeat(39)}WXYZ`;

const me = (over: Partial<MeView>): MeView => ({
  id: PRINCIPAL,
  name: 'ci-bot',
  kind: 'service',
  tenant: 'team-a',
  roles: ['executor'],
  scopes: null,
  credential: { type: 'api-key', keyId: 'abcdefgh12345678' },
  permissions: ['mcp:read', 'mcp:execute'],
  policyVersion: '12',
  ...over,
});

const key = (over: Partial<ApiKeyView>): ApiKeyView => ({
  keyId: 'abcdefgh12345678',
  name: 'ci',
  principalId: PRINCIPAL,
  tenant: 'team-a',
  scopes: ['mcp:read'],
  last4: 'WXYZ',
  expiresAt: null,
  issuedAt: '2026-01-01T00:00:00.000Z',
  revokedAt: null,
  rotatedFrom: null,
  replacedBy: null,
  ...over,
});

describe('whoami', () => {
  it('shows principal, tenant, roles, scopes, credential and effective permissions, aligned', () => {
    expect(formatMe(me({}))).toBe(
      [
        `principal    ${PRINCIPAL}`,
        'name         ci-bot (service)',
        'tenant       team-a',
        'roles        executor',
        "scopes       not narrowed (the principal's rights)",
        'credential   api-key:abcdefgh12345678',
        'permissions  mcp:read, mcp:execute (on tenant team-a)',
        '',
      ].join('\n'),
    );
  });

  it('shows the scopes a narrowed credential has, and says so when nothing is allowed', () => {
    const out = formatMe(me({ scopes: ['mcp:read'], permissions: [], roles: [] }));
    expect(out).toMatch(/^scopes {7}mcp:read$/m);
    expect(out).toMatch(/^permissions {2}none$/m);
    expect(out).toMatch(/^roles {8}none$/m);
  });
});

describe('keys', () => {
  it('lists keys without the key: id, name, principal, scopes, last4, expiry and revocation', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const out = formatKeys(
      [
        key({}),
        key({
          keyId: 'zzzzzzzzzzzzzzzz',
          scopes: null,
          expiresAt: '2026-02-01T10:30:00.000Z',
          revokedAt: '2026-03-04T05:06:07.000Z',
          replacedBy: 'yyyyyyyyyyyyyyyy',
        }),
      ],
      now,
    );
    const [header, first, second] = out.split('\n');
    expect(header).toMatch(/^KEY ID\s+NAME\s+PRINCIPAL\s+SCOPES\s+LAST4\s+EXPIRES\s+REVOKED$/);
    expect(first).toMatch(
      new RegExp(`^abcdefgh12345678\\s+ci\\s+${PRINCIPAL}\\s+mcp:read\\s+WXYZ\\s+never$`),
    );
    expect(second).toMatch(
      /\(all\)\s+WXYZ\s+2026-02-01 10:30Z \(expired\)\s+2026-03-04 05:06Z \(rotated to yyyyyyyyyyyyyyyy\)$/,
    );
    expect(formatKeys([], now)).toBe('no API keys\n');
  });

  it('prints a new key alone on the last line of stdout, after saying it is shown once', () => {
    const out = formatShownOnce({ ...key({}), key: KEY });
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/shown this once/);
    expect(lines[1]).toBe(KEY);
  });

  it('describes a created or rotated key without the key itself', () => {
    // It is given the whole answer, key included, and must leave the key to stdout.
    const answer: IssuedKeyAnswer = { ...key({ expiresAt: '2026-12-31T23:59:59.000Z' }), key: KEY };
    const created = formatKeyDetails(answer);
    expect(created).toMatch(/^created API key abcdefgh12345678 "ci"\n/);
    expect(created).toMatch(/^expires +2026-12-31 23:59Z$/m);
    expect(created).toMatch(/^scopes +mcp:read$/m);
    const rotated = formatKeyDetails(key({ keyId: 'newnewnewnewnewn', rotatedFrom: 'abcdefgh12345678' }));
    expect(rotated).toMatch(
      /^rotated API key abcdefgh12345678 to newnewnewnewnewn "ci"; abcdefgh12345678 is revoked/,
    );
    expect(created).not.toContain(KEY.slice(20));
  });
});

describe('grants', () => {
  const grant = (over: Partial<GrantRecord>): GrantRecord => ({
    grantId: '11111111-2222-4333-8444-555555555555',
    tenant: 'team-a',
    subject: { type: 'principal', id: PRINCIPAL },
    permission: 'mcp:execute',
    resource: { type: 'tool', server: 'github*', tool: 'create_*' },
    addedAt: '2026-01-02T03:04:05.000Z',
    ...over,
  });

  it('lists grants with subject, permission, resource, tenant and when', () => {
    const out = formatGrants([
      grant({}),
      grant({ subject: { type: 'tenant', id: 'team-a' }, resource: { type: 'tenant' } }),
    ]);
    const [header, first, second] = out.split('\n');
    expect(header).toMatch(/^GRANT ID\s+SUBJECT\s+PERMISSION\s+RESOURCE\s+TENANT\s+ADDED$/);
    expect(first).toMatch(
      new RegExp(
        `principal:${PRINCIPAL}\\s+mcp:execute\\s+tool:github\\*/create_\\*\\s+team-a\\s+2026-01-02 03:04Z$`,
      ),
    );
    expect(second).toMatch(/tenant:team-a\s+mcp:execute\s+tenant\s+team-a/);
    expect(formatGrants([])).toBe('no grants\n');
  });

  it('says in prose what a new grant allows', () => {
    expect(
      formatGrantAdded(
        { permission: 'mcp:read', subject: { type: 'tenant', id: 'team-a' }, resource: { type: 'tenant' } },
        'team-a',
        'g-1',
      ),
    ).toBe('granted mcp:read on everything of tenant team-a to everyone in tenant team-a (grant g-1)\n');
    expect(describeResource({ type: 'server', server: 'git*' }, undefined)).toBe('servers git*');
    expect(describeResource({ type: 'tenant' }, undefined)).toBe('everything of the tenant');
    expect(describeResource({ type: 'platform' }, 'x')).toBe('the platform');
  });
});

describe('shortTime', () => {
  it('keeps minutes of an ISO instant, and anything else as it is', () => {
    expect(shortTime('2026-01-02T03:04:05.678Z')).toBe('2026-01-02 03:04Z');
    expect(shortTime('soon')).toBe('soon');
  });
});
