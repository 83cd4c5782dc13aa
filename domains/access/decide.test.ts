import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Permission, Principal, Role } from '../../kernel/principal.ts';
import type { Action } from './actions.ts';
import { type AccessResource, decide } from './decide.ts';
import type { AccessEvent, GrantResource, PolicyTarget } from './events.ts';
import { type AccessState, applyAccessEvent, emptyAccessState } from './state.ts';

const at = '2026-12-01T00:00:00.000Z';
const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';

function principal(id: string, roles: Role[], extra: Partial<Principal> = {}): Principal {
  return {
    id,
    tenant: 'team-a',
    name: id,
    kind: 'user',
    roles,
    scopes: undefined,
    credential: { type: 'api-key', keyId: 'k' },
    claims: {},
    ...extra,
  };
}

function stateOf(events: AccessEvent[]): AccessState {
  const s = emptyAccessState();
  for (const [i, e] of events.entries()) applyAccessEvent(s, e, BigInt(i + 1));
  return s;
}

let n = 0;
const uuid = () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
const grant = (
  subject: string,
  permission: Permission,
  resource: GrantResource,
  tenant = 'team-a',
): AccessEvent => ({
  type: 'GrantAdded',
  data: {
    grantId: uuid(),
    tenant,
    subject: { type: 'principal', id: subject },
    permission,
    resource,
    addedAt: at,
  },
});
const policy = (
  effect: 'allow' | 'deny',
  target: PolicyTarget,
  condition?: string,
  name = `p${n}`,
): AccessEvent => ({
  type: 'PolicySet',
  data: {
    policyId: uuid(),
    tenant: 'team-a',
    name,
    effect,
    target,
    ...(condition && { condition }),
    setAt: at,
  },
});

const tool = (server: string, t: string, tenant = 'team-a'): AccessResource => ({
  kind: 'tool',
  tenant,
  server,
  tool: t,
});
const tenantA: AccessResource = { kind: 'tenant', tenant: 'team-a' };

describe('decide: default deny, roles, ownership, grants, scopes', () => {
  it('denies a principal with nothing, and says why', () => {
    const d = decide(emptyAccessState(), principal(ALICE, []), 'tool.call', tool('github', 'create_issue'));
    expect(d.effect).toBe('deny');
    expect(d.visible).toBe(false);
    expect(d.reasons[0]).toMatch(/nothing gives mcp:execute on tool github\/create_issue/);
  });

  it('gives roles their bundles on their own tenant only', () => {
    const s = emptyAccessState();
    expect(decide(s, principal(ALICE, ['reader']), 'server.list', tenantA).effect).toBe('allow');
    expect(decide(s, principal(ALICE, ['reader']), 'tool.call', tool('x', 'y')).effect).toBe('deny');
    expect(decide(s, principal(ALICE, ['executor']), 'tool.call', tool('x', 'y')).effect).toBe('allow');
    expect(decide(s, principal(ALICE, ['writer']), 'server.register', tenantA).effect).toBe('allow');
    expect(decide(s, principal(ALICE, ['writer']), 'server.register-stdio', tenantA).effect).toBe('deny');
    expect(decide(s, principal(ALICE, ['manager']), 'server.register-stdio', tenantA).effect).toBe('allow');
    expect(decide(s, principal(ALICE, ['manager']), 'projection.rebuild', { kind: 'platform' }).effect).toBe(
      'deny',
    );
    expect(decide(s, principal(ALICE, ['admin']), 'projection.rebuild', { kind: 'platform' }).effect).toBe(
      'allow',
    );
    // Another tenant's manager sees nothing here.
    const other = principal(BOB, ['manager'], { tenant: 'team-b' });
    const d = decide(s, other, 'server.read', { kind: 'server', tenant: 'team-a', server: 'github' });
    expect(d).toMatchObject({ effect: 'deny', visible: false });
  });

  it('lets owners manage what they own, within their tenant', () => {
    const mine: AccessResource = { kind: 'server', tenant: 'team-a', server: 'mine', owner: ALICE };
    expect(decide(emptyAccessState(), principal(ALICE, ['reader']), 'server.remove', mine).effect).toBe(
      'allow',
    );
    expect(decide(emptyAccessState(), principal(BOB, ['reader']), 'server.remove', mine).effect).toBe('deny');
  });

  it('grants on a tool pattern give that tool, and make its server visible but not readable', () => {
    const s = stateOf([grant(ALICE, 'mcp:execute', { type: 'tool', server: 'git*', tool: 'list_*' })]);
    const alice = principal(ALICE, []);
    expect(decide(s, alice, 'tool.call', tool('github', 'list_issues')).effect).toBe('allow');
    expect(decide(s, alice, 'tool.call', tool('github', 'delete_repo')).effect).toBe('deny');
    const server = decide(s, alice, 'resource.read', { kind: 'server', tenant: 'team-a', server: 'github' });
    expect(server).toMatchObject({ effect: 'deny', visible: true });
  });

  it('narrows by the credential scopes and names the scope to step up to', () => {
    const d = decide(
      emptyAccessState(),
      principal(ALICE, ['writer'], { scopes: ['mcp:read'] }),
      'tool.call',
      tool('a', 'b'),
    );
    expect(d).toMatchObject({ effect: 'deny', missingScopes: ['mcp:execute'], visible: true });
    const ok = decide(
      emptyAccessState(),
      principal(ALICE, ['writer'], { scopes: ['mcp:execute'] }),
      'tool.call',
      tool('a', 'b'),
    );
    expect(ok.effect).toBe('allow');
  });

  it('records the policy version: the position of the last access event', () => {
    const s = stateOf([
      grant(ALICE, 'mcp:read', { type: 'tenant' }),
      grant(BOB, 'mcp:read', { type: 'tenant' }),
    ]);
    expect(decide(s, principal(ALICE, []), 'server.list', tenantA).policyVersion).toBe('2');
  });
});

describe('decide: policies', () => {
  const executor = principal(ALICE, ['executor'], { claims: { email: 'alice@a.test' } });

  it('any deny wins, with conditions on principal, claims, tool and arguments', () => {
    const s = stateOf([
      policy(
        'deny',
        { actions: ['tool.call'], server: 'fs', tool: 'write_*' },
        'args.path.startsWith("/etc")',
        'no-etc',
      ),
    ]);
    expect(
      decide(s, executor, 'tool.call', tool('fs', 'write_file'), { args: { path: '/tmp/x' } }).effect,
    ).toBe('allow');
    const d = decide(s, executor, 'tool.call', tool('fs', 'write_file'), { args: { path: '/etc/passwd' } });
    expect(d.effect).toBe('deny');
    expect(d.reasons.at(-1)).toBe('policy "no-etc" denies');
  });

  it('a condition that fails to evaluate denies', () => {
    const s = stateOf([policy('deny', { actions: ['tool.call'] }, 'args.path.startsWith("/etc")')]);
    const d = decide(s, executor, 'tool.call', tool('fs', 'read'), { args: {} });
    expect(d.effect).toBe('deny');
    expect(d.reasons.at(-1)).toMatch(/could not be evaluated/);
  });

  it('where allow policies apply, one of them must match', () => {
    const s = stateOf([
      policy(
        'allow',
        { actions: ['tool.*'], server: 'prod-*' },
        'claims.email.endsWith("@ops.test")',
        'ops-only',
      ),
    ]);
    expect(decide(s, executor, 'tool.call', tool('prod-db', 'query')).effect).toBe('deny');
    expect(decide(s, executor, 'tool.call', tool('dev-db', 'query')).effect).toBe('allow');
    const ops = { ...executor, claims: { email: 'bob@ops.test' } };
    expect(decide(s, ops, 'tool.call', tool('prod-db', 'query')).effect).toBe('allow');
  });

  it('while listing, a deny on arguments does not hide the tool; the call is decided with them', () => {
    const s = stateOf([policy('deny', { actions: ['tool.call'] }, 'args.path.startsWith("/etc")')]);
    expect(decide(s, executor, 'tool.call', tool('fs', 'read'), { phase: 'list' }).effect).toBe('allow');
  });

  it('policies never govern access administration', () => {
    const s = stateOf([policy('deny', { actions: ['*'] })]);
    expect(decide(s, principal(ALICE, ['admin']), 'policy.manage', tenantA).effect).toBe('allow');
    expect(decide(s, principal(ALICE, ['admin']), 'tool.call', tool('a', 'b')).effect).toBe('deny');
  });
});

describe('decide: properties', () => {
  const permissions: Permission[] = ['mcp:read', 'mcp:execute', 'mcp:write', 'mcp:manage'];
  const servers = ['alpha', 'beta', 'gamma'];
  const tools = ['read', 'write', 'list_items', 'delete'];
  const actions: Action[] = [
    'tool.call',
    'resource.read',
    'prompt.get',
    'server.read',
    'server.update',
    'server.remove',
  ];
  const pattern = (names: string[]) =>
    fc.oneof(fc.constantFrom(...names), fc.constantFrom('*', 'a*', '*e', 'l?st_*'));
  const grantResource: fc.Arbitrary<GrantResource> = fc.oneof(
    fc.constant({ type: 'tenant' } as const),
    pattern(servers).map((server) => ({ type: 'server', server }) as const),
    fc
      .tuple(pattern(servers), pattern(tools))
      .map(([server, t]) => ({ type: 'tool', server, tool: t }) as const),
  );
  const grants = fc.array(
    fc.record({
      permission: fc.constantFrom(...permissions),
      resource: grantResource,
      toAlice: fc.boolean(),
    }),
    { maxLength: 6 },
  );
  const policies = fc.array(
    fc.record({
      effect: fc.constantFrom('allow' as const, 'deny' as const),
      action: fc.constantFrom('tool.call', 'tool.*', 'server.*', '*'),
      server: fc.option(pattern(servers), { nil: undefined }),
      tool: fc.option(pattern(tools), { nil: undefined }),
      condition: fc.option(
        fc.constantFrom('tool == "read"', '"executor" in principal.roles', 'args.x == 1', 'nonsense('),
        { nil: undefined },
      ),
    }),
    { maxLength: 4 },
  );
  const roles = fc.subarray(['reader', 'executor', 'writer', 'manager'] as Role[]);
  const resource = fc
    .tuple(fc.constantFrom(...servers), fc.constantFrom(...tools), fc.constantFrom('team-a', 'team-b'))
    .map(([server, t, tenant]) => tool(server, t, tenant));

  type Of<A> = A extends fc.Arbitrary<infer T> ? T : never;
  function build(gs: Of<typeof grants>, ps: Of<typeof policies>): AccessEvent[] {
    return [
      ...gs.map((g) => grant(g.toAlice ? ALICE : BOB, g.permission, g.resource)),
      ...ps.map((p) =>
        policy(
          p.effect,
          { actions: [p.action], ...(p.server && { server: p.server }), ...(p.tool && { tool: p.tool }) },
          p.condition,
        ),
      ),
    ];
  }

  it('adding a deny policy never adds access', () => {
    fc.assert(
      fc.property(
        grants,
        policies,
        policies,
        roles,
        fc.constantFrom(...actions),
        resource,
        fc.constantFrom({}, { x: 1 }),
        (gs, ps, extra, rs, action, res, args) => {
          const denies = extra.map((p) => ({ ...p, effect: 'deny' as const }));
          const before = decide(stateOf(build(gs, ps)), principal(ALICE, rs), action, res, { args });
          const after = decide(stateOf(build(gs, [...ps, ...denies])), principal(ALICE, rs), action, res, {
            args,
          });
          if (before.effect === 'deny') expect(after.effect).toBe('deny');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('adding a grant never takes access away', () => {
    fc.assert(
      fc.property(
        grants,
        grants,
        policies,
        roles,
        fc.constantFrom(...actions),
        resource,
        (gs, more, ps, rs, action, res) => {
          const before = decide(stateOf(build(gs, ps)), principal(ALICE, rs), action, res, { args: {} });
          const after = decide(stateOf(build([...gs, ...more], ps)), principal(ALICE, rs), action, res, {
            args: {},
          });
          if (before.effect === 'allow') expect(after.effect).toBe('allow');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('for random grants and policies without argument conditions, what is listed is what is callable', () => {
    fc.assert(
      fc.property(grants, policies, roles, resource, (gs, ps, rs, res) => {
        const noArgs = ps.filter((p) => p.condition !== 'args.x == 1');
        const s = stateOf(build(gs, noArgs));
        const listed = decide(s, principal(ALICE, rs), 'tool.call', res, { phase: 'list' }).effect;
        const called = decide(s, principal(ALICE, rs), 'tool.call', res, { args: { x: 2 } }).effect;
        expect(listed).toBe(called);
      }),
      { numRuns: 1000 },
    );
  });

  it('a token can only narrow: adding scopes never adds more than the grants give', () => {
    fc.assert(
      fc.property(
        grants,
        roles,
        fc.subarray(permissions),
        fc.constantFrom(...actions),
        resource,
        (gs, rs, scopes, action, res) => {
          const s = stateOf(build(gs, []));
          const unscoped = decide(s, principal(ALICE, rs), action, res);
          const scoped = decide(s, principal(ALICE, rs, { scopes }), action, res);
          if (unscoped.effect === 'deny') expect(scoped.effect).toBe('deny');
        },
      ),
      { numRuns: 500 },
    );
  });
});
