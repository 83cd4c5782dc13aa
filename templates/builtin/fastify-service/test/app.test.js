// The whole app in process: app.inject() runs routing, validation, hooks and serialization
// exactly as over HTTP, without opening a socket. Runs against dist/ (`npm test` builds first).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../dist/app.js';

describe('health', () => {
  it('reports ok with the service name and version', async () => {
    const app = await buildApp();
    const res = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.status, 'ok');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    await app.close();
  });

  it('answers unknown routes with a JSON 404', async () => {
    const app = await buildApp();
    const res = await app.inject({ method: 'GET', url: '/nope' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error, 'Not Found');
    await app.close();
  });
});

describe('items', () => {
  let app;

  before(async () => {
    app = await buildApp();
  });

  after(async () => {
    await app.close();
  });

  it('creates, reads, lists, updates and deletes an item', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/items',
      payload: { name: 'widget', quantity: 3, tags: ['blue'] },
    });
    assert.equal(created.statusCode, 201);
    const item = created.json();
    assert.equal(item.name, 'widget');
    assert.equal(created.headers.location, `/items/${item.id}`);

    const read = await app.inject({ method: 'GET', url: `/items/${item.id}` });
    assert.equal(read.statusCode, 200);
    assert.deepEqual(read.json(), item);

    const list = await app.inject({ method: 'GET', url: '/items?limit=10' });
    assert.equal(list.statusCode, 200);
    assert.equal(list.json().total, 1);
    assert.equal(list.json().limit, 10);

    const patched = await app.inject({ method: 'PATCH', url: `/items/${item.id}`, payload: { quantity: 5 } });
    assert.equal(patched.statusCode, 200);
    assert.equal(patched.json().quantity, 5);
    assert.equal(patched.json().name, 'widget');

    const deleted = await app.inject({ method: 'DELETE', url: `/items/${item.id}` });
    assert.equal(deleted.statusCode, 204);
    const gone = await app.inject({ method: 'GET', url: `/items/${item.id}` });
    assert.equal(gone.statusCode, 404);
  });

  it('rejects an invalid body with a 400 that names the field', async () => {
    const res = await app.inject({ method: 'POST', url: '/items', payload: { name: '', quantity: -1 } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'FST_ERR_VALIDATION');
    assert.match(res.json().message, /name|quantity/);
  });

  it('rejects unknown body fields', async () => {
    const res = await app.inject({ method: 'POST', url: '/items', payload: { name: 'x', quantity: 1, price: 2 } });
    assert.equal(res.statusCode, 400);
  });

  it('rejects an id that is not a UUID', async () => {
    const res = await app.inject({ method: 'GET', url: '/items/42' });
    assert.equal(res.statusCode, 400);
  });

  it('rejects a list page size out of range', async () => {
    const res = await app.inject({ method: 'GET', url: '/items?limit=1000' });
    assert.equal(res.statusCode, 400);
  });

  it('leaves out fields the response schema does not list', async () => {
    const store = {
      list: async () => ({ items: [], total: 0 }),
      get: async (id) => ({
        id,
        name: 'n',
        quantity: 1,
        tags: [],
        createdAt: new Date(0).toISOString(),
        updatedAt: new Date(0).toISOString(),
        secret: 'must not leak',
      }),
      create: async () => assert.fail('not called'),
      update: async () => undefined,
      delete: async () => false,
    };
    const isolated = await buildApp({ store });
    const res = await isolated.inject({ method: 'GET', url: '/items/00000000-0000-4000-8000-000000000000' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().secret, undefined);
    await isolated.close();
  });
});
