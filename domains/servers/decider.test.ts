import { describe, expect, it } from 'vitest';
import { spec } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import type { ServerCommand } from './commands.ts';
import { RegisterServerInput, UpdateServerInput } from './commands.ts';
import { serverDecider } from './decider.ts';
import type { ServerEvent, ServerRegistered, StoredTransport } from './events.ts';
import { registerServerEvents } from './events.ts';

const id = '6f1c2a43-5d7e-4b8f-9a0b-1c2d3e4f5a6b';
const at = new Date('2026-01-02T03:04:05.000Z');
const iso = at.toISOString();
const sealed = { $secret: 'v1:k1:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAA' };
const transport: StoredTransport = {
  type: 'stdio',
  command: 'npx',
  args: ['-y', 'srv'],
  env: { TOKEN: sealed },
};

const registered: ServerRegistered = {
  type: 'ServerRegistered',
  data: {
    serverId: id,
    name: 'github',
    transport,
    tags: ['scm'],
    enabled: true,
    settings: {},
    tenant: 'team-a',
    owner: 'user-1',
    registeredAt: iso,
  },
};
const disabled: ServerEvent = { type: 'ServerDisabled', data: { serverId: id, disabledAt: iso } };
const removed: ServerEvent = {
  type: 'ServerRemoved',
  data: { serverId: id, name: 'github', removedAt: iso },
};

const register = (): ServerCommand => ({
  type: 'RegisterServer',
  data: {
    serverId: id,
    name: 'github',
    transport,
    tags: ['scm'],
    enabled: true,
    settings: {},
    tenant: 'team-a',
    owner: 'user-1',
  },
  issuedAt: at,
});
const update = (
  data: Omit<Extract<ServerCommand, { type: 'UpdateServer' }>['data'], 'serverId'>,
): ServerCommand => ({
  type: 'UpdateServer',
  data: { serverId: id, ...data },
  issuedAt: at,
});
const enable: ServerCommand = { type: 'EnableServer', data: { serverId: id }, issuedAt: at };
const disable: ServerCommand = {
  type: 'DisableServer',
  data: { serverId: id, reason: 'flaky' },
  issuedAt: at,
};
const remove: ServerCommand = { type: 'RemoveServer', data: { serverId: id }, issuedAt: at };
const refresh: ServerCommand = { type: 'RefreshServer', data: { serverId: id }, issuedAt: at };
const httpTransport: StoredTransport = { type: 'streamable-http', url: 'https://a.test/mcp', headers: {} };

const given = spec(serverDecider).given;

describe('RegisterServer', () => {
  it('registers a new server', () => {
    given([]).when(register()).thenEmits([registered]);
  });
  it('refuses to register the same server id twice', () => {
    given([registered]).when(register()).thenThrows('SERVER.ALREADY_EXISTS');
  });
  it('refuses to re-register a removed server id (a new registration gets a new id)', () => {
    given([registered, removed]).when(register()).thenThrows('SERVER.ALREADY_EXISTS');
  });
});

describe('UpdateServer', () => {
  it('records only the fields that change', () => {
    given([registered])
      .when(update({ name: 'github', description: 'GitHub tools', tags: ['scm'] }))
      .thenEmits([
        { type: 'ServerUpdated', data: { serverId: id, description: 'GitHub tools', updatedAt: iso } },
      ]);
  });
  it('records a rename', () => {
    given([registered])
      .when(update({ name: 'gh' }))
      .thenEmits([{ type: 'ServerUpdated', data: { serverId: id, name: 'gh', updatedAt: iso } }]);
  });
  it('appends nothing when nothing changes, whatever the key order', () => {
    const reordered: StoredTransport = {
      env: { TOKEN: sealed },
      args: ['-y', 'srv'],
      command: 'npx',
      type: 'stdio',
    };
    given([registered])
      .when(update({ transport: reordered, tags: ['scm'], settings: {} }))
      .thenEmits([]);
  });
  it('clears the description with null, and clearing an absent one changes nothing', () => {
    const described: ServerEvent = {
      type: 'ServerUpdated',
      data: { serverId: id, description: 'x', updatedAt: iso },
    };
    given([registered, described])
      .when(update({ description: null }))
      .thenEmits([{ type: 'ServerUpdated', data: { serverId: id, description: null, updatedAt: iso } }]);
    given([registered])
      .when(update({ description: null }))
      .thenEmits([]);
  });
  it('fails for an unknown server', () => {
    given([])
      .when(update({ name: 'x' }))
      .thenThrows('SERVER.NOT_FOUND');
  });
  it('fails for a removed server', () => {
    given([registered, removed])
      .when(update({ name: 'x' }))
      .thenThrows('SERVER.REMOVED');
  });
});

describe('EnableServer / DisableServer', () => {
  it('disables an enabled server, with the reason', () => {
    given([registered])
      .when(disable)
      .thenEmits([{ type: 'ServerDisabled', data: { serverId: id, reason: 'flaky', disabledAt: iso } }]);
  });
  it('disabling a disabled server is a no-op', () => {
    given([registered, disabled]).when(disable).thenEmits([]);
  });
  it('enables a disabled server', () => {
    given([registered, disabled])
      .when(enable)
      .thenEmits([{ type: 'ServerEnabled', data: { serverId: id, enabledAt: iso } }]);
  });
  it('enabling an enabled server is a no-op', () => {
    given([registered]).when(enable).thenEmits([]);
  });
  it('fails for unknown and removed servers', () => {
    given([]).when(enable).thenThrows('SERVER.NOT_FOUND');
    given([registered, removed]).when(disable).thenThrows('SERVER.REMOVED');
  });
});

describe('RemoveServer', () => {
  it('removes an active server, recording the name it frees', () => {
    given([registered, { type: 'ServerUpdated', data: { serverId: id, name: 'gh', updatedAt: iso } }])
      .when(remove)
      .thenEmits([{ type: 'ServerRemoved', data: { serverId: id, name: 'gh', removedAt: iso } }]);
  });
  it('removing a removed server is a no-op', () => {
    given([registered, removed]).when(remove).thenEmits([]);
  });
  it('fails for an unknown server', () => {
    given([]).when(remove).thenThrows('SERVER.NOT_FOUND');
  });
});

describe('RefreshServer', () => {
  it('records a refresh request for an enabled server, every time it is asked', () => {
    const requested = { type: 'ServerRefreshRequested', data: { serverId: id, requestedAt: iso } };
    given([registered])
      .when(refresh)
      .thenEmits([requested as ServerEvent]);
    given([registered, requested as ServerEvent])
      .when(refresh)
      .thenEmits([requested as ServerEvent]);
  });
  it('refuses a disabled server, saying to enable it first', () => {
    given([registered, disabled]).when(refresh).thenThrows('SERVER.DISABLED');
    expect(() => given([registered, disabled]).when(refresh).events()).toThrow(/enable it before/);
  });
  it('fails for unknown and removed servers', () => {
    given([]).when(refresh).thenThrows('SERVER.NOT_FOUND');
    given([registered, removed]).when(refresh).thenThrows('SERVER.REMOVED');
  });
  it('a refresh changes nothing else about the server', () => {
    const requested: ServerEvent = {
      type: 'ServerRefreshRequested',
      data: { serverId: id, requestedAt: iso },
    };
    given([registered, requested])
      .when(update({ name: 'github', tags: ['scm'] }))
      .thenEmits([]);
  });
});

describe('resilience settings', () => {
  it('registers replicas, load balancing and weights for a stdio server', () => {
    const settings = { replicas: 3, loadBalancing: 'weighted' as const, weights: [1, 1, 2] };
    const [event] = given([])
      .when({ ...register(), data: { ...register().data, settings } } as ServerCommand)
      .events();
    expect(event?.data).toMatchObject({ settings });
  });
  it('refuses an update whose transport no longer fits the stored settings', () => {
    const replicated: ServerRegistered = {
      ...registered,
      data: { ...registered.data, settings: { replicas: 2 } },
    };
    given([replicated])
      .when(update({ transport: httpTransport }))
      .thenThrows('SERVER.INVALID_INPUT');
    expect(() =>
      given([replicated])
        .when(update({ transport: httpTransport }))
        .events(),
    ).toThrow(/settings\.replicas: replicas applies to stdio servers only/);
    // Changed together, they fit.
    given([replicated])
      .when(update({ transport: httpTransport, settings: { extraUrls: ['https://b.test/mcp'] } }))
      .thenEmits([
        {
          type: 'ServerUpdated',
          data: {
            serverId: id,
            transport: httpTransport,
            settings: { extraUrls: ['https://b.test/mcp'] },
            updatedAt: iso,
          },
        },
      ]);
  });
  it('refuses weights that do not match the instance count of the stored transport', () => {
    given([registered])
      .when(update({ settings: { replicas: 2, loadBalancing: 'weighted', weights: [1, 2, 3] } }))
      .thenThrows('SERVER.INVALID_INPUT');
  });
  it('a registration written before tenancy reads as the default tenant, owner unknown', () => {
    const registry = registerServerEvents(new EventTypeRegistry());
    const { tenant: _t, owner: _o, ...old } = registered.data;
    expect(registry.upcast('ServerRegistered', 1, old)).toMatchObject({
      tenant: 'default',
      owner: 'unknown',
    });
  });
  it('events without the new settings fields stay valid (no upcaster needed)', () => {
    const registry = registerServerEvents(new EventTypeRegistry());
    expect(() =>
      registry.upcast('ServerRegistered', 1, { ...registered.data, settings: { callTimeoutMs: 5000 } }),
    ).not.toThrow();
  });
});

describe('events are valid against their registered schemas', () => {
  it('every event the decider produces passes its schema', () => {
    const registry = registerServerEvents(new EventTypeRegistry());
    const produced = [
      ...given([]).when(register()).events(),
      ...given([registered])
        .when(update({ name: 'gh', description: null }))
        .events(),
      ...given([registered]).when(disable).events(),
      ...given([registered, disabled]).when(enable).events(),
      ...given([registered]).when(remove).events(),
      ...given([registered]).when(refresh).events(),
    ];
    for (const e of produced) expect(() => registry.validate(e.type, e.data)).not.toThrow();
  });
});

describe('inputs', () => {
  const base = { name: 'github', transport: { type: 'stdio', command: 'npx' } };

  it('fills defaults', () => {
    expect(RegisterServerInput.parse(base)).toEqual({
      name: 'github',
      transport: { type: 'stdio', command: 'npx', args: [], env: {} },
      tags: [],
      enabled: true,
      settings: {},
    });
  });

  it('rejects unknown keys, at the top level and inside the transport', () => {
    expect(RegisterServerInput.safeParse({ ...base, colour: 'red' }).success).toBe(false);
    const r = RegisterServerInput.safeParse({ ...base, transport: { ...base.transport, evn: {} } });
    expect(r.success).toBe(false);
  });

  it.each([
    ['GitHub', 'upper case'],
    ['-x', 'leading dash'],
    ['a__b', 'the tool separator'],
    ['a_', 'a trailing underscore'],
    ['a'.repeat(64), 'too long'],
    ['a/b', 'a slash'],
  ])('rejects the name %s (%s)', (name) => {
    const r = RegisterServerInput.safeParse({ ...base, name });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['name']);
  });

  it('explains a bad transport type and a non-http url', () => {
    const t = RegisterServerInput.safeParse({ ...base, transport: { type: 'ftp' } });
    expect(t.error?.issues[0]?.message).toMatch(/stdio.*streamable-http.*sse/);
    const u = RegisterServerInput.safeParse({
      ...base,
      transport: { type: 'sse', url: 'file:///etc/passwd' },
    });
    expect(u.error?.issues[0]?.message).toMatch(/http/);
  });

  it('refuses credentials inside a URL, which would sit in clear text in the log', () => {
    const r = RegisterServerInput.safeParse({
      ...base,
      transport: { type: 'streamable-http', url: 'https://bob:hunter2@mcp.example.com/mcp' },
    });
    expect(r.error?.issues[0]?.message).toMatch(/credentials.*headers/);
  });

  it('accepts secret references and rejects malformed ones', () => {
    const ok = RegisterServerInput.parse({
      ...base,
      transport: {
        type: 'streamable-http',
        url: 'https://x.test/mcp',
        headers: { Authorization: { secretRef: 'env:TOK' } },
      },
    });
    expect(ok.transport).toMatchObject({ headers: { Authorization: { secretRef: 'env:TOK' } } });
    expect(
      RegisterServerInput.safeParse({
        ...base,
        transport: { type: 'stdio', command: 'x', env: { A: { secretRef: 'no scheme' } } },
      }).success,
    ).toBe(false);
  });

  describe('resilience settings', () => {
    const stdio = { type: 'stdio', command: 'srv' };
    const http = { type: 'streamable-http', url: 'https://a.test/mcp' };
    const issuesOf = (body: unknown) =>
      RegisterServerInput.safeParse(body).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];

    it('accepts replicas for stdio and extra URLs for HTTP, each with weights one per instance', () => {
      expect(
        issuesOf({
          ...base,
          transport: stdio,
          settings: { replicas: 2, loadBalancing: 'weighted', weights: [3, 1] },
        }),
      ).toEqual([]);
      expect(
        issuesOf({
          ...base,
          transport: http,
          settings: {
            extraUrls: ['https://b.test/mcp', 'https://c.test/mcp'],
            loadBalancing: 'least-connections',
            callTimeoutMs: 10_000,
          },
        }),
      ).toEqual([]);
      // Ordinary query parameters are fine; a key goes in transport.query, which is sealed.
      expect(
        issuesOf({
          ...base,
          transport: { ...http, url: 'https://a.test/mcp?region=eu&page=2', query: { api_key: 'k' } },
        }),
      ).toEqual([]);
    });

    it.each([
      [{ transport: http, settings: { replicas: 2 } }, /settings\.replicas: replicas applies to stdio/],
      [{ transport: stdio, settings: { extraUrls: ['https://b.test/mcp'] } }, /settings\.extraUrls: .*stdio/],
      [{ transport: stdio, settings: { replicas: 17 } }, /settings\.replicas/],
      [{ transport: stdio, settings: { replicas: 0 } }, /settings\.replicas/],
      [
        { transport: stdio, settings: { replicas: 2, loadBalancing: 'weighted', weights: [1] } },
        /settings\.weights: needs 2 weights, one per instance, got 1/,
      ],
      [
        { transport: http, settings: { loadBalancing: 'weighted' } },
        /settings\.weights: loadBalancing "weighted" needs weights/,
      ],
      [{ transport: stdio, settings: { weights: [1] } }, /settings\.weights: weights apply only with/],
      [
        { transport: stdio, settings: { loadBalancing: 'weighted', weights: [0] } },
        /at least one weight must be above 0/,
      ],
      [{ transport: http, settings: { loadBalancing: 'random' } }, /settings\.loadBalancing: must be one of/],
      [
        { transport: http, settings: { clientSessions: 4 } },
        /settings\.clientSessions: .*stdio and sse servers only/,
      ],
      [{ transport: stdio, settings: { clientSessions: 65 } }, /settings\.clientSessions/],
      [
        { transport: http, settings: { extraUrls: ['https://u:p@b.test/mcp'] } },
        /settings\.extraUrls\.0: must not carry credentials/,
      ],
      [{ transport: http, settings: { extraUrls: ['https://a.test/mcp'] } }, /must be distinct/],
      [
        { transport: http, settings: { extraUrls: ['https://b.test/mcp?token=abc'] } },
        /settings\.extraUrls\.0: query parameter "token" looks like a credential/,
      ],
      [
        { transport: { ...http, url: 'https://a.test/mcp?q=ghp_abcdefghijklmnopqrstuvwxyz0123456789' } },
        /transport\.url: query parameter "q" looks like a credential: give it in transport\.query/,
      ],
      [{ transport: { ...http, query: { 'bad name': 'x' } } }, /transport\.query/],
      [{ transport: http, settings: { extraUrls: ['ftp://b.test/x'] } }, /http/],
    ])('rejects %j', (over, message) => {
      const issues = issuesOf({ ...base, ...over });
      expect(issues.join('\n')).toMatch(message);
    });

    it('checks an update carrying both halves in the schema', () => {
      const r = UpdateServerInput.safeParse({ transport: http, settings: { replicas: 3 } });
      expect(r.error?.issues[0]?.path).toEqual(['settings', 'replicas']);
      expect(UpdateServerInput.safeParse({ settings: { replicas: 3 } }).success).toBe(true);
    });
  });

  it('an update must change something', () => {
    expect(UpdateServerInput.safeParse({}).error?.issues[0]?.message).toMatch(/nothing to update/);
    expect(UpdateServerInput.safeParse({ description: null }).success).toBe(true);
  });
});
