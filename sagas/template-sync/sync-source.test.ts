import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProjectCommands, registerProjectEvents } from '../../domains/projects/index.ts';
import {
  makeTemplateCommands,
  registerTemplateEvents,
  templateStream,
} from '../../domains/templates/index.ts';
import { fixedClock } from '../../kernel/clock.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.ts';
import { getTemplate, getTemplateSource, searchTemplates } from '../../projections/templates/index.ts';
import { templatesProjection } from '../../projections/templates/templates.projection.ts';
import { templateBlobStore } from '../../templates/blobs.ts';
import { loadTemplateDir } from '../../templates/engine/load.ts';
import { createTemplateService } from '../../templates/service.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../../test/databases.ts';
import { makeTempDirs, manifestYaml, writeTree } from '../../test/templates.ts';
import { createTemplateSync, type TemplateSync } from './sync-source.ts';

const git = promisify(execFile);
const gitIn = (cwd: string, ...args: string[]) =>
  git(
    'git',
    ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args],
    { cwd },
  );

for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'template sync saga');
  describe.skipIf(!kind.available())(`template sync saga [${kind.label}]`, () => {
    let t: TestDatabase;
    let runner: ProjectionRunner;
    let sync: TemplateSync;
    let commands: ReturnType<typeof makeTemplateCommands>;
    const temp = makeTempDirs();
    let dirs: Awaited<typeof temp>;
    const clock = fixedClock('2026-11-21T10:00:00.000Z');
    const registry = registerProjectEvents(registerTemplateEvents(new EventTypeRegistry()));
    let seq = 0;
    const meta = (): CommandMeta => ({
      commandId: `cmd-${++seq}`,
      actor: 'test',
      correlationId: `c-${seq}`,
      issuedAt: clock.now(),
    });
    /** Syncs, then waits until the read model shows what the sync appended (by its own position). */
    const run = async (source: string) => {
      const report = await sync.sync(source, { actor: 'test', correlationId: `sync-${++seq}` });
      if (report.position !== null)
        expect(await runner.waitForPosition('templates', BigInt(report.position), 10_000)).toBe(true);
      return report;
    };
    const countEvents = async () => (await t.store.readAll({ after: 0n, maxCount: 100_000 })).length;

    beforeAll(async () => {
      dirs = await temp;
      t = await kind.open();
      commands = makeTemplateCommands({ store: t.store, registry, clock });
      sync = createTemplateSync({
        commands,
        blobs: templateBlobStore(t.db),
        clock,
        logger: silentLogger(),
        workDir: await dirs.make(),
        // The sources here are temp directories and repositories on this machine.
        sources: { directoryRoots: [tmpdir()], allowLocalGit: true },
        sandbox: { timeoutMs: 3_000 },
      });
      runner = createProjectionRunner({
        store: t.store,
        db: t.db,
        projections: [templatesProjection],
        registry,
        clock,
        logger: silentLogger(),
      });
      await runner.start();
    });

    afterAll(async () => {
      await runner?.stop();
      await t?.close();
      await dirs.cleanup();
    });

    it('publishes a directory source, appends nothing when run again, and follows changes', async () => {
      const src = await dirs.make();
      await writeTree(src, {
        'alpha/template.yaml': manifestYaml({
          name: 'alpha',
          description: 'Alpha service',
          tags: ['api'],
          variables: { title: { type: 'string', default: 'Alpha' } },
        }),
        'alpha/README.md': '# {{ title }}\n',
        'nested/group/beta/template.yaml': manifestYaml({ name: 'beta', stack: 'node-fastify' }),
        'nested/group/beta/index.js': 'console.log(1)\n',
      });
      await commands.registerSource({ name: 'local', kind: 'directory', location: src }, meta());

      const first = await run('local');
      expect(first).toMatchObject({ ok: true, changed: true, templates: 2 });
      expect(first.published.sort()).toEqual(['alpha', 'beta']);
      expect((await searchTemplates(t.db, { query: 'alpha' })).map((s) => s.name)).toEqual(['alpha']);

      const before = await countEvents();
      const second = await run('local');
      expect(second).toMatchObject({ ok: true, changed: false });
      expect(await countEvents()).toBe(before);

      // One template changes, one is broken, one disappears.
      await writeTree(src, { 'alpha/README.md': '# {{ title }} v2\n' });
      await writeTree(src, { 'nested/group/beta/template.yaml': 'name: beta\nversion: nope\n' });
      const third = await run('local');
      expect(third.published).toEqual(['alpha']);
      expect(third.rejected.map((r) => r.dir)).toEqual(['nested/group/beta']);
      expect(third.removed).toEqual([]);
      // The broken template keeps its last good version.
      expect((await getTemplate(t.db, 'beta'))?.removedAt ?? null).toBeNull();
      expect((await getTemplate(t.db, 'alpha'))?.versions).toHaveLength(2);

      await rm(join(src, 'nested'), { recursive: true });
      const fourth = await run('local');
      expect(fourth.removed).toEqual(['beta']);
      expect((await searchTemplates(t.db, {})).map((s) => s.name)).toEqual(['alpha']);
    });

    it("shows a template's variables in the order its author wrote them", async () => {
      const src = await dirs.make();
      const variables = {
        zeta: { type: 'string', default: 'z' },
        alpha: { type: 'string', default: 'a' },
        mid: { type: 'integer', default: 1 },
      };
      await writeTree(src, {
        'ordered/template.yaml': manifestYaml({ name: 'ordered', variables }),
        'ordered/x.txt': '{{ zeta }} {{ alpha }} {{ mid }}\n',
      });
      await commands.registerSource({ name: 'ordered-src', kind: 'directory', location: src }, meta());
      expect((await run('ordered-src')).published).toEqual(['ordered']);
      expect((await getTemplate(t.db, 'ordered'))?.variables.map((v) => v.name)).toEqual([
        'zeta',
        'alpha',
        'mid',
      ]);
      const [summary] = await searchTemplates(t.db, { query: 'ordered' });
      expect(summary?.variables).toEqual(['zeta', 'alpha', 'mid']);
    });

    it('records why a source failed and keeps the last good catalog', async () => {
      const src = await dirs.make();
      await writeTree(src, { 'gamma/template.yaml': manifestYaml({ name: 'gamma' }), 'gamma/a.txt': 'a\n' });
      await commands.registerSource({ name: 'flaky', kind: 'directory', location: src }, meta());
      expect((await run('flaky')).ok).toBe(true);
      await rm(src, { recursive: true });
      const failed = await run('flaky');
      expect(failed.ok).toBe(false);
      expect(failed.error?.code).toBe('TEMPLATE_SOURCE.UNREACHABLE');
      const source = await getTemplateSource(t.db, 'flaky');
      expect(source?.status).toBe('failed');
      expect(source?.lastError).toContain(src);
      expect((await searchTemplates(t.db, { query: 'gamma' })).map((s) => s.name)).toEqual(['gamma']);
      // The same failure again is not recorded twice.
      const before = await countEvents();
      await run('flaky');
      expect(await countEvents()).toBe(before);
    });

    it('syncs a git repository at a tag, skipping the clone when the commit did not move', async () => {
      const repo = await dirs.make();
      await writeTree(repo, {
        'delta/template.yaml': manifestYaml({ name: 'delta', version: '1.0.0' }),
        'delta/x.txt': 'v1\n',
      });
      await gitIn(repo, 'init', '-q');
      await gitIn(repo, 'add', '-A');
      await gitIn(repo, 'commit', '-qm', 'v1');
      await gitIn(repo, 'tag', 'v1');
      await writeTree(repo, { 'delta/template.yaml': manifestYaml({ name: 'delta', version: '2.0.0' }) });
      await gitIn(repo, 'commit', '-qam', 'v2');

      await commands.registerSource({ name: 'repo', kind: 'git', location: repo, ref: 'v1' }, meta());
      const r = await run('repo');
      expect(r).toMatchObject({ ok: true, changed: true, published: ['delta'] });
      expect(r.commit).toMatch(/^[0-9a-f]{40}$/);
      expect((await getTemplate(t.db, 'delta'))?.version).toBe('1.0.0');
      const before = await countEvents();
      expect((await run('repo')).changed).toBe(false);
      expect(await countEvents()).toBe(before);

      await commands.registerSource(
        { name: 'repo', kind: 'git', location: repo, ref: 'main', replace: true },
        meta(),
      );
      expect((await run('repo')).published).toEqual(['delta']);
      expect((await getTemplate(t.db, 'delta'))?.version).toBe('2.0.0');
      const events = await t.store.readStream(templateStream('delta'));
      expect(events.map((e) => e.type)).toEqual(['TemplateVersionPublished', 'TemplateVersionPublished']);

      // Inspecting the older version shows that version, with the whole history.
      const service = createTemplateService({
        db: t.db,
        templates: commands,
        projects: makeProjectCommands({ store: t.store, registry }),
        blobs: templateBlobStore(t.db),
        sync,
        clock,
        workspaceRoot: await dirs.make(),
        waitForProjection: (name, position) => runner.waitForPosition(name, position, 10_000),
      });
      const older = await service.inspect({ name: 'delta', version: '1.0.0' });
      expect(older.version).toBe('1.0.0');
      expect(older.manifest.version).toBe('1.0.0');
      expect(older.versions.map((v) => v.version)).toEqual(['2.0.0', '1.0.0']);
      expect((await service.inspect({ name: 'delta' })).version).toBe('2.0.0');
      await expect(service.inspect({ name: 'delta', version: '9.9.9' })).rejects.toMatchObject({
        code: 'TEMPLATE.NOT_FOUND',
      });
    });

    it('refuses a template name another source already publishes', async () => {
      const src = await dirs.make();
      await writeTree(src, { 'alpha/template.yaml': manifestYaml({ name: 'alpha' }), 'alpha/b.txt': 'b\n' });
      await commands.registerSource({ name: 'intruder', kind: 'directory', location: src }, meta());
      const r = await run('intruder');
      expect(r.rejected[0]?.issues[0]?.code).toBe('TEMPLATE.OWNED_BY_OTHER_SOURCE');
      expect((await getTemplate(t.db, 'alpha'))?.source).toBe('local');
    });

    describe('templates that try to run code', () => {
      let root: string;
      let secret: string;
      let marker: string;
      let payload: string;
      const allEvents = async () =>
        JSON.stringify(await t.store.readAll({ after: 0n, maxCount: 100_000 }), (_k, v: unknown) =>
          typeof v === 'bigint' ? v.toString() : v,
        );
      const exists = (p: string) =>
        access(p).then(
          () => true,
          () => false,
        );

      beforeAll(async () => {
        root = await dirs.make();
        // Stands for the data directory's secret key, and for a secret in the environment.
        secret = `secret-${randomBytes(12).toString('hex')}`;
        await writeFile(join(root, 'secret.key'), secret);
        process.env.SWITCHYARD_TEST_SECRET = secret;
        marker = join(root, 'pwned');
        payload = JSON.stringify(
          `const fs = process.getBuiltinModule("fs"); fs.writeFileSync(${JSON.stringify(marker)}, "x"); ` +
            `return fs.readFileSync(${JSON.stringify(join(root, 'secret.key'))}, "utf8") + ` +
            'fs.readFileSync("/proc/self/environ", "utf8") + JSON.stringify(process.env)',
        );
      });
      afterAll(() => {
        delete process.env.SWITCHYARD_TEST_SECRET;
      });

      it('are refused by a sync, with the file and line; nothing runs, hangs, or leaks', async () => {
        const src = await dirs.make();
        const ab = { a: { type: 'string', default: 'constr' }, b: { type: 'string', default: 'uctor' } };
        await writeTree(src, {
          'good/template.yaml': manifestYaml({ name: 'good-one' }),
          'good/README.md': 'class Good { constructor() {} }\n',
          'static/template.yaml': manifestYaml({ name: 'evil-static' }),
          'static/a.txt': `{{ range.constructor(${payload})() }}\n`,
          'static/b.txt': `one\n{{ cycler.constructor(${payload})() }}`,
          'static/c.txt': `{{ joiner.constructor(${payload})() }}{{ ("x" | upper).constructor }}`,
          'static/d.txt': `{{ range["constr" ~ "uctor"](${payload})() }}`,
          'dynamic/template.yaml': manifestYaml({ name: 'evil-dynamic', variables: ab }),
          'dynamic/a.txt': `{{ range[a ~ b](${payload})() }}`,
          'spin/template.yaml': manifestYaml({ name: 'evil-spin' }),
          'spin/a.txt':
            '{% for a in range(0, 100000) %}{% for b in range(0, 100000) %}{% endfor %}{% endfor %}',
        });
        await commands.registerSource({ name: 'attacks', kind: 'directory', location: src }, meta());
        const started = Date.now();
        const r = await run('attacks');
        expect(Date.now() - started).toBeLessThan(20_000);
        expect(r).toMatchObject({ ok: true, published: ['good-one'] });
        const rejected = Object.fromEntries(
          r.rejected.map((x) => [x.name, x.issues.map((i) => [i.code, i.file, i.message.split(':')[1]])]),
        );
        expect(rejected).toEqual({
          'evil-static': [
            ['TEMPLATE.UNSAFE_EXPRESSION', 'a.txt', ' line 1'],
            ['TEMPLATE.UNSAFE_EXPRESSION', 'b.txt', ' line 2'],
            ['TEMPLATE.UNSAFE_EXPRESSION', 'c.txt', ' line 1'],
            ['TEMPLATE.UNSAFE_EXPRESSION', 'd.txt', ' line 1'],
          ],
          'evil-dynamic': [['TEMPLATE.UNSAFE_EXPRESSION', 'a.txt', ' line 1']],
          'evil-spin': [['TEMPLATE.RENDER_TIMEOUT', 'a.txt', ' render timed out after 3 s']],
        });
        expect(await exists(marker)).toBe(false);
        expect(await allEvents()).not.toContain(secret);
        expect(JSON.stringify(r)).not.toContain(secret);
      });

      it('are refused when generating from a version that was published without those checks', async () => {
        const dir = await dirs.make();
        const vars = {
          a: { type: 'string', default: 'x' },
          b: { type: 'string', default: 'y' },
          spin: { type: 'boolean', default: false },
        };
        await writeTree(dir, {
          'template.yaml': manifestYaml({ name: 'old-evil', version: '1.0.0', variables: vars }),
          'README.md': '{{ a }}{{ b }}',
          'a.txt': `{{ range[a ~ b](${payload})() if a == "constr" }}`,
          'spin.txt':
            '{% if spin %}{% for a in range(0, 100000) %}{% for b in range(0, 100000) %}{% endfor %}{% endfor %}{% endif %}',
        });
        const published = async (extra: Record<string, string>) => {
          await writeTree(dir, extra);
          const l = await loadTemplateDir(dir);
          const blobs = templateBlobStore(t.db);
          await blobs.put(l.files);
          const res = await commands.publish(
            {
              name: l.manifest.name,
              source: 'by-hand',
              version: l.manifest.version,
              stack: l.manifest.stack,
              description: l.manifest.description,
              tags: l.manifest.tags,
              manifest: l.manifest,
              variableOrder: Object.keys(l.manifest.variables),
              files: l.files.map(({ path, size, sha256, binary, render }) => ({
                path,
                size,
                sha256,
                binary,
                render,
              })),
              contentHash: l.contentHash,
              commit: null,
              validation: { issues: [], stats: { files: l.files.length, bytes: 0 } },
              publishedAt: clock.now().toISOString(),
            },
            meta(),
          );
          expect(await runner.waitForPosition('templates', res.position!, 10_000)).toBe(true);
        };
        const workspaceRoot = await dirs.make();
        const service = createTemplateService({
          db: t.db,
          templates: commands,
          projects: makeProjectCommands({ store: t.store, registry }),
          blobs: templateBlobStore(t.db),
          sync,
          clock,
          workspaceRoot,
          sandbox: { timeoutMs: 2_000 },
          waitForProjection: (name, position) => runner.waitForPosition(name, position, 10_000),
        });
        const ctx = { actor: 'test', correlationId: 'c-gen' };
        const generate = (variables: Record<string, string | boolean>) =>
          service.generate({ template: 'old-evil', destination: 'out', variables }, ctx);

        await published({});
        // Built from the user's values: only the sandboxed render can see it.
        await expect(generate({ a: 'constr', b: 'uctor' })).rejects.toMatchObject({
          kind: 'validation',
          code: 'TEMPLATE.UNSAFE_EXPRESSION',
        });
        await expect(generate({ spin: true })).rejects.toMatchObject({ code: 'TEMPLATE.RENDER_TIMEOUT' });
        await expect(
          service.preview(
            { template: 'old-evil', destination: 'out', variables: { a: 'constr', b: 'uctor' } },
            ctx,
          ),
        ).rejects.toMatchObject({ code: 'TEMPLATE.UNSAFE_EXPRESSION' });

        // Plain to see: refused before any child starts.
        await published({
          'b.txt': `{{ lipsum.constructor(${payload})() }}`,
          'template.yaml': manifestYaml({ name: 'old-evil', version: '1.0.1', variables: vars }),
        });
        await expect(generate({})).rejects.toMatchObject({
          code: 'TEMPLATE.UNSAFE_EXPRESSION',
          message: expect.stringContaining('b.txt: line 1: "constructor" may not be used'),
        });

        expect(await exists(marker)).toBe(false);
        expect(await readdir(workspaceRoot)).toEqual([]);
        const events = await allEvents();
        expect(events).not.toContain('ProjectGenerated');
        expect(events).not.toContain(secret);
      });

      it('are read only from allowed places: other directories and git transports are refused', async () => {
        const allowed = await dirs.make();
        const outside = await dirs.make();
        await writeTree(outside, { 'x/template.yaml': manifestYaml({ name: 'outsider' }), 'x/a.txt': 'a' });
        const strict = createTemplateSync({
          commands,
          blobs: templateBlobStore(t.db),
          clock,
          logger: silentLogger(),
          workDir: await dirs.make(),
          sources: { directoryRoots: [allowed] },
        });
        const gitMarker = join(root, 'git-pwned');
        const cases: Array<[string, 'directory' | 'git', string]> = [
          ['outside-dir', 'directory', outside],
          ['dotdot-dir', 'directory', join(allowed, '..', outside.split('/').at(-1)!)],
          ['ext-git', 'git', `ext::sh -c touch% ${gitMarker}`],
          ['fd-git', 'git', 'fd::0'],
          ['file-git', 'git', `file://${outside}`],
          ['path-git', 'git', outside],
          ['http-git', 'git', 'http://127.0.0.1:9/t.git'],
        ];
        for (const [name, kind, location] of cases) {
          await commands.registerSource({ name, kind, location }, meta());
          const r = await strict.sync(name, { actor: 'test', correlationId: `c-${name}` });
          expect(r, name).toMatchObject({
            ok: false,
            error: { code: 'TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED' },
          });
          expect(await runner.waitForPosition('templates', BigInt(r.position!), 10_000)).toBe(true);
          expect((await getTemplateSource(t.db, name))?.status).toBe('failed');
        }
        expect(await exists(gitMarker)).toBe(false);
        expect((await searchTemplates(t.db, { query: 'outsider' })).map((x) => x.name)).toEqual([]);

        // Registering through the service is refused at once (a 400 at the edge), and nothing is recorded.
        const service = createTemplateService({
          db: t.db,
          templates: commands,
          projects: makeProjectCommands({ store: t.store, registry }),
          blobs: templateBlobStore(t.db),
          sync: strict,
          clock,
          workspaceRoot: allowed,
          waitForProjection: (n, position) => runner.waitForPosition(n, position, 10_000),
        });
        const before = await countEvents();
        for (const [kind, location] of [
          ['directory', outside],
          ['git', 'ext::sh -c id'],
          ['git', outside],
        ] as const) {
          await expect(
            service.sources.register(
              { name: 'refused', kind, location },
              { actor: 'test', correlationId: 'c-reg' },
            ),
          ).rejects.toMatchObject({ kind: 'validation', code: 'TEMPLATE_SOURCE.LOCATION_NOT_ALLOWED' });
        }
        expect(await countEvents()).toBe(before);
      });
    });
  });
}
