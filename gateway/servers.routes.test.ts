import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../kernel/logger.ts';
import { type System, startSystem } from '../runtime/compose.ts';
import { parseConfig } from '../runtime/config.ts';
import { adminAuth, TEST_ADMIN_KEY } from '../test/access.ts';

/**
 * The REST surface of the server registry, on a whole in-memory system (PGlite, in-process bus):
 * the gateway sends commands over the bus to the worker and reads from the projection.
 */
describe('REST /api/v1/servers', () => {
  let system: System;
  // Every request as the administrator: what this suite is about is the registry, not who may use it.
  const inject = (opts: InjectOptions): Promise<LightMyRequestResponse> =>
    system.app!.inject({ ...opts, headers: { ...adminAuth, ...opts.headers } });

  beforeAll(async () => {
    system = await startSystem(
      parseConfig({
        SWITCHYARD_DATA_DIR: 'memory://',
        SWITCHYARD_PORT: '0',
        SWITCHYARD_BODY_LIMIT: '4096',
        SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
      }),
      silentLogger(),
    );
  });
  afterAll(() => system.stop());

  // The registry's own streams: the sagas running beside the gateway append discovery and health
  // events of their own at any time, so "appends nothing" is about these.
  const registryEvents = async () => {
    const events = await system.store.readAll({
      filter: { categories: ['server', 'servername'] },
      maxCount: 10_000,
    });
    return events.map((e) => e.id);
  };

  const register = (body: unknown, query = '?wait=true') =>
    inject({ method: 'POST', url: `/api/v1/servers${query}`, payload: body as object });

  it('registers, reads its own write, updates, disables, enables and removes', async () => {
    const res = await register({
      name: 'memory',
      transport: {
        type: 'streamable-http',
        url: 'http://127.0.0.1:9/mcp',
        headers: { Authorization: 'Bearer t0ken-xyz' },
      },
      tags: ['kv'],
    });
    expect(res.statusCode).toBe(202);
    const w = res.json<{ id: string; position: string; revision: string; projected: boolean }>();
    expect(w.revision).toBe('0');
    expect(w.projected).toBe(true);
    expect(res.headers.location).toBe(`/api/v1/servers/${w.id}`);

    const got = await inject({ method: 'GET', url: `/api/v1/servers/${w.id}` });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ id: w.id, name: 'memory', enabled: true, tags: ['kv'] });
    expect(got.body).not.toContain('t0ken-xyz');

    const upd = await inject({
      method: 'PATCH',
      url: '/api/v1/servers/memory?wait=true',
      payload: { description: 'kv store' },
    });
    expect(upd.statusCode).toBe(202);
    expect(upd.json<{ revision: string }>().revision).toBe('1');

    const dis = await inject({ method: 'POST', url: `/api/v1/servers/${w.id}/disable?wait=true` });
    expect(dis.statusCode).toBe(202);
    const listed = await inject({ method: 'GET', url: '/api/v1/servers?enabled=false' });
    expect(listed.json<{ items: Array<{ name: string; description: string }> }>().items).toEqual([
      expect.objectContaining({ name: 'memory', description: 'kv store' }),
    ]);

    expect(
      (await inject({ method: 'POST', url: `/api/v1/servers/${w.id}/enable?wait=true` })).statusCode,
    ).toBe(202);
    const del = await inject({ method: 'DELETE', url: `/api/v1/servers/${w.id}?wait=true` });
    expect(del.statusCode).toBe(202);
    const gone = await inject({ method: 'GET', url: '/api/v1/servers/memory' });
    expect(gone.statusCode).toBe(404);

    // A removed server's name is free again.
    const again = await register({
      name: 'memory',
      transport: { type: 'sse', url: 'http://127.0.0.1:9/sse' },
    });
    expect(again.statusCode).toBe(202);
    expect(again.json<{ id: string }>().id).not.toBe(w.id);
  });

  it('a register followed by a read of the same position never 404s', async () => {
    const res = await register(
      { name: 'ryw', transport: { type: 'sse', url: 'http://127.0.0.1:9/sse' } },
      '',
    );
    const { id, position } = res.json<{ id: string; position: string }>();
    const got = await inject({ method: 'GET', url: `/api/v1/servers/${id}?minPosition=${position}` });
    expect(got.statusCode).toBe(200);
  });

  it('answers a retried write with the same Idempotency-Key with the first result, appending nothing', async () => {
    const body = { name: 'idem', transport: { type: 'sse', url: 'http://127.0.0.1:9/sse' } };
    const headers = { 'idempotency-key': 'abc-123' };
    const first = await inject({ method: 'POST', url: '/api/v1/servers?wait=true', payload: body, headers });
    const head = await registryEvents();
    const second = await inject({ method: 'POST', url: '/api/v1/servers', payload: body, headers });
    expect(second.statusCode).toBe(202);
    expect(second.json()).toMatchObject({ id: first.json<{ id: string }>().id, duplicate: true });
    expect(await registryEvents()).toEqual(head);
  });

  it('honours If-Match with the ETag: a write on a server that changed meanwhile is 412 and appends nothing', async () => {
    const created = await register({
      name: 'etag',
      transport: { type: 'sse', url: 'http://127.0.0.1:9/sse' },
    });
    const { id } = created.json<{ id: string }>();
    expect(created.headers.etag).toBe('"0"');
    const read = await inject({ method: 'GET', url: `/api/v1/servers/${id}` });
    expect(read.headers.etag).toBe('"0"');

    // Alice and Bob both read revision 0; Alice's rename lands first.
    const alice = await inject({
      method: 'PATCH',
      url: `/api/v1/servers/${id}?wait=true`,
      payload: { name: 'etag-alice' },
      headers: { 'if-match': read.headers.etag as string },
    });
    expect(alice.statusCode).toBe(202);
    expect(alice.headers.etag).toBe('"1"');

    const head = await registryEvents();
    // Bob's rename (it would claim a name: nothing of that may be appended either), his disable
    // and his removal, each on revision 0: refused.
    for (const [method, url, payload] of [
      ['PATCH', `/api/v1/servers/${id}`, { name: 'etag-bob' }],
      ['POST', `/api/v1/servers/${id}/disable`, undefined],
      ['DELETE', `/api/v1/servers/${id}`, undefined],
    ] as const) {
      const bob = await inject({ method, url, ...(payload && { payload }), headers: { 'if-match': '"0"' } });
      expect(bob.statusCode, `${method} ${url}`).toBe(412);
      expect(bob.json()).toMatchObject({ code: 'COMMAND.PRECONDITION_FAILED' });
    }
    expect(await registryEvents()).toEqual(head);
    const now = await inject({ method: 'GET', url: `/api/v1/servers/${id}` });
    expect(now.json()).toMatchObject({ name: 'etag-alice', enabled: true });

    // With the current ETag (weak form too) the write goes through; `*` is no precondition.
    const disable = await inject({
      method: 'POST',
      url: `/api/v1/servers/${id}/disable?wait=true`,
      headers: { 'if-match': `W/${now.headers.etag}` },
    });
    expect(disable.statusCode).toBe(202);
    const enable = await inject({
      method: 'POST',
      url: `/api/v1/servers/${id}/enable`,
      headers: { 'if-match': '*' },
    });
    expect(enable.statusCode).toBe(202);

    // A malformed If-Match is 400; one on a route without ETags cannot match: 412; neither appends.
    const before = await registryEvents();
    const garbled = await inject({
      method: 'POST',
      url: `/api/v1/servers/${id}/refresh`,
      headers: { 'if-match': '"abc", "1"' },
    });
    expect(garbled.statusCode).toBe(400);
    const elsewhere = await register(
      { name: 'etag-new', transport: { type: 'sse', url: 'http://127.0.0.1:9/sse' } },
      '',
    ).then(() =>
      inject({
        method: 'POST',
        url: '/api/v1/servers',
        payload: { name: 'etag-other', transport: { type: 'sse', url: 'http://127.0.0.1:9/sse' } },
        headers: { 'if-match': '"0"' },
      }),
    );
    expect(elsewhere.statusCode).toBe(412);
    expect(elsewhere.json()).toMatchObject({ code: 'REQUEST.NOT_CONDITIONAL' });
    const names = (await registryEvents()).length - before.length;
    expect(names).toBe(2); // etag-new's reservation and registration only
  });

  describe('bad input gets a 4xx problem and appends nothing', () => {
    const cases: Array<[string, () => Promise<LightMyRequestResponse>, number, string]> = [
      [
        'malformed JSON',
        () =>
          inject({
            method: 'POST',
            url: '/api/v1/servers',
            payload: '{"name": "x",',
            headers: { 'content-type': 'application/json' },
          }),
        400,
        'REQUEST.MALFORMED_JSON',
      ],
      [
        'wrong types',
        () => register({ name: 42, transport: { type: 'stdio', command: ['ls'] } }),
        400,
        'REQUEST.INVALID',
      ],
      [
        'unknown transport',
        () => register({ name: 'x', transport: { type: 'carrier-pigeon' } }),
        400,
        'REQUEST.INVALID',
      ],
      [
        'unknown field',
        () => register({ name: 'x', transport: { type: 'sse', url: 'http://h/sse' }, colour: 'red' }),
        400,
        'REQUEST.INVALID',
      ],
      [
        'bad name',
        () => register({ name: '../etc', transport: { type: 'sse', url: 'http://h/sse' } }),
        400,
        'REQUEST.INVALID',
      ],
      [
        'body over the limit',
        () =>
          register({
            name: 'big',
            description: 'x'.repeat(10_000),
            transport: { type: 'sse', url: 'http://h/sse' },
          }),
        413,
        'REQUEST.TOO_LARGE',
      ],
      [
        'unknown id',
        () =>
          inject({
            method: 'PATCH',
            url: '/api/v1/servers/00000000-0000-4000-8000-000000000000',
            payload: { description: 'x' },
          }),
        404,
        'SERVER.NOT_FOUND',
      ],
      [
        'unknown name',
        () => inject({ method: 'POST', url: '/api/v1/servers/nope/enable' }),
        404,
        'SERVER.NOT_FOUND',
      ],
      [
        'duplicate name',
        () => register({ name: 'taken', transport: { type: 'sse', url: 'http://h/sse' } }),
        409,
        'SERVER.NAME_TAKEN',
      ],
      [
        'bad position',
        () => inject({ method: 'GET', url: '/api/v1/events?after=-1' }),
        400,
        'REQUEST.INVALID',
      ],
      ['unknown route', () => inject({ method: 'GET', url: '/api/v1/nothing' }), 404, 'ROUTE.NOT_FOUND'],
    ];

    beforeAll(async () => {
      expect(
        (await register({ name: 'taken', transport: { type: 'sse', url: 'http://h/sse' } })).statusCode,
      ).toBe(202);
    });

    it.each(cases)('%s', async (_name, send, status, code) => {
      const before = await registryEvents();
      const res = await send();
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const body = res.json<{ status: number; code: string; title: string; detail: string; type: string }>();
      expect(body).toMatchObject({ status, code });
      expect(body.detail.length).toBeGreaterThan(0);
      expect(await registryEvents()).toEqual(before);
    });

    it('names the failing fields', async () => {
      const res = await register({ name: 42, transport: { type: 'stdio' } });
      const paths = res.json<{ errors: Array<{ path: string }> }>().errors.map((e) => e.path);
      expect(paths).toEqual(expect.arrayContaining([expect.stringContaining('name')]));
    });
  });

  it('serves the OpenAPI document with the server routes', async () => {
    const res = await inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/servers',
        '/api/v1/servers/{id}',
        '/api/v1/events',
        '/api/v1/projections',
      ]),
    );
    expect((await inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
    expect((await inject({ method: 'GET', url: '/metrics' })).body).toContain(
      'switchyard_http_request_duration_seconds',
    );
  });
});
