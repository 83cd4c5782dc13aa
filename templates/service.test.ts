import { readdir, readFile, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProjectCommands, registerProjectEvents } from '../domains/projects/index.ts';
import { makeTemplateCommands, registerTemplateEvents } from '../domains/templates/index.ts';
import { fixedClock } from '../kernel/clock.ts';
import { EventTypeRegistry } from '../kernel/event-types.ts';
import { silentLogger } from '../kernel/logger.ts';
import { listProjects, projectsProjection } from '../projections/projects/index.ts';
import { createProjectionRunner, type ProjectionRunner } from '../projections/runner.ts';
import { templatesProjection } from '../projections/templates/templates.projection.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../test/databases.ts';
import { makeTempDirs, manifestYaml, writeTree } from '../test/templates.ts';
import { templateBlobStore } from './blobs.ts';
import { loadTemplateDir } from './engine/load.ts';
import { createTemplateService, type TemplateService } from './service.ts';

/**
 * generate-project with `overwrite` replaces only a project Switchyard generated there for the
 * caller's tenant, and its preview says what generating would do, writing nothing.
 */
for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'template service: generate over an existing destination');
  describe.skipIf(!kind.available())(`generate-project over an existing destination [${kind.label}]`, () => {
    let t: TestDatabase;
    let runner: ProjectionRunner;
    let service: TemplateService;
    let workspace: string;
    const temp = makeTempDirs();
    const clock = fixedClock('2026-12-01T10:00:00.000Z');
    let seq = 0;
    /** A principal of `tenant` (the template is the default tenant's; no scope reads every tenant's). */
    const as = (tenant: string) => ({ actor: `${tenant}-dev`, tenant, correlationId: `c-${++seq}` });
    const acme = () => as('acme');
    const globex = () => as('globex');
    const request = (destination: string, overwrite?: boolean, name = 'first') => ({
      template: 'tiny',
      destination,
      variables: { name },
      ...(overwrite !== undefined && { overwrite }),
    });

    /** Every file under `dir` with its content: "left as it was" compares two of these. */
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
    const recordedAt = async (destination: string) =>
      (await listProjects(t.db, { limit: 500 })).items.filter((p) => p.destination === destination);

    beforeAll(async () => {
      const dirs = await temp;
      t = await kind.open();
      const registry = registerProjectEvents(registerTemplateEvents(new EventTypeRegistry()));
      const commands = makeTemplateCommands({ store: t.store, registry, clock });
      runner = createProjectionRunner({
        store: t.store,
        db: t.db,
        projections: [templatesProjection, projectsProjection],
        registry,
        clock,
        logger: silentLogger(),
      });
      await runner.start();

      const dir = await dirs.make();
      await writeTree(dir, {
        'template.yaml': manifestYaml({
          name: 'tiny',
          variables: { name: { type: 'string', required: true } },
        }),
        'README.md': '# {{ name }}\n',
        LICENSE: 'MIT\n',
        'src/index.js': 'console.log("{{ name }}");\n',
      });
      const l = await loadTemplateDir(dir);
      await templateBlobStore(t.db).put(l.files);
      const published = await commands.publish(
        {
          name: 'tiny',
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
        { commandId: 'publish-tiny', actor: 'test', correlationId: 'c-publish', issuedAt: clock.now() },
      );
      expect(await runner.waitForPosition('templates', published.position!, 10_000)).toBe(true);

      workspace = await dirs.make();
      service = createTemplateService({
        db: t.db,
        templates: commands,
        projects: makeProjectCommands({ store: t.store, registry }),
        blobs: templateBlobStore(t.db),
        sync: {
          sync: () => Promise.reject(new Error('no sync in this suite')),
        },
        clock,
        workspaceRoot: workspace,
        sandbox: { timeoutMs: 5_000 },
        waitForProjection: (name, position) => runner.waitForPosition(name, position, 10_000),
      });
    }, 60_000);

    afterAll(async () => {
      await runner?.stop();
      await t?.close();
      await (await temp).cleanup();
    });

    it.each([
      ['a project the user wrote', 'apps/mine', { 'README.md': '# mine\n', 'src/main.c': 'int main;\n' }],
      ["the workspace's .git", '.git', { HEAD: 'ref: refs/heads/main\n', config: '[core]\n' }],
      // Even holding a file the template would write, byte for byte: no generation was recorded there.
      ['a look-alike', 'apps/lookalike', { LICENSE: 'MIT\n', 'main.go': 'package main\n' }],
    ])('refuses to overwrite %s, says so in the preview, and leaves it as it was', async (_, dest, files) => {
      await writeTree(path.join(workspace, dest), files);
      const before = await snapshot(path.join(workspace, dest));

      const preview = await service.preview(request(dest, true), acme());
      expect(preview.destinationInUse).toBe(true);
      expect(preview.destinationDecision).toEqual({
        action: 'refuse',
        replaces: null,
        refusal: {
          code: 'PROJECT.DESTINATION_NOT_GENERATED',
          message: expect.stringContaining(`${dest} was not generated by Switchyard for your tenant`),
        },
      });
      await expect(service.generate(request(dest, true), acme())).rejects.toMatchObject({
        kind: 'conflict',
        code: 'PROJECT.DESTINATION_NOT_GENERATED',
      });
      expect(await snapshot(path.join(workspace, dest))).toEqual(before);
      expect(await recordedAt(dest)).toEqual([]);
      expect(await readdir(workspace)).not.toContain('.switchyard-tmp');
    });

    it('replaces its own earlier generation, edited since, and says which one it replaced', async () => {
      const first = await service.generate(request('apps/gen'), acme());
      expect(first.replaced).toBeNull();
      const dir = path.join(workspace, 'apps/gen');
      await writeTree(dir, { 'README.md': '# edited by hand\n', 'NOTES.md': 'mine\n' });

      // Without overwrite: refused, as ever; the preview says so.
      const plain = await service.preview(request('apps/gen', false, 'second'), acme());
      expect(plain.destinationDecision).toMatchObject({
        action: 'refuse',
        refusal: { code: 'WORKSPACE.DESTINATION_NOT_EMPTY' },
      });
      await expect(service.generate(request('apps/gen', false, 'second'), acme())).rejects.toMatchObject({
        code: 'WORKSPACE.DESTINATION_NOT_EMPTY',
      });

      const expected = {
        projectId: first.projectId,
        template: 'tiny',
        version: '1.0.0',
        generatedAt: first.generatedAt,
      };
      const preview = await service.preview(request('apps/gen', true, 'second'), acme());
      expect(preview.destinationDecision).toEqual({ action: 'replace', replaces: expected, refusal: null });
      expect(await readFile(path.join(dir, 'NOTES.md'), 'utf8')).toBe('mine\n');

      const second = await service.generate(request('apps/gen', true, 'second'), acme());
      expect(second.replaced).toEqual(expected);
      expect(await snapshot(dir)).toEqual({
        LICENSE: 'MIT\n',
        'README.md': '# second\n',
        'src/index.js': 'console.log("second");\n',
      });
      // And that one in turn.
      const third = await service.generate(request('apps/gen', true, 'third'), acme());
      expect(third.replaced?.projectId).toBe(second.projectId);
    });

    it("counts another tenant's generation there as not generated by the caller", async () => {
      const theirs = await service.generate(request('shared/app'), acme());
      const dir = path.join(workspace, 'shared/app');
      const before = await snapshot(dir);

      const preview = await service.preview(request('shared/app', true, 'intruder'), globex());
      expect(preview.destinationDecision).toMatchObject({
        action: 'refuse',
        refusal: { code: 'PROJECT.DESTINATION_NOT_GENERATED' },
      });
      // Nothing in the answer tells whose project it is.
      expect(JSON.stringify(preview.destinationDecision)).not.toContain(theirs.projectId);
      await expect(service.generate(request('shared/app', true, 'intruder'), globex())).rejects.toMatchObject(
        {
          code: 'PROJECT.DESTINATION_NOT_GENERATED',
        },
      );
      expect(await snapshot(dir)).toEqual(before);
      expect((await recordedAt('shared/app')).map((p) => p.tenant)).toEqual(['acme']);

      // The owner's tenant still may.
      const again = await service.generate(request('shared/app', true, 'second'), acme());
      expect(again.replaced?.projectId).toBe(theirs.projectId);
    });

    it('refuses a generated project the user has since removed and replaced with their own', async () => {
      const gen = await service.generate(request('apps/swapped'), acme());
      const dir = path.join(workspace, 'apps/swapped');
      await rm(dir, { recursive: true });
      await writeTree(dir, { 'README.md': '# rewritten\n', 'lib/x.py': 'x = 1\n' });
      const before = await snapshot(dir);

      const preview = await service.preview(request('apps/swapped', true), acme());
      expect(preview.destinationDecision).toMatchObject({
        action: 'refuse',
        refusal: {
          code: 'PROJECT.DESTINATION_NOT_GENERATED',
          message: expect.stringContaining(`no longer holds project ${gen.projectId}`),
        },
      });
      await expect(service.generate(request('apps/swapped', true), acme())).rejects.toMatchObject({
        code: 'PROJECT.DESTINATION_NOT_GENERATED',
      });
      expect(await snapshot(dir)).toEqual(before);
    });

    it('refuses a destination that is a symlink, even to its own generation', async () => {
      await service.generate(request('apps/target'), acme());
      await symlink(path.join(workspace, 'apps/target'), path.join(workspace, 'alias'));
      const before = await snapshot(path.join(workspace, 'apps/target'));
      for (const attempt of [
        () => service.preview(request('alias', true), acme()),
        () => service.generate(request('alias', true, 'via-link'), acme()),
      ]) {
        await expect(attempt()).rejects.toMatchObject({
          kind: 'validation',
          code: 'WORKSPACE.DESTINATION_IS_SYMLINK',
        });
      }
      expect(await snapshot(path.join(workspace, 'apps/target'))).toEqual(before);
    });
  });
}
