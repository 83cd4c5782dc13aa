import { randomBytes, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerServerEvents } from '../../domains/servers/index.ts';
import { makeToolCallCommands, registerToolCallEvents } from '../../domains/toolcalls/index.ts';
import { fixedClock } from '../../kernel/clock.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { createSecretBox } from '../../kernel/secrets.ts';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.ts';
import { serversProjection } from '../../projections/servers/server.projection.ts';
import { toolCallsProjection } from '../../projections/tool-calls/tool-calls.projection.ts';
import { asPrincipal } from '../../test/access.ts';
import { databaseKinds, type TestDatabase } from '../../test/databases.ts';
import { serverCommandsAtTheEdge } from '../../test/server-commands.ts';
import { handleHttpError, notFoundHandler } from '../error-mapping.ts';
import { toolCallsRoutes } from './tool-calls.routes.ts';

/** The route plugin on a bare Fastify with the gateway's zod compilers and error mapping, over PGlite. */
describe('REST /api/v1/tool-calls', () => {
  let t: TestDatabase;
  let runner: ProjectionRunner;
  let app: ReturnType<typeof bareApp>;
  const clock = fixedClock('2026-05-01T08:00:00.000Z');
  const registry = registerToolCallEvents(registerServerEvents(new EventTypeRegistry()));
  let seq = 0;
  const meta = (): CommandMeta => ({
    commandId: `cmd-${++seq}`,
    actor: 'user:test',
    correlationId: `c-${seq}`,
    issuedAt: clock.now(),
  });
  const ids: Record<string, string> = {};
  let serverId: string;

  function bareApp() {
    const a = Fastify().withTypeProvider<ZodTypeProvider>();
    a.setValidatorCompiler(validatorCompiler);
    a.setSerializerCompiler(serializerCompiler);
    a.setErrorHandler(handleHttpError);
    a.setNotFoundHandler(notFoundHandler);
    asPrincipal(a);
    return a;
  }

  beforeAll(async () => {
    const pglite = databaseKinds.find((k) => k.label === 'pglite')!;
    t = await pglite.open();
    runner = createProjectionRunner({
      store: t.store,
      db: t.db,
      projections: [serversProjection, toolCallsProjection],
      registry,
      clock,
    });
    await runner.start();
    const servers = serverCommandsAtTheEdge({
      store: t.store,
      registry,
      secrets: createSecretBox(randomBytes(32)),
      clock,
    });
    const calls = makeToolCallCommands({ store: t.store, registry, clock });
    serverId = (await servers.register({ name: 'alpha', transport: { type: 'stdio', command: 'a' } }, meta()))
      .serverId;
    let last = 0n;
    const track = (p: bigint | undefined) => {
      if (p !== undefined && p > last) last = p;
    };
    for (const [label, tool, actor, outcome] of [
      ['c1', 'echo', 'alice', 'succeeded'],
      ['c2', 'echo', 'bob', 'failed'],
      ['c3', 'add', 'alice', 'succeeded'],
      ['c4', 'echo', 'alice', 'running'],
    ] as const) {
      clock.advance(60_000);
      const callId = randomUUID();
      ids[label] = callId;
      const serverName = label === 'c4' ? 'alpha-renamed' : 'alpha';
      track(
        (
          await calls.start(
            {
              callId,
              serverId,
              serverName,
              tool,
              actor,
              via: 'rest',
              arguments: { n: 1, password: '[redacted]' },
              tenant: 'default',
              startedAt: clock.now(),
            },
            meta(),
          )
        ).position,
      );
      if (outcome === 'succeeded') {
        track(
          (
            await calls.complete(
              {
                callId,
                outcome,
                durationMs: 15,
                resultBytes: 10,
                resultHash: 'd'.repeat(64),
                isError: false,
                finishedAt: clock.now(),
              },
              meta(),
            )
          ).position,
        );
      } else if (outcome === 'failed') {
        track(
          (
            await calls.complete(
              {
                callId,
                outcome,
                durationMs: 30,
                error: { kind: 'upstream', code: 'UPSTREAM.CRASHED', message: 'exit 1' },
                finishedAt: clock.now(),
              },
              meta(),
            )
          ).position,
        );
      }
    }
    // Renamed after three calls: its old name lives on in those calls.
    track((await servers.update(serverId, { name: 'alpha-renamed' }, meta())).position);
    expect(await runner.waitForPosition('tool_calls', last, 10_000)).toBe(true);
    expect(await runner.waitForPosition('servers', last, 10_000)).toBe(true);

    app = bareApp();
    await app.register(toolCallsRoutes({ readDb: t.db }), { prefix: '/api/v1' });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await runner?.stop();
    await t?.close();
  });

  const get = (url: string) => app.inject({ method: 'GET', url });
  const idsOf = async (url: string) => {
    const res = await get(url);
    expect(res.statusCode).toBe(200);
    return res.json<{ items: Array<{ id: string }> }>().items.map((c) => c.id);
  };

  it('lists the log newest first and pages with nextCursor', async () => {
    const first = await get('/api/v1/tool-calls?limit=3');
    expect(first.statusCode).toBe(200);
    const page = first.json<{ items: Array<Record<string, unknown>>; nextCursor: string | null }>();
    expect(page.items.map((c) => c.id)).toEqual([ids.c4, ids.c3, ids.c2]);
    expect(page.items[2]).toMatchObject({
      serverId,
      serverName: 'alpha',
      tool: 'echo',
      actor: 'bob',
      via: 'rest',
      status: 'failed',
      isError: false,
      arguments: { n: 1, password: '[redacted]' },
      durationMs: 30,
      error: { kind: 'upstream', code: 'UPSTREAM.CRASHED', message: 'exit 1' },
    });
    expect(page.nextCursor).toEqual(expect.any(String));
    const second = await get(`/api/v1/tool-calls?limit=3&cursor=${page.nextCursor}`);
    expect(second.json()).toMatchObject({ items: [{ id: ids.c1 }], nextCursor: null });
  });

  it('filters by server (id, current name, or a name recorded on calls), tool, status, actor and time', async () => {
    const all = [ids.c4, ids.c3, ids.c2, ids.c1];
    expect(await idsOf(`/api/v1/tool-calls?server=${serverId}`)).toEqual(all);
    expect(await idsOf('/api/v1/tool-calls?server=alpha-renamed')).toEqual(all);
    expect(await idsOf('/api/v1/tool-calls?server=alpha')).toEqual([ids.c3, ids.c2, ids.c1]);
    expect(await idsOf('/api/v1/tool-calls?server=nobody')).toEqual([]);
    expect(await idsOf('/api/v1/tool-calls?tool=echo&actor=alice')).toEqual([ids.c4, ids.c1]);
    expect(await idsOf('/api/v1/tool-calls?status=running')).toEqual([ids.c4]);
    // c1 started at 08:01, c2 at 08:02, c3 at 08:03, c4 at 08:04.
    expect(await idsOf('/api/v1/tool-calls?from=2026-05-01T08:02:00Z&to=2026-05-01T08:04:00.000Z')).toEqual([
      ids.c3,
      ids.c2,
    ]);
    expect(await idsOf('/api/v1/tool-calls?from=2026-05-01&to=2026-05-02')).toEqual(all);
  });

  it('bad filters are a 400 problem naming the parameter', async () => {
    for (const [query, path] of [
      ['limit=501', 'querystring.limit'],
      ['limit=0', 'querystring.limit'],
      ['status=bogus', 'querystring.status'],
      ['from=yesterday', 'querystring.from'],
      ['from=2026-05-02&to=2026-05-01', 'querystring.from'],
    ] as const) {
      const res = await get(`/api/v1/tool-calls?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json(), query).toMatchObject({
        code: 'REQUEST.INVALID',
        errors: [expect.objectContaining({ path })],
      });
    }
    const cursor = await get('/api/v1/tool-calls?cursor=not-ours');
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json()).toMatchObject({ code: 'QUERY.INVALID_CURSOR' });
  });

  it('gets one call by id; an unknown id is a 404 problem', async () => {
    const res = await get(`/api/v1/tool-calls/${ids.c1}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: ids.c1,
      status: 'succeeded',
      resultBytes: 10,
      resultHash: 'd'.repeat(64),
      finishedAt: expect.any(String),
    });
    for (const id of [randomUUID(), 'not-a-uuid']) {
      const missing = await get(`/api/v1/tool-calls/${id}`);
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({ status: 404, code: 'TOOLCALL.NOT_FOUND' });
    }
  });
});
