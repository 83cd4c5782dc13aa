import {
  access,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../kernel/logger.ts';
import { type System, startSystem } from '../../runtime/compose.ts';
import { parseConfig } from '../../runtime/config.ts';
import { adminAuth, TEST_ADMIN_KEY } from '../../test/access.ts';

/**
 * The template catalog, project generation and code analysis over REST, on a whole in-memory
 * system (PGlite, in-process bus) whose sync saga registers and syncs the built-in templates.
 */
describe('REST /api/v1 templates, projects and analyses', () => {
  let system: System;
  let tmp: string;
  let workspace: string;
  let sources: string;
  // Every request as the administrator: this suite is about templates, not who may use them.
  const inject = (opts: InjectOptions): Promise<LightMyRequestResponse> =>
    system.app!.inject({ ...opts, headers: { ...adminAuth, ...opts.headers } });
  const get = (url: string) => inject({ method: 'GET', url });
  const post = (url: string, payload?: object, headers: Record<string, string> = {}) =>
    inject({ method: 'POST', url, headers, ...(payload && { payload }) });

  const exists = (p: string) =>
    access(p).then(
      () => true,
      () => false,
    );

  /** Every file under `dir` with its content: "nothing changed" compares two of these. */
  async function snapshot(dir: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (e.isFile()) {
        const p = path.join(e.parentPath, e.name);
        out[path.relative(dir, p)] = await readFile(p, 'utf8');
      }
    }
    return out;
  }

  const ndjson = (body: string) =>
    body
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; status?: number; body?: Record<string, unknown> });

  beforeAll(async () => {
    tmp = await realpath(await mkdtemp(path.join(tmpdir(), 'switchyard-templates-routes-')));
    workspace = path.join(tmp, 'workspace');
    // Directory sources must be under a configured root: the workspace by default.
    sources = path.join(workspace, 'sources');
    await mkdir(workspace);
    system = await startSystem(
      parseConfig({
        SWITCHYARD_DATA_DIR: 'memory://',
        SWITCHYARD_PORT: '0',
        SWITCHYARD_WORKSPACE: workspace,
        SWITCHYARD_LOG_LEVEL: 'silent',
        SWITCHYARD_ADMIN_KEY: TEST_ADMIN_KEY,
      }),
      silentLogger(),
    );
    // The built-in templates are registered and synced by the sync saga once the system is up.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await get('/api/v1/templates?limit=100');
      const names = res.json<{ items: Array<{ name: string }> }>().items.map((t) => t.name);
      if (names.includes('mcp-server-ts')) break;
      if (Date.now() > deadline)
        throw new Error(`built-in templates not in the catalog: ${names.join(', ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);

  afterAll(async () => {
    await system?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('searches the catalog by word and by stack, and lists stacks', async () => {
    const byWord = await get('/api/v1/templates?q=mcp');
    expect(byWord.statusCode).toBe(200);
    const found = byWord.json<{ items: Array<{ name: string; variables: string[] }> }>().items;
    expect(found[0]).toMatchObject({ name: 'mcp-server-ts' });
    expect(found[0]!.variables).toContain('projectName');

    const byStack = await get('/api/v1/templates?stack=node-cli');
    const cli = byStack.json<{ items: Array<{ name: string; stack: string }> }>().items;
    expect(cli.map((t) => t.name)).toEqual(['cli-tool']);

    const none = await get('/api/v1/templates?q=nosuchthingatall');
    expect(none.json<{ items: unknown[] }>().items).toEqual([]);

    const badLimit = await get('/api/v1/templates?limit=0');
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.headers['content-type']).toContain('application/problem+json');

    const stacks = await get('/api/v1/template-stacks');
    expect(stacks.json<{ items: Array<{ stack: string }> }>().items.map((s) => s.stack)).toEqual(
      expect.arrayContaining(['typescript-mcp', 'node-cli']),
    );
  });

  it('inspects a template: variables, file tree, versions; an unknown one is a 404 problem', async () => {
    const res = await get('/api/v1/templates/mcp-server-ts');
    expect(res.statusCode).toBe(200);
    const t = res.json<{
      variables: Array<{ name: string; required?: boolean }>;
      tree: Array<{ type: string; name: string; children?: unknown[] }>;
      versions: Array<{ version: string; current: boolean }>;
      manifest: { name: string };
    }>();
    expect(t.manifest.name).toBe('mcp-server-ts');
    expect(t.variables).toContainEqual(expect.objectContaining({ name: 'projectName', required: true }));
    expect(t.tree).toContainEqual(
      expect.objectContaining({ type: 'directory', name: 'src', children: expect.any(Array) }),
    );
    expect(t.versions).toContainEqual(expect.objectContaining({ version: '1.0.0', current: true }));

    const unknown = await get('/api/v1/templates/no-such-template');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(unknown.json()).toMatchObject({ status: 404, code: 'TEMPLATE.NOT_FOUND' });

    expect((await get('/api/v1/templates/mcp-server-ts?version=9.9.9')).statusCode).toBe(404);
  });

  it('generates a project into the workspace, refuses to overwrite it unless asked, and shows it', async () => {
    const body = {
      template: 'mcp-server-ts',
      destination: 'demo',
      variables: { projectName: 'demo-server' },
    };
    const res = await post('/api/v1/projects', body);
    expect(res.statusCode).toBe(201);
    const project = res.json<{ projectId: string; destination: string; files: Array<{ path: string }> }>();
    expect(res.headers.location).toBe(`/api/v1/projects/${project.projectId}`);
    expect(project.destination).toBe('demo');
    expect(project.files.map((f) => f.path)).toContain('package.json');
    const pkg = JSON.parse(await readFile(path.join(workspace, 'demo', 'package.json'), 'utf8'));
    expect(pkg.name).toBe('demo-server');

    const shown = await get(`/api/v1/projects/${project.projectId}`);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({
      projectId: project.projectId,
      template: 'mcp-server-ts',
      destination: 'demo',
      variables: { projectName: 'demo-server', license: 'MIT' },
      files: expect.arrayContaining([expect.objectContaining({ path: 'package.json' })]),
    });
    const listed = await get('/api/v1/projects?template=mcp-server-ts');
    expect(listed.json<{ items: Array<{ projectId: string }> }>().items.map((p) => p.projectId)).toContain(
      project.projectId,
    );
    expect((await get('/api/v1/projects/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);

    // Same destination again: refused, and the project on disk is as it was.
    await writeFile(path.join(workspace, 'demo', 'NOTES.md'), 'mine\n');
    const before = await snapshot(path.join(workspace, 'demo'));
    // A preview says so, and writes nothing.
    const preview = await post('/api/v1/projects/preview', {
      ...body,
      variables: { projectName: 'other-name' },
    });
    expect(preview.statusCode).toBe(200);
    expect(preview.json()).toMatchObject({
      destination: 'demo',
      destinationInUse: true,
      destinationDecision: { action: 'refuse', refusal: { code: 'WORKSPACE.DESTINATION_NOT_EMPTY' } },
    });
    const previewed = preview.json<{ files: Array<{ path: string; sha256: string }> }>().files;
    expect(previewed.map((f) => f.path)).toEqual(project.files.map((f) => f.path));
    expect(await snapshot(path.join(workspace, 'demo'))).toEqual(before);
    const again = await post('/api/v1/projects', { ...body, variables: { projectName: 'other-name' } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'WORKSPACE.DESTINATION_NOT_EMPTY' });
    expect(await snapshot(path.join(workspace, 'demo'))).toEqual(before);

    const replaced = await post('/api/v1/projects', {
      ...body,
      variables: { projectName: 'other-name' },
      overwrite: true,
    });
    expect(replaced.statusCode).toBe(201);
    expect(replaced.json()).toMatchObject({
      replaced: { projectId: project.projectId, template: 'mcp-server-ts' },
    });
    const after = await snapshot(path.join(workspace, 'demo'));
    expect(after['NOTES.md']).toBeUndefined();
    expect(JSON.parse(after['package.json']!).name).toBe('other-name');

    // A directory Switchyard never generated is not replaced, overwrite or not.
    await mkdir(path.join(workspace, 'mine'));
    await writeFile(path.join(workspace, 'mine', 'main.c'), 'int main;\n');
    const theirs = await post('/api/v1/projects', { ...body, destination: 'mine', overwrite: true });
    expect(theirs.statusCode).toBe(409);
    expect(theirs.json()).toMatchObject({ code: 'PROJECT.DESTINATION_NOT_GENERATED' });
    expect(await readdir(path.join(workspace, 'mine'))).toEqual(['main.c']);
  });

  it('refuses destinations outside the workspace and writes nothing there', async () => {
    const outside = path.join(tmp, 'outside');
    await mkdir(outside);
    const generate = (destination: string) =>
      post('/api/v1/projects', {
        template: 'cli-tool',
        destination,
        variables: { projectName: 'escapee' },
      });

    const dotdot = await generate('../outside/x');
    expect(dotdot.statusCode).toBe(400);
    expect(dotdot.json()).toMatchObject({ code: 'WORKSPACE.PATH_ESCAPES' });

    const absolute = await generate(path.join(outside, 'abs'));
    expect(absolute.statusCode).toBe(400);
    expect(absolute.json()).toMatchObject({ code: 'WORKSPACE.ABSOLUTE_PATH' });

    await symlink(outside, path.join(workspace, 'sneaky'));
    const viaLink = await generate('sneaky/project');
    expect(viaLink.statusCode).toBe(400);
    expect(viaLink.json()).toMatchObject({ code: 'WORKSPACE.SYMLINK_ESCAPES' });

    expect(await readdir(outside)).toEqual([]);
    expect(await exists(path.join(workspace, '.switchyard-tmp'))).toBe(false);
  });

  it('refuses bad variables, naming each one, and writes nothing', async () => {
    const res = await post('/api/v1/projects', {
      template: 'mcp-server-ts',
      destination: 'bad-vars',
      variables: { projectName: 'Not A Name', port: 0, colour: 'blue' },
    });
    expect(res.statusCode).toBe(400);
    const p = res.json<{ code: string; detail: string }>();
    expect(p.code).toBe('TEMPLATE.INVALID_VARIABLES');
    expect(p.detail).toContain('projectName');
    expect(p.detail).toContain('port');
    expect(p.detail).toContain('unknown variable colour');

    const wrongType = await post('/api/v1/projects', {
      template: 'mcp-server-ts',
      destination: 'bad-vars',
      variables: { projectName: ['a'] },
    });
    expect(wrongType.statusCode).toBe(400);
    expect(await exists(path.join(workspace, 'bad-vars'))).toBe(false);

    const unknownTemplate = await post('/api/v1/projects', { template: 'nope', destination: 'x' });
    expect(unknownTemplate.statusCode).toBe(404);
  });

  it('analyses a generated project: languages and complexity, recorded and readable', async () => {
    const gen = await post('/api/v1/projects', {
      template: 'mcp-server-ts',
      destination: 'to-analyse',
      variables: { projectName: 'analysed' },
    });
    const { projectId } = gen.json<{ projectId: string }>();

    const res = await post('/api/v1/analyses', { projectId });
    expect(res.statusCode).toBe(201);
    const a = res.json<{
      analysisId: string;
      path: string;
      languages: Array<{ language: string; files: number; code: number }>;
      complexity: { functions: number; max: number };
    }>();
    expect(res.headers.location).toBe(`/api/v1/analyses/${a.analysisId}`);
    expect(a.path).toBe('to-analyse');
    const ts = a.languages.find((l) => l.language === 'TypeScript');
    expect(ts?.files).toBeGreaterThan(0);
    expect(ts?.code).toBeGreaterThan(0);
    expect(a.complexity.functions).toBeGreaterThan(0);

    const got = await get(`/api/v1/analyses/${a.analysisId}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ analysisId: a.analysisId, projectId, languages: a.languages });
    const listed = await get(`/api/v1/analyses?projectId=${projectId}`);
    expect(listed.json<{ items: Array<{ analysisId: string }> }>().items.map((x) => x.analysisId)).toEqual([
      a.analysisId,
    ]);

    const byPath = await post('/api/v1/analyses', { path: 'to-analyse/src' });
    expect(byPath.statusCode).toBe(201);
    expect((await post('/api/v1/analyses', { path: '../..' })).statusCode).toBe(400);
    expect((await post('/api/v1/analyses', { path: 'missing-dir' })).statusCode).toBe(404);
    expect((await post('/api/v1/analyses', {})).statusCode).toBe(400);
    expect((await get('/api/v1/analyses/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });

  it('validates a catalog template, and a broken template directory in the workspace', async () => {
    const ok = await post('/api/v1/templates/mcp-server-ts/validate', {});
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      ok: true,
      target: { kind: 'template', name: 'mcp-server-ts', version: '1.0.0' },
    });
    // No body at all is the same as an empty one.
    expect((await post('/api/v1/templates/cli-tool/validate')).json()).toMatchObject({ ok: true });
    expect((await post('/api/v1/templates/nope/validate', {})).statusCode).toBe(404);
    // A retry with the same Idempotency-Key finds the validation the first request recorded.
    const key = { 'idempotency-key': 'validate-once' };
    const first = await post('/api/v1/templates/cli-tool/validate', {}, key);
    const retry = await post('/api/v1/templates/cli-tool/validate', {}, key);
    expect(retry.json<{ validationId: string }>().validationId).toBe(
      first.json<{ validationId: string }>().validationId,
    );

    const dir = path.join(workspace, 'drafts', 'broken');
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'template.yaml'),
      'name: broken\nversion: 0.1.0\nstack: demo\ndescription: Uses a variable it never declares\n',
    );
    await writeFile(path.join(dir, 'README.md.njk'), '# {{ projectTitle }}\n');
    const bad = await post('/api/v1/templates/validate', { path: 'drafts/broken' });
    expect(bad.statusCode).toBe(200);
    const v = bad.json<{ ok: boolean; target: unknown; issues: Array<{ code: string; message: string }> }>();
    expect(v.ok).toBe(false);
    expect(v.target).toMatchObject({ kind: 'path', path: 'drafts/broken' });
    expect(v.issues).toContainEqual(
      expect.objectContaining({
        code: 'TEMPLATE.UNDECLARED_VARIABLE',
        message: expect.stringContaining('projectTitle'),
      }),
    );

    expect((await post('/api/v1/templates/validate', { path: '../' })).statusCode).toBe(400);
    expect((await post('/api/v1/templates/validate', { template: 'cli-tool' })).statusCode).toBe(400);
  });

  it('registers a directory source, syncs it, and generates from it with a secret kept out of the records', async () => {
    const dir = path.join(sources, 'secret-demo');
    await mkdir(path.join(dir, 'src'), { recursive: true });
    await writeFile(
      path.join(dir, 'template.yaml'),
      [
        'name: secret-demo',
        'version: 1.0.0',
        'stack: tiny-secret',
        'description: A tiny service holding an API token',
        'tags: [demo, vault]',
        'variables:',
        '  appName:',
        '    type: string',
        '    pattern: "[a-z][a-z0-9-]*"',
        '    required: true',
        '  apiToken:',
        '    type: string',
        '    secret: true',
        '    required: true',
        '',
      ].join('\n'),
    );
    await writeFile(path.join(dir, 'README.md.njk'), '# {{ appName }}\n');
    await writeFile(
      path.join(dir, 'src', 'config.ts.njk'),
      "export const token = '{{ apiToken }}';\nexport function pick(a: number, b: number): number {\n  return a > b ? a : b;\n}\n",
    );

    const reg = await post('/api/v1/template-sources', {
      name: 'mine',
      kind: 'directory',
      location: sources,
    });
    expect(reg.statusCode).toBe(202);
    expect(reg.headers.location).toBe('/api/v1/template-sources/mine');
    expect(reg.json()).toMatchObject({ id: 'mine', stream: 'templatesource-mine', duplicate: false });

    const synced = await post('/api/v1/template-sources/mine/sync');
    expect(synced.statusCode).toBe(200);
    expect(synced.json<{ reports: unknown[] }>().reports).toEqual([
      expect.objectContaining({ source: 'mine', ok: true, templates: 1 }),
    ]);
    const found = await get('/api/v1/templates?q=vault');
    expect(found.json<{ items: Array<{ name: string; source: string }> }>().items).toEqual([
      expect.objectContaining({ name: 'secret-demo', source: 'mine' }),
    ]);
    const again = await post('/api/v1/templates/sync', { source: 'mine' });
    expect(again.json()).toEqual({
      reports: [expect.objectContaining({ source: 'mine', ok: true, changed: false })],
    });
    // Without a body: every source, none of them changed.
    const all = await post('/api/v1/templates/sync');
    expect(all.statusCode).toBe(200);
    expect(all.json<{ reports: Array<{ source: string; changed: boolean }> }>().reports).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: 'builtin', changed: false }),
        expect.objectContaining({ source: 'mine', changed: false }),
      ]),
    );
    expect((await get('/api/v1/template-sources/mine')).json()).toMatchObject({
      name: 'mine',
      kind: 'directory',
      status: 'synced',
      templates: [expect.objectContaining({ name: 'secret-demo' })],
    });
    expect((await get('/api/v1/template-sources')).json<{ items: Array<{ name: string }> }>().items).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'mine' })]),
    );
    expect((await post('/api/v1/template-sources/nope/sync')).statusCode).toBe(404);
    const badSource = await post('/api/v1/template-sources', { name: 'x', kind: 'svn', location: '/x' });
    expect(badSource.statusCode).toBe(400);

    const secret = 'tok-3f9a1c77e2';
    const gen = await post('/api/v1/projects', {
      template: 'secret-demo',
      destination: 'apps/vaulty',
      variables: { appName: 'vaulty', apiToken: secret },
    });
    expect(gen.statusCode).toBe(201);
    const { projectId, variables } = gen.json<{ projectId: string; variables: Record<string, unknown> }>();
    expect(variables).toEqual({ appName: 'vaulty', apiToken: '[redacted]' });
    expect(await readFile(path.join(workspace, 'apps', 'vaulty', 'src', 'config.ts'), 'utf8')).toContain(
      secret,
    );

    const shown = await get(`/api/v1/projects/${projectId}`);
    expect(shown.json()).toMatchObject({ variables: { appName: 'vaulty', apiToken: '[redacted]' } });
    expect(shown.body).not.toContain(secret);
    const events = await get(`/api/v1/events?stream=project-${projectId}`);
    expect(events.statusCode).toBe(200);
    expect(events.body).toContain('[redacted]');
    expect(events.body).not.toContain(secret);

    const removed = await inject({ method: 'DELETE', url: '/api/v1/template-sources/mine' });
    expect(removed.statusCode).toBe(202);
    expect((await get('/api/v1/templates?q=vault')).json()).toEqual({ items: [] });
    expect((await inject({ method: 'DELETE', url: '/api/v1/template-sources/nope' })).statusCode).toBe(404);
  });

  it('streams progress as NDJSON when asked, ending with the result or the error', async () => {
    const accept = { accept: 'application/x-ndjson' };
    const res = await post(
      '/api/v1/projects',
      { template: 'cli-tool', destination: 'streamed', variables: { projectName: 'streamed-cli' } },
      accept,
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const lines = ndjson(res.body);
    const last = lines.at(-1)!;
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.slice(0, -1).every((l) => l.type === 'progress')).toBe(true);
    expect(lines[0]).toMatchObject({ type: 'progress', progress: 0, total: expect.any(Number) });
    expect(last).toMatchObject({ type: 'result', status: 201 });
    const projectId = last.body?.projectId as string;
    expect((last as { location?: string }).location).toBe(`/api/v1/projects/${projectId}`);
    expect(await exists(path.join(workspace, 'streamed', 'package.json'))).toBe(true);
    expect((await get(`/api/v1/projects/${projectId}`)).statusCode).toBe(200);

    const refused = await post(
      '/api/v1/projects',
      { template: 'cli-tool', destination: 'streamed', variables: { projectName: 'streamed-cli' } },
      accept,
    );
    expect(ndjson(refused.body).at(-1)).toMatchObject({
      type: 'error',
      status: 409,
      body: { status: 409, code: 'WORKSPACE.DESTINATION_NOT_EMPTY' },
    });

    const sync = await post('/api/v1/templates/sync', {}, accept);
    const syncLines = ndjson(sync.body);
    expect(syncLines.some((l) => l.type === 'progress')).toBe(true);
    expect(syncLines.at(-1)).toMatchObject({
      type: 'result',
      status: 200,
      body: { reports: expect.arrayContaining([expect.objectContaining({ source: 'builtin' })]) },
    });

    const analysis = await post('/api/v1/analyses', { projectId }, accept);
    expect(ndjson(analysis.body).at(-1)).toMatchObject({ type: 'result', status: 201 });
  });

  it('documents the routes in /openapi.json', async () => {
    const doc = (await get('/openapi.json')).json<{
      paths: Record<string, Record<string, { tags?: string[] }>>;
      tags: Array<{ name: string }>;
    }>();
    expect(doc.tags.map((t) => t.name)).toEqual(expect.arrayContaining(['templates', 'projects']));
    expect(doc.paths['/api/v1/templates']?.get?.tags).toEqual(['templates']);
    expect(doc.paths['/api/v1/projects']?.post?.tags).toEqual(['projects']);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/templates/{name}',
        '/api/v1/template-sources/{name}/sync',
        '/api/v1/analyses/{id}',
      ]),
    );
  });
});
