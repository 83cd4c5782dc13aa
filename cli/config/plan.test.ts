import { describe, expect, it } from 'vitest';
import { canonical } from './canonical.ts';
import type { CurrentConfiguration } from './current.ts';
import { type ConfigDocument, ConfigDocument as Schema } from './document.ts';
import { formatPlan, planConfiguration } from './plan.ts';

const doc = (parts: Partial<Record<keyof ConfigDocument, unknown>>): ConfigDocument =>
  Schema.parse({ apiVersion: 'switchyard.dev/v1', kind: 'Configuration', ...parts });

const GRANT = {
  subject: { type: 'tenant', id: 'default' },
  permission: 'mcp:read',
  resource: { type: 'server', server: 'web' },
} as const;
const CI_BOT = '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b';
const SEALED_SERVER = {
  name: 'web',
  transport: { type: 'streamable-http', url: 'http://h/mcp', headers: { Authorization: '[redacted]' } },
};

function current(document: ConfigDocument): CurrentConfiguration {
  return {
    document,
    tenant: 'default',
    admin: true,
    ids: {
      policies: new Map(document.policies.map((p, i) => [p.name, `policy-${i}`])),
      rateLimits: new Map(document.rateLimits.map((r, i) => [r.name, `limit-${i}`])),
      rateLimitMatches: new Map(document.rateLimits.map((r) => [r.name, r.match])),
      grants: new Map(document.grants.map((g, i) => [canonical(g), { id: `grant-${i}`, entry: g }])),
    },
    principals: new Map([
      ['ci-bot', [CI_BOT]],
      ['twin', ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002']],
    ]),
  };
}

describe('planConfiguration', () => {
  it('a placeholder keeps a secret the server has; one it has not is a problem, as on a new server', () => {
    const have = current(doc({ servers: [SEALED_SERVER] }));
    expect(planConfiguration(have, doc({ servers: [SEALED_SERVER] }), { prune: false })).toEqual({
      steps: [],
      problems: [],
      notes: [],
    });
    const more = {
      ...SEALED_SERVER,
      transport: {
        ...SEALED_SERVER.transport,
        headers: { Authorization: '[redacted]', 'X-Key': '[redacted]' },
      },
    };
    const plan = planConfiguration(have, doc({ servers: [more, { ...SEALED_SERVER, name: 'new' }] }), {
      prune: false,
    });
    expect(plan.problems).toEqual([
      expect.stringContaining(
        'server web: transport.headers.X-Key is "[redacted]" but the server has no such secret',
      ),
      expect.stringContaining('server new: transport.headers.Authorization is "[redacted]"'),
    ]);
  });

  it('a changed server is one PATCH of what changed, then enable or disable', () => {
    const plan = planConfiguration(
      current(doc({ servers: [SEALED_SERVER] })),
      doc({ servers: [{ ...SEALED_SERVER, description: 'now described', enabled: false }] }),
      { prune: false },
    );
    expect(plan.steps).toEqual([
      {
        op: 'change',
        kind: 'server',
        name: 'web',
        fields: ['description', 'enabled'],
        calls: [
          { method: 'PATCH', path: '/api/v1/servers/web?wait=true', body: { description: 'now described' } },
          { method: 'POST', path: '/api/v1/servers/web/disable?wait=true' },
        ],
      },
    ]);
  });

  it('a grant is matched by what it grants: another grant is an addition, and the old one goes only with --prune', () => {
    const have = current(doc({ grants: [GRANT] }));
    const wanted = doc({ grants: [{ ...GRANT, permission: 'mcp:execute' }] });
    expect(formatPlan(planConfiguration(have, wanted, { prune: false }))).toBe(
      'Plan: 1 to create, 0 to change, 0 to remove.\n  + grant mcp:execute to tenant default on server web\n',
    );
    const pruned = planConfiguration(have, wanted, { prune: true });
    expect(pruned.steps.map((s) => [s.op, s.calls])).toEqual([
      ['create', [{ method: 'POST', path: '/api/v1/grants', body: wanted.grants[0] }]],
      ['remove', [{ method: 'DELETE', path: '/api/v1/grants/grant-0' }]],
    ]);
  });

  it('a changed rate limit is set anew before the old one is removed; a global one says so to the API', () => {
    const limit = { name: 'calls', scope: 'principal', points: 10, windowSeconds: 60, global: true };
    const plan = planConfiguration(
      current(doc({ rateLimits: [limit] })),
      doc({ rateLimits: [{ ...limit, points: 20 }] }),
      { prune: false },
    );
    expect(plan.steps).toEqual([
      {
        op: 'change',
        kind: 'rate limit',
        name: 'calls',
        fields: ['points'],
        calls: [
          {
            method: 'POST',
            path: '/api/v1/rate-limits',
            body: {
              name: 'calls',
              scope: 'principal',
              points: 20,
              windowSeconds: 60,
              match: {},
              tenant: null,
            },
          },
          { method: 'DELETE', path: '/api/v1/rate-limits/limit-0' },
        ],
      },
    ]);
  });

  it('tenants are created, never renamed or removed: the plan says so instead', () => {
    const have = current(
      doc({
        tenants: [
          { id: 'default', name: 'Default' },
          { id: 'old', name: 'Old' },
        ],
      }),
    );
    const plan = planConfiguration(have, doc({ tenants: [{ id: 'default', name: 'Renamed' }] }), {
      prune: true,
    });
    expect(plan.steps).toEqual([]);
    expect(plan.notes).toEqual([
      'tenant default: a tenant cannot be renamed; it stays "Default"',
      'tenant old: tenants are never removed by apply',
    ]);
  });

  it("principals named by name are this environment's: found by name, refused when missing or ambiguous", () => {
    const have = current(doc({ grants: [{ ...GRANT, subject: { type: 'principal', id: CI_BOT } }] }));
    const byName = { ...GRANT, subject: { type: 'principal', name: 'ci-bot' } };
    expect(planConfiguration(have, doc({ grants: [byName] }), { prune: true }).steps).toEqual([]);
    const limit = {
      name: 'bot',
      scope: 'principal',
      points: 1,
      windowSeconds: 1,
      match: { principalName: 'ci-bot' },
    };
    expect(
      planConfiguration(have, doc({ grants: [byName], rateLimits: [limit] }), { prune: false }).steps,
    ).toEqual([
      {
        op: 'create',
        kind: 'rate limit',
        name: 'bot',
        fields: [],
        calls: [
          {
            method: 'POST',
            path: '/api/v1/rate-limits',
            body: {
              name: 'bot',
              scope: 'principal',
              points: 1,
              windowSeconds: 1,
              match: { principal: CI_BOT },
            },
          },
        ],
      },
    ]);
    const unknown = planConfiguration(
      have,
      doc({
        grants: [
          { ...GRANT, subject: { type: 'principal', name: 'nobody' } },
          { ...GRANT, subject: { type: 'principal', name: 'twin' } },
        ],
      }),
      { prune: true },
    );
    expect(unknown.problems).toEqual([
      'grant mcp:read to principal nobody on server web: no principal named "nobody" in this tenant — create it first',
      'grant mcp:read to principal twin on server web: 2 principals are named "twin" in this tenant — name one by id',
    ]);
  });
});
