import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerProjectEvents } from '../../domains/projects/index.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../../test/databases.ts';
import { liveTableNames } from '../projection.ts';
import { createProjectionRunner, type ProjectionRunner } from '../runner.ts';
import { tableContents } from '../tables.ts';
import { projectsProjection } from './projects.projection.ts';
import { getAnalysis, getProject, listAnalyses, listProjects } from './projects.queries.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'projects read model');
  describe.skipIf(!kind.available())(`projects read model [${kind.label}]`, () => {
    let t: TestDatabase;
    let runner: ProjectionRunner;
    const registry = registerProjectEvents(new EventTypeRegistry());
    let last = 0n;

    async function append(stream: string, type: string, data: unknown, actor: string): Promise<void> {
      const r = await t.store.append(
        stream,
        [
          {
            id: randomUUID(),
            type,
            data: registry.validate(type, data),
            metadata: { correlationId: randomUUID(), causationId: randomUUID(), actor, schemaVersion: 1 },
          },
        ],
        'any',
      );
      if (r.position > last) last = r.position;
    }

    async function generate(
      template: string,
      at: string,
      actor: string,
      destination: string,
      /** Without one, the event is as written before tenancy. */
      tenant?: string,
    ): Promise<string> {
      const projectId = randomUUID();
      await append(
        `project-${projectId}`,
        'ProjectGenerated',
        {
          projectId,
          template,
          version: '1.0.0',
          contentHash: sha(template),
          destination,
          variables: { projectName: destination, port: 3000, apiToken: '[redacted]' },
          files: [
            { path: 'package.json', size: 200, sha256: sha(`${projectId}/package.json`) },
            { path: 'src/index.ts', size: 1000, sha256: sha(`${projectId}/src/index.ts`) },
          ],
          overwrite: false,
          durationMs: 42,
          ...(tenant && { tenant, owner: actor }),
          generatedAt: at,
        },
        actor,
      );
      return projectId;
    }

    async function analyze(
      path: string,
      projectId: string | null,
      at: string,
      actor: string,
      tenant?: string,
    ): Promise<string> {
      const analysisId = randomUUID();
      await append(
        `analysis-${analysisId}`,
        'CodeAnalyzed',
        {
          analysisId,
          path,
          projectId,
          totals: { files: 2, lines: 50, code: 40, blank: 6, comment: 4, bytes: 1200 },
          languages: [
            { language: 'TypeScript', files: 1, lines: 45, code: 36, blank: 5, comment: 4, bytes: 1000 },
            { language: 'JSON', files: 1, lines: 5, code: 4, blank: 1, comment: 0, bytes: 200 },
          ],
          complexity: {
            tool: 'eslint',
            files: 1,
            functions: 3,
            total: 7,
            average: 7 / 3,
            max: 4,
            top: [{ file: 'src/index.ts', name: 'main', line: 3, complexity: 4 }],
            parseErrors: [],
          },
          skipped: { binary: 0, tooLarge: 0, unknownLanguage: 1 },
          durationMs: 15,
          ...(tenant && { tenant, owner: actor }),
          analyzedAt: at,
        },
        actor,
      );
      return analysisId;
    }

    const ids: Record<string, string> = {};

    beforeAll(async () => {
      t = await kind.open();
      runner = createProjectionRunner({
        store: t.store,
        db: t.db,
        projections: [projectsProjection],
        registry,
      });
      await runner.start();
      ids.a = await generate('fastify-service', '2026-04-01T09:00:00.000Z', 'alice', 'apps/a');
      ids.b = await generate('mcp-server-ts', '2026-04-01T10:00:00.000Z', 'bob', 'apps/b');
      ids.c = await generate('fastify-service', '2026-04-01T11:00:00.000Z', 'api-key:ci', 'apps/c', 'team-a');
      ids.analysisA = await analyze('apps/a', ids.a, '2026-04-01T12:00:00.000Z', 'alice');
      ids.analysisRoot = await analyze('.', null, '2026-04-01T13:00:00.000Z', 'bob', 'team-b');
      expect(await runner.waitForPosition('projects', last, 15_000)).toBe(true);
    });
    afterAll(async () => {
      await runner?.stop();
      await t?.close();
    });

    it('one row per generated project, with who generated it and what was written', async () => {
      expect(await getProject(t.db, ids.b!)).toEqual({
        projectId: ids.b,
        template: 'mcp-server-ts',
        version: '1.0.0',
        contentHash: sha('mcp-server-ts'),
        destination: 'apps/b',
        variables: { projectName: 'apps/b', port: 3000, apiToken: '[redacted]' },
        fileCount: 2,
        totalBytes: 1200,
        overwrite: false,
        durationMs: 42,
        generatedAt: '2026-04-01T10:00:00.000Z',
        actor: 'bob',
        // Generated before tenancy.
        tenant: 'default',
        owner: 'unknown',
        position: expect.any(String),
        files: [
          { path: 'package.json', size: 200, sha256: sha(`${ids.b}/package.json`) },
          { path: 'src/index.ts', size: 1000, sha256: sha(`${ids.b}/src/index.ts`) },
        ],
      });
      expect(await getProject(t.db, randomUUID())).toBeUndefined();
      expect(await getProject(t.db, 'not-a-uuid')).toBeUndefined();
    });

    it('lists projects newest first, by template, a page at a time', async () => {
      const all = await listProjects(t.db);
      expect(all.items.map((p) => p.projectId)).toEqual([ids.c, ids.b, ids.a]);
      expect(all.nextCursor).toBeNull();
      expect(all.items[0]).toMatchObject({ actor: 'api-key:ci', fileCount: 2 });
      expect(all.items[0]).not.toHaveProperty('files');

      const first = await listProjects(t.db, { limit: 2 });
      expect(first.items.map((p) => p.projectId)).toEqual([ids.c, ids.b]);
      const second = await listProjects(t.db, { limit: 2, after: first.nextCursor! });
      expect(second.items.map((p) => p.projectId)).toEqual([ids.a]);
      expect(second.nextCursor).toBeNull();

      const fastify = await listProjects(t.db, { template: 'fastify-service' });
      expect(fastify.items.map((p) => p.projectId)).toEqual([ids.c, ids.a]);
      await expect(listProjects(t.db, { after: 'garbage' })).rejects.toMatchObject({
        code: 'QUERY.INVALID_CURSOR',
      });
      await expect(listProjects(t.db, { limit: 501 })).rejects.toMatchObject({ code: 'QUERY.INVALID_LIMIT' });
    });

    it('one row per analysis, by project or of any path', async () => {
      expect(await getAnalysis(t.db, ids.analysisA!)).toEqual({
        analysisId: ids.analysisA,
        path: 'apps/a',
        projectId: ids.a,
        totals: { files: 2, lines: 50, code: 40, blank: 6, comment: 4, bytes: 1200 },
        languages: [
          { language: 'TypeScript', files: 1, lines: 45, code: 36, blank: 5, comment: 4, bytes: 1000 },
          { language: 'JSON', files: 1, lines: 5, code: 4, blank: 1, comment: 0, bytes: 200 },
        ],
        complexity: {
          tool: 'eslint',
          files: 1,
          functions: 3,
          total: 7,
          average: 7 / 3,
          max: 4,
          top: [{ file: 'src/index.ts', name: 'main', line: 3, complexity: 4 }],
          parseErrors: [],
        },
        skipped: { binary: 0, tooLarge: 0, unknownLanguage: 1 },
        durationMs: 15,
        analyzedAt: '2026-04-01T12:00:00.000Z',
        actor: 'alice',
        tenant: 'default',
        owner: 'unknown',
        position: expect.any(String),
      });
      expect((await listAnalyses(t.db)).map((a) => a.analysisId)).toEqual([ids.analysisRoot, ids.analysisA]);
      expect((await listAnalyses(t.db, { projectId: ids.a! })).map((a) => a.analysisId)).toEqual([
        ids.analysisA,
      ]);
      expect(await listAnalyses(t.db, { projectId: ids.b! })).toEqual([]);
      expect(await listAnalyses(t.db, { projectId: 'nope' })).toEqual([]);
      expect((await listAnalyses(t.db, { limit: 1 })).map((a) => a.actor)).toEqual(['bob']);
      expect(await getAnalysis(t.db, 'nope')).toBeUndefined();
    });

    it("a tenant lists and finds its own projects and analyses, not another's", async () => {
      const projectIds = async (tenant?: string) =>
        (await listProjects(t.db, { tenant })).items.map((p) => p.projectId);
      expect(await projectIds('team-a')).toEqual([ids.c]);
      expect(await projectIds('default')).toEqual([ids.b, ids.a]);
      expect(await projectIds(undefined)).toEqual([ids.c, ids.b, ids.a]);
      expect(await getProject(t.db, ids.c!, { tenant: 'team-a' })).toMatchObject({
        tenant: 'team-a',
        owner: 'api-key:ci',
      });
      expect(await getProject(t.db, ids.c!, { tenant: 'team-b' })).toBeUndefined();

      const analysisIds = async (tenant?: string) =>
        (await listAnalyses(t.db, { tenant })).map((a) => a.analysisId);
      expect(await analysisIds('team-b')).toEqual([ids.analysisRoot]);
      expect(await analysisIds('team-a')).toEqual([]);
      expect(await getAnalysis(t.db, ids.analysisRoot!, { tenant: 'team-b' })).toMatchObject({
        owner: 'bob',
      });
      expect(await getAnalysis(t.db, ids.analysisRoot!, { tenant: 'default' })).toBeUndefined();
    });

    it('re-applying is harmless; a rebuild from the store alone equals the live tables', async () => {
      const projects = await tableContents(t.db, 'projects', 'project_id');
      const analyses = await tableContents(t.db, 'code_analyses', 'analysis_id');
      expect(projects).toHaveLength(3);
      expect(analyses).toHaveLength(2);
      // Applying the whole log again changes nothing (each row is inserted once).
      const events = await t.store.readAll({ filter: projectsProjection.filter });
      await t.db.transaction().execute(async (trx) => {
        for (const e of events) await projectsProjection.apply(trx, e, liveTableNames(projectsProjection));
      });
      expect(await tableContents(t.db, 'projects', 'project_id')).toEqual(projects);
      expect(await tableContents(t.db, 'code_analyses', 'analysis_id')).toEqual(analyses);

      const result = await runner.rebuild('projects');
      expect(result.events).toBe(5);
      expect(await tableContents(t.db, 'projects', 'project_id')).toEqual(projects);
      expect(await tableContents(t.db, 'code_analyses', 'analysis_id')).toEqual(analyses);
    });
  });
}
