import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogHash } from '../../domains/catalog/index.ts';
import type { NewEvent, RecordedEvent } from '../../kernel/envelope.ts';
import type { ContractSubject } from '../../test/contracts/event-store.contract.ts';
import { pgliteSubject, pgSubject } from '../../test/event-store-subjects.ts';
import { hasPostgres } from '../../test/services.ts';
import { answerPage, answers, type CallRecord, callsQuery, changesQuery, serverAsOf } from './index.ts';

const targets: Array<[string, () => Promise<ContractSubject>]> = [['PGlite', () => pgliteSubject('memory')]];
if (hasPostgres()) targets.unshift(['PostgreSQL', pgSubject]);
else console.warn('\n!!! DATABASE_URL not set: the audit replay tests run on PGlite only\n');

const SEALED = { $secret: 'v1:k1:AAAAAAAAAAAAAAAA:c2VjcmV0LWNpcGhlcnRleHQtYW5kLXRhZw==' };
const iso = () => new Date().toISOString();
const meta = (actor: string, tenant?: string) => ({
  correlationId: randomUUID(),
  causationId: randomUUID(),
  actor,
  ...(tenant && { tenant, credential: `api-key:${actor}-key` }),
  schemaVersion: 1,
});
const ev = (type: string, data: unknown, actor: string, tenant?: string): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: meta(actor, tenant),
});

/**
 * The replay questions against the real Postgres event store (PostgreSQL and PGlite): a server's
 * configuration, tools and health as of a time, folded by the domains' own evolve functions; every
 * call by actor, server, tool and time with its outcome, page by page; who changed what. The events
 * are appended as the domains write them; the times asked about are the times the store recorded.
 */
describe.each(targets)('audit replay (%s)', (_name, factory) => {
  let subject: ContractSubject;
  const alpha = randomUUID();
  const alpha2 = randomUUID();
  const times: Record<string, Date> = {};
  const calls: { callId: string; actor: string; tool: string; outcome: string }[] = [];

  /** Appends, then waits until the clock has left the millisecond the store recorded it at. */
  const append = async (stream: string, events: NewEvent[], mark?: string): Promise<RecordedEvent> => {
    await subject.store.append(stream, events, 'any');
    const last = (await subject.store.readStream(stream, { direction: 'backwards', maxCount: 1 }))[0]!;
    while (Date.now() <= last.recordedAt.getTime()) await new Promise((r) => setTimeout(r, 1));
    if (mark) times[mark] = last.recordedAt;
    return last;
  };

  const catalog = (tools: string[]) => {
    const c = {
      capabilities: { tools: {} },
      tools: tools.map((name) => ({ name, description: `${name} it`, inputSchema: { type: 'object' } })),
      resources: [],
      resourceTemplates: [],
      prompts: [],
    };
    return { catalog: c, hash: catalogHash(c) };
  };

  async function call(n: number, actor: string, tool: string, outcome: string) {
    const callId = randomUUID();
    calls.push({ callId, actor, tool, outcome });
    const stream = `toolcall-${callId}`;
    const base = { callId, serverId: alpha, tool };
    await append(stream, [
      ev(
        'ToolCallStarted',
        {
          ...base,
          serverName: 'alpha',
          arguments: { n, password: '[redacted]' },
          actor,
          via: 'rest',
          tenant: 'team-a',
          startedAt: iso(),
        },
        actor,
        'team-a',
      ),
    ]);
    if (outcome === 'succeeded' || outcome === 'tool-error')
      await append(stream, [
        ev(
          'ToolCallSucceeded',
          {
            ...base,
            durationMs: n,
            resultBytes: 10,
            resultHash: 'a'.repeat(64),
            isError: outcome === 'tool-error',
            finishedAt: iso(),
          },
          actor,
          'team-a',
        ),
      ]);
    if (outcome === 'failed')
      await append(stream, [
        ev(
          'ToolCallFailed',
          {
            ...base,
            durationMs: n,
            error: { kind: 'upstream', code: 'UP.DOWN', message: 'down' },
            finishedAt: iso(),
          },
          actor,
          'team-a',
        ),
      ]);
    if (outcome === 'abandoned')
      await append(stream, [
        ev('ToolCallAbandoned', { ...base, reason: 'runner died', abandonedAt: iso() }, 'system:recovery'),
      ]);
  }

  beforeAll(async () => {
    subject = await factory();
    const transport = {
      type: 'stdio',
      command: 'node',
      args: ['server.js'],
      env: { API_TOKEN: SEALED, ORG: { secretRef: 'env:GH_ORG' } },
    };
    await append('servername-alpha', [
      ev('ServerNameReserved', { name: 'alpha', serverId: alpha, reservedAt: iso() }, 'alice', 'team-a'),
    ]);
    await append(
      `server-${alpha}`,
      [
        ev(
          'ServerRegistered',
          {
            serverId: alpha,
            name: 'alpha',
            transport,
            tags: ['first'],
            enabled: true,
            settings: {},
            tenant: 'team-a',
            owner: 'alice',
            registeredAt: iso(),
          },
          'alice',
          'team-a',
        ),
      ],
      'registered',
    );
    const one = catalog(['echo']);
    await append(`catalog-${alpha}`, [
      ev(
        'CapabilitiesDiscovered',
        { serverId: alpha, serverRevision: 0, ...one, discoveredAt: iso() },
        'system:discovery',
      ),
    ]);
    await append(
      `health-${alpha}`,
      [
        ev(
          'ServerHealthChanged',
          { serverId: alpha, from: null, to: 'HEALTHY', latencyMs: 3, error: null, at: iso() },
          'system:health',
        ),
      ],
      'healthy',
    );
    await call(1, 'alice', 'echo', 'succeeded');
    await call(2, 'bob', 'echo', 'failed');
    await call(3, 'alice', 'add', 'tool-error');
    times.midCalls = new Date();
    await call(4, 'bob', 'add', 'abandoned');
    await call(5, 'alice', 'echo', 'running');
    await call(6, 'alice', 'echo', 'succeeded');
    await call(7, 'bob', 'echo', 'succeeded');
    await append(
      `server-${alpha}`,
      [ev('ServerUpdated', { serverId: alpha, tags: ['second'], updatedAt: iso() }, 'bob', 'team-a')],
      'updated',
    );
    const two = catalog(['echo', 'add']);
    await append(`catalog-${alpha}`, [
      ev(
        'CapabilitiesDiscovered',
        { serverId: alpha, serverRevision: 1, ...two, discoveredAt: iso() },
        'system:discovery',
      ),
    ]);
    await append(`server-${alpha}`, [
      ev('ServerDisabled', { serverId: alpha, reason: 'maintenance', disabledAt: iso() }, 'bob', 'team-a'),
    ]);
    await append(
      `health-${alpha}`,
      [
        ev(
          'ServerHealthChanged',
          { serverId: alpha, from: 'HEALTHY', to: 'STOPPED', latencyMs: null, error: 'disabled', at: iso() },
          'system:health',
        ),
      ],
      'disabled',
    );
    await subject.store.appendMany([
      {
        stream: `server-${alpha}`,
        events: [
          ev('ServerRemoved', { serverId: alpha, name: 'alpha', removedAt: iso() }, 'carol', 'team-a'),
        ],
        expected: 'any',
      },
      {
        stream: 'servername-alpha',
        events: [
          ev('ServerNameReleased', { name: 'alpha', serverId: alpha, releasedAt: iso() }, 'carol', 'team-a'),
        ],
        expected: 'any',
      },
    ]);
    const removed = (
      await subject.store.readStream(`server-${alpha}`, { direction: 'backwards', maxCount: 1 })
    )[0]!;
    while (Date.now() <= removed.recordedAt.getTime()) await new Promise((r) => setTimeout(r, 1));
    times.removed = removed.recordedAt;
    await append('servername-alpha', [
      ev('ServerNameReserved', { name: 'alpha', serverId: alpha2, reservedAt: iso() }, 'dave', 'team-b'),
    ]);
    await append(
      `server-${alpha2}`,
      [
        ev(
          'ServerRegistered',
          {
            serverId: alpha2,
            name: 'alpha',
            transport: {
              type: 'streamable-http',
              url: 'https://example.com/mcp',
              headers: { Authorization: SEALED },
            },
            tags: [],
            enabled: true,
            settings: {},
            tenant: 'team-b',
            owner: 'dave',
            registeredAt: iso(),
          },
          'dave',
          'team-b',
        ),
      ],
      'reRegistered',
    );
  }, 60_000);

  afterAll(() => subject?.teardown());

  const before = (t: Date) => new Date(t.getTime() - 1);

  it('answers a server as of a time: configuration with secrets redacted, its tools and health', async () => {
    const { store } = subject;
    expect(await serverAsOf(store, { server: 'alpha', at: before(times.registered!) })).toBeUndefined();
    const first = await serverAsOf(store, { server: 'alpha', at: times.healthy! });
    expect(first?.server).toMatchObject({
      id: alpha,
      name: 'alpha',
      status: 'active',
      enabled: true,
      tags: ['first'],
      tenant: 'team-a',
      owner: 'alice',
      transport: { type: 'stdio', env: { API_TOKEN: '[redacted]', ORG: { secretRef: 'env:GH_ORG' } } },
    });
    expect(first?.catalog.tools.map((t) => t.name)).toEqual(['echo']);
    expect(first?.health).toMatchObject({ status: 'HEALTHY', latencyMs: 3 });
    expect(JSON.stringify(first)).not.toContain(SEALED.$secret);

    const later = await serverAsOf(store, { server: alpha, at: times.disabled! });
    expect(later?.server).toMatchObject({ enabled: false, tags: ['second'], status: 'active' });
    expect(later?.server.lastChange).toMatchObject({ type: 'ServerDisabled', actor: 'bob' });
    expect(later?.catalog.tools.map((t) => t.name)).toEqual(['echo', 'add']);
    expect(later?.health).toMatchObject({ status: 'STOPPED', error: 'disabled' });
    // Between the update and the disabling: updated, still enabled.
    const updated = await serverAsOf(store, { server: 'alpha', at: times.updated! });
    expect(updated?.server).toMatchObject({ enabled: true, tags: ['second'] });
    expect(updated?.catalog.tools.map((t) => t.name)).toEqual(['echo']);

    // Removed, the name free: the last holder, as it was when removed.
    const gone = await serverAsOf(store, { server: 'alpha', at: times.removed! });
    expect(gone?.server).toMatchObject({ id: alpha, status: 'removed', tags: ['second'], enabled: false });
    expect(gone?.server.lastChange).toMatchObject({ type: 'ServerRemoved', actor: 'carol' });
    // The name taken again by another tenant's server: each tenant sees its own.
    const now = new Date();
    expect((await serverAsOf(store, { server: 'alpha', at: now }))?.server.id).toBe(alpha2);
    expect(await serverAsOf(store, { server: 'alpha', at: now, tenant: 'team-a' })).toBeUndefined();
    expect((await serverAsOf(store, { server: alpha, at: now, tenant: 'team-a' }))?.server.status).toBe(
      'removed',
    );
    const b = await serverAsOf(store, { server: 'alpha', at: now, tenant: 'team-b' });
    expect(b?.server.transport).toEqual({
      type: 'streamable-http',
      url: 'https://example.com/mcp',
      headers: { Authorization: '[redacted]' },
    });
    expect(await serverAsOf(store, { server: 'nosuch', at: now })).toBeUndefined();
  });

  const all = async <T>(q: ReturnType<typeof callsQuery> | ReturnType<typeof changesQuery>) => {
    const out: T[] = [];
    for await (const { row } of answers(subject.store, q as never, 0n)) out.push(row as T);
    return out;
  };

  it('answers every call by actor, server, tool and time, with its arguments as recorded and its outcome', async () => {
    const { store } = subject;
    const every = await all<CallRecord>(callsQuery(store, { tenant: 'team-a' }));
    expect(every.map((c) => c.callId)).toEqual(calls.map((c) => c.callId));
    expect(every.map((c) => c.outcome)).toEqual([
      'succeeded',
      'failed',
      'succeeded',
      'abandoned',
      'running',
      'succeeded',
      'succeeded',
    ]);
    expect(every[2]).toMatchObject({ isError: true, tool: 'add', actor: 'alice', durationMs: 3 });
    expect(every[1]).toMatchObject({ errorCode: 'UP.DOWN', errorMessage: 'down' });
    expect(every[3]).toMatchObject({ errorMessage: 'runner died', durationMs: null });
    expect(every[0]!.arguments).toEqual({ n: 1, password: '[redacted]' });
    expect(every[0]!.credential).toBe('api-key:alice-key');

    const aliceEcho = await all<CallRecord>(
      callsQuery(store, { actor: 'alice', tool: 'echo', server: 'alpha' }),
    );
    expect(aliceEcho.map((c) => c.arguments.n)).toEqual([1, 5, 6]);
    const byId = await all<CallRecord>(callsQuery(store, { server: alpha, actor: 'bob' }));
    expect(byId.map((c) => c.arguments.n)).toEqual([2, 4, 7]);
    const sinceMid = await all<CallRecord>(callsQuery(store, { from: times.midCalls }));
    expect(sinceMid.map((c) => c.arguments.n)).toEqual([4, 5, 6, 7]);
    const untilMid = await all<CallRecord>(callsQuery(store, { to: times.midCalls }));
    expect(untilMid.map((c) => c.arguments.n)).toEqual([1, 2, 3]);
    expect(await all(callsQuery(store, { tenant: 'team-b' }))).toEqual([]);
  });

  it('pages through the answer: every page’s cursor leads to the next, and the pages add up to the whole', async () => {
    const { store } = subject;
    const q = callsQuery(store, { tenant: 'team-a' });
    const seen: number[] = [];
    let after = 0n;
    let pages = 0;
    for (;;) {
      const page = await answerPage(store, q, { after, limit: 3, scanBudget: 1_000 });
      pages++;
      seen.push(...page.rows.map((r) => r.arguments.n as number));
      if (!page.hasMore) break;
      after = page.next;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pages).toBeGreaterThanOrEqual(3);
    // A budget smaller than the log: short pages, nothing lost.
    const small: number[] = [];
    after = 0n;
    for (let i = 0; i < 1_000; i++) {
      const page = await answerPage(store, callsQuery(store, { actor: 'bob' }), {
        after,
        limit: 100,
        scanBudget: 1,
      });
      small.push(...page.rows.map((r) => r.arguments.n as number));
      if (!page.hasMore) break;
      after = page.next;
    }
    expect(small).toEqual([2, 4, 7]);
  });

  it('answers who changed what: principals’ changes, redacted, by actor and time; system actors on request', async () => {
    const changes = await all<{ actor: string; type: string; data: unknown; name: string | null }>(
      changesQuery({ tenant: 'team-a' }),
    );
    expect(changes.map((c) => `${c.actor} ${c.type}`)).toEqual([
      'alice ServerRegistered',
      'bob ServerUpdated',
      'bob ServerDisabled',
      'carol ServerRemoved',
    ]);
    expect(changes[0]!.name).toBe('alpha');
    expect(JSON.stringify(changes)).not.toContain(SEALED.$secret);
    expect(changes[0]!.data).toMatchObject({ transport: { env: { API_TOKEN: '[redacted]' } } });
    const bob = await all<{ type: string }>(
      changesQuery({ actor: 'bob', from: new Date(times.updated!.getTime() + 1) }),
    );
    expect(bob.map((c) => c.type)).toEqual(['ServerDisabled']);
    const withSystem = await all<{ actor: string }>(
      changesQuery({ includeSystem: true, categories: ['catalog'] }),
    );
    expect(withSystem.map((c) => c.actor)).toEqual(['system:discovery', 'system:discovery']);
    const other = await all<{ actor: string }>(changesQuery({ tenant: 'team-b' }));
    expect(other.map((c) => c.actor)).toEqual(['dave']);
  });
});
