import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/logger.ts';
import { type System, startSystem } from '../../runtime/compose.ts';
import { parseConfig } from '../../runtime/config.ts';
import { adminAuth, TEST_ADMIN_KEY } from '../../test/access.ts';
import { githubSignature } from '../webhooks/git-signature.ts';

const SECRET = 'webhook-secret-for-tests-0123456789';

/**
 * The git webhook on a whole in-memory system: a signed push syncs the source it names (a template
 * added to the directory since the last sync appears in the catalog); a call without a signature,
 * with a wrong one or with a wrong GitLab token is refused and appends nothing.
 */
describe('POST /api/v1/template-sources/:name/webhook', () => {
  let system: System;
  let tmp: string;
  let sources: string;
  const url = '/api/v1/template-sources/hooked/webhook';
  const push = JSON.stringify({ ref: 'refs/heads/main', after: 'abc123', repository: { name: 'templates' } });

  async function addTemplate(name: string) {
    const dir = path.join(sources, name);
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'template.yaml'),
      [
        `name: ${name}`,
        'version: 1.0.0',
        `description: The ${name} template, for webhook tests`,
        'stack: node',
        'variables:',
        '  projectName:',
        '    type: string',
        '    required: true',
        '',
      ].join('\n'),
    );
    await writeFile(path.join(dir, 'README.md.njk'), '# {{ projectName }}\n');
  }

  const head = () => system.store.headPosition();
  const templateNames = async () => {
    const res = await system.app!.inject({
      method: 'GET',
      url: '/api/v1/templates?limit=100',
      headers: adminAuth,
    });
    return res.json<{ items: Array<{ name: string }> }>().items.map((t) => t.name);
  };
  const call = (headers: Record<string, string>, body = push, target = url) =>
    system.app!.inject({
      method: 'POST',
      url: target,
      headers: { 'content-type': 'application/json', ...headers },
      payload: body,
    });

  beforeAll(async () => {
    tmp = await realpath(await mkdtemp(path.join(tmpdir(), 'switchyard-webhooks-')));
    const workspace = path.join(tmp, 'workspace');
    sources = path.join(workspace, 'sources');
    await mkdir(sources, { recursive: true });
    await addTemplate('first-hook');
    system = await startSystem(
      parseConfig({
        SWITCHYARD_DATA_DIR: 'memory://',
        SWITCHYARD_PORT: '0',
        SWITCHYARD_WORKSPACE: workspace,
        SWITCHYARD_BUILTIN_TEMPLATES: 'off',
        SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
        SWITCHYARD_WEBHOOK_SECRET: SECRET,
      }),
      silentLogger(),
    );
    const reg = await system.app!.inject({
      method: 'POST',
      url: '/api/v1/template-sources',
      headers: adminAuth,
      payload: { name: 'hooked', kind: 'directory', location: sources },
    });
    expect(reg.statusCode, reg.body).toBe(202);
    const synced = await system.app!.inject({
      method: 'POST',
      url: '/api/v1/template-sources/hooked/sync',
      headers: adminAuth,
    });
    expect(synced.statusCode, synced.body).toBe(200);
    expect(await templateNames(), synced.body).toEqual(['first-hook']);
    await addTemplate('second-hook');
  }, 60_000);

  afterAll(async () => {
    await system?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('refuses a call without a signature (401), a bearer key is no substitute, and appends nothing', async () => {
    const before = await head();
    const unsigned = await call({});
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json()).toMatchObject({ code: 'WEBHOOK.UNSIGNED' });
    const withKey = await call({ ...adminAuth });
    expect(withKey.statusCode).toBe(401);
    expect(await head()).toBe(before);
    expect(await templateNames()).toEqual(['first-hook']);
  });

  it('refuses a wrong GitHub signature, one over another body, and a wrong GitLab token (403), appending nothing', async () => {
    const before = await head();
    const refusals = [
      await call({
        'x-hub-signature-256': githubSignature('not-the-secret-at-all', push),
        'x-github-event': 'push',
      }),
      await call({ 'x-hub-signature-256': githubSignature(SECRET, `${push} `), 'x-github-event': 'push' }),
      await call({ 'x-hub-signature-256': 'sha1=0123', 'x-github-event': 'push' }),
      await call({ 'x-gitlab-token': `${SECRET}x`, 'x-gitlab-event': 'Push Hook' }),
      await call({ 'x-gitlab-token': '', 'x-gitlab-event': 'Push Hook' }),
    ];
    for (const r of refusals) {
      expect(r.statusCode, r.body).toBe(403);
      expect(r.json()).toMatchObject({ code: 'WEBHOOK.BAD_SIGNATURE' });
      // The secret is in no answer.
      expect(r.body).not.toContain(SECRET);
    }
    expect(await head()).toBe(before);
    expect(await templateNames()).toEqual(['first-hook']);
  });

  it('a GitHub ping is answered without a sync', async () => {
    const before = await head();
    const ping = await call({
      'x-hub-signature-256': githubSignature(SECRET, push),
      'x-github-event': 'ping',
    });
    expect(ping.statusCode, ping.body).toBe(200);
    expect(ping.json()).toMatchObject({ source: 'hooked', host: 'github', event: 'ping', reports: [] });
    expect(await head()).toBe(before);
  });

  it('a GitHub-signed push syncs the source it names: the new template is in the catalog', async () => {
    const before = await head();
    const res = await call({
      'x-hub-signature-256': githubSignature(SECRET, push),
      'x-github-event': 'push',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      source: 'hooked',
      host: 'github',
      event: 'push',
      reports: [
        expect.objectContaining({ source: 'hooked', ok: true, changed: true, published: ['second-hook'] }),
      ],
    });
    expect(await head()).toBeGreaterThan(before);
    expect((await templateNames()).sort()).toEqual(['first-hook', 'second-hook']);
    // The events it appended name the webhook as their actor, and hold no secret.
    const events = await system.app!.inject({
      method: 'GET',
      url: '/api/v1/events?category=templatesource&after=0&limit=100',
      headers: adminAuth,
    });
    expect(events.body).toContain('webhook:github');
    expect(events.body).not.toContain(SECRET);
  });

  it('a GitLab push with the right token syncs too; an unknown source is 404 once signed', async () => {
    await addTemplate('third-hook');
    const res = await call({ 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Push Hook' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      host: 'gitlab',
      reports: [expect.objectContaining({ ok: true, published: ['third-hook'] })],
    });
    const unknown = await call(
      { 'x-hub-signature-256': githubSignature(SECRET, push) },
      push,
      '/api/v1/template-sources/nosuch/webhook',
    );
    expect(unknown.statusCode).toBe(404);
  });
});

describe('the webhook without a configured secret', () => {
  it('refuses even a call signed with some secret (403 WEBHOOK.NOT_CONFIGURED); unsigned calls count as failed authentications (429 past the limit)', async () => {
    const system = await startSystem(
      parseConfig({
        SWITCHYARD_DATA_DIR: 'memory://',
        SWITCHYARD_PORT: '0',
        SWITCHYARD_BUILTIN_TEMPLATES: 'off',
        SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
        SWITCHYARD_AUTH_FAILURES_PER_MINUTE: '2',
      }),
      silentLogger(),
    );
    try {
      const body = '{}';
      const res = await system.app!.inject({
        method: 'POST',
        url: '/api/v1/template-sources/any/webhook',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': githubSignature(SECRET, body) },
        payload: body,
      });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'WEBHOOK.NOT_CONFIGURED' });
      const unsigned = () =>
        system.app!.inject({ method: 'POST', url: '/api/v1/template-sources/any/webhook', payload: body });
      expect((await unsigned()).statusCode).toBe(401);
      expect((await unsigned()).statusCode).toBe(401);
      const third = await unsigned();
      expect(third.statusCode).toBe(429);
      expect(third.headers['retry-after']).toBeDefined();
    } finally {
      await system.stop();
    }
  }, 60_000);
});
