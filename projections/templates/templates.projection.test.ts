import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerTemplateEvents } from '../../domains/templates/index.ts';
import { EventTypeRegistry } from '../../kernel/event-types.ts';
import { databaseKinds, type TestDatabase, warnIfSkipped } from '../../test/databases.ts';
import { liveTableNames } from '../projection.ts';
import { createProjectionRunner, type ProjectionRunner } from '../runner.ts';
import { tableContents } from '../tables.ts';
import { recordSourceCheck } from './source-checks.ts';
import { templatesProjection } from './templates.projection.ts';
import {
  getTemplate,
  getTemplateSource,
  getTemplateVersion,
  getValidation,
  listStacks,
  listTemplateSources,
  listValidations,
  prefixTsQuery,
  searchTemplates,
} from './templates.queries.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

interface Publish {
  version?: string;
  stack: string;
  description: string;
  tags?: string[];
  variables?: Record<string, Record<string, unknown>>;
  files?: Array<{ path: string; size: number; binary?: boolean }>;
  source?: string;
  at: string;
}

const defaultFiles = [
  { path: 'package.json', size: 120 },
  { path: 'src/index.ts', size: 300 },
  { path: 'src/lib/util.ts', size: 80 },
  { path: 'assets/logo.png', size: 2048, binary: true },
  { path: 'README.md', size: 50 },
];

describe('prefixTsQuery', () => {
  it('keeps runs of letters and digits as prefix terms joined with &', () => {
    expect(prefixTsQuery('Fast  HTTP-api')).toBe('fast:* & http:* & api:*');
    expect(prefixTsQuery("x' & | ! : * ( ) \\ y")).toBe('x:* & y:*');
    expect(prefixTsQuery('&|!:*()\\')).toBeUndefined();
    expect(prefixTsQuery('')).toBeUndefined();
    expect(prefixTsQuery(undefined)).toBeUndefined();
  });
});

for (const kind of databaseKinds) {
  warnIfSkipped(kind, 'templates read model');
  describe.skipIf(!kind.available())(`templates read model [${kind.label}]`, () => {
    let t: TestDatabase;
    let runner: ProjectionRunner;
    const registry = registerTemplateEvents(new EventTypeRegistry());
    let last = 0n;

    /** Appends an event as the current code writes it, or (`schemaVersion` given) as an older one did. */
    async function append(
      stream: string,
      type: string,
      data: unknown,
      options: { schemaVersion?: number } = {},
    ): Promise<void> {
      const current = registry.currentVersion(type);
      const schemaVersion = options.schemaVersion ?? current;
      const r = await t.store.append(
        stream,
        [
          {
            id: randomUUID(),
            type,
            data: schemaVersion === current ? registry.validate(type, data) : data,
            metadata: {
              correlationId: randomUUID(),
              causationId: randomUUID(),
              actor: 'alice',
              schemaVersion,
            },
          },
        ],
        'any',
      );
      if (r.position > last) last = r.position;
    }

    async function settle(): Promise<void> {
      expect(await runner.waitForPosition('templates', last, 15_000)).toBe(true);
    }

    async function publish(name: string, p: Publish): Promise<string> {
      const version = p.version ?? '1.0.0';
      const manifest = {
        name,
        version,
        stack: p.stack,
        description: p.description,
        tags: p.tags ?? [],
        variables: p.variables ?? {},
      };
      const files = (p.files ?? defaultFiles).map((f) => ({
        path: f.path,
        size: f.size,
        sha256: sha(`${name}:${version}:${f.path}:${p.description}`),
        binary: f.binary ?? false,
        render: !f.binary,
      }));
      const contentHash = sha(JSON.stringify({ manifest, files }));
      await append(`template-${name}`, 'TemplateVersionPublished', {
        name,
        source: p.source ?? 'builtin',
        version,
        stack: p.stack,
        description: p.description,
        tags: p.tags ?? [],
        manifest,
        files,
        contentHash,
        commit: null,
        publishedAt: p.at,
      });
      return contentHash;
    }

    async function validate(target: Record<string, unknown>, ok: boolean, at: string): Promise<string> {
      const validationId = randomUUID();
      await append(`validation-${validationId}`, 'TemplateValidated', {
        validationId,
        target,
        ok,
        issues: ok
          ? []
          : [{ code: 'MANIFEST.INVALID', severity: 'error', message: 'bad', file: 'template.yaml' }],
        stats: { files: 5, bytes: 2598 },
        validatedAt: at,
      });
      return validationId;
    }

    const names = (summaries: Array<{ name: string }>) => summaries.map((s) => s.name);
    const hashes: Record<string, string> = {};

    beforeAll(async () => {
      t = await kind.open();
      runner = createProjectionRunner({
        store: t.store,
        db: t.db,
        projections: [templatesProjection],
        registry,
      });
      await runner.start();
      // Registered before tenancy (v1): the built-in source reads as every tenant's.
      await append(
        'templatesource-builtin',
        'TemplateSourceRegistered',
        {
          name: 'builtin',
          kind: 'directory',
          location: '/opt/switchyard/templates',
          ref: null,
          intervalMs: null,
          builtIn: true,
          registeredAt: '2026-04-01T09:00:00.000Z',
        },
        { schemaVersion: 1 },
      );
      hashes.fastify = await publish('fastify-service', {
        stack: 'node-fastify',
        description: 'An HTTP service with health checks and OpenAPI docs',
        tags: ['http', 'rest-api'],
        variables: {
          projectName: { type: 'string', description: 'npm package name', required: true },
          port: { type: 'integer', default: 3000, minimum: 1, maximum: 65535 },
        },
        at: '2026-04-01T09:01:00.000Z',
      });
      hashes.mcp = await publish('mcp-server-ts', {
        stack: 'typescript-mcp',
        description: 'A Model Context Protocol server in TypeScript, for fastify fans too',
        tags: ['mcp', 'node.js'],
        at: '2026-04-01T09:02:00.000Z',
      });
      hashes.cli = await publish('cli-tool', {
        stack: 'node-cli',
        description: 'A command line tool with argument parsing',
        tags: ['cli', 'http'],
        at: '2026-04-01T09:03:00.000Z',
      });
      await settle();
    });
    afterAll(async () => {
      await runner?.stop();
      await t?.close();
    });

    it('finds a template by a word of its description, a tag, its stack or a prefix of its name', async () => {
      expect(names(await searchTemplates(t.db, { query: 'openapi' }))).toEqual(['fastify-service']);
      expect(names(await searchTemplates(t.db, { query: 'rest' }))).toEqual(['fastify-service']);
      expect(names(await searchTemplates(t.db, { query: 'node.js' }))).toEqual(['mcp-server-ts']);
      expect(names(await searchTemplates(t.db, { query: 'typescript mcp' }))).toEqual(['mcp-server-ts']);
      expect(names(await searchTemplates(t.db, { query: 'node-cli' }))).toEqual(['cli-tool']);
      expect(names(await searchTemplates(t.db, { query: 'COMMAND' }))).toEqual(['cli-tool']);
      expect(names(await searchTemplates(t.db, { query: 'nothing-like-this' }))).toEqual([]);

      const fast = await searchTemplates(t.db, { query: 'fast' });
      // A name hit ranks above a description-only hit.
      expect(names(fast)).toEqual(['fastify-service', 'mcp-server-ts']);
      expect(fast[0]!.rank!).toBeGreaterThan(fast[1]!.rank!);
      expect(fast[0]).toEqual({
        name: 'fastify-service',
        version: '1.0.0',
        stack: 'node-fastify',
        description: 'An HTTP service with health checks and OpenAPI docs',
        tags: ['http', 'rest-api'],
        source: 'builtin',
        publishedAt: '2026-04-01T09:01:00.000Z',
        removedAt: null,
        variables: expect.arrayContaining(['projectName', 'port']),
        rank: expect.any(Number),
        tenant: null,
        owner: 'unknown',
      });
    });

    it('filters by stack, tag and source; without a query lists by name', async () => {
      const all = await searchTemplates(t.db);
      expect(names(all)).toEqual(['cli-tool', 'fastify-service', 'mcp-server-ts']);
      expect(all.every((s) => s.rank === null)).toBe(true);
      expect(names(await searchTemplates(t.db, { stack: 'node-fastify' }))).toEqual(['fastify-service']);
      expect(names(await searchTemplates(t.db, { tag: 'http' }))).toEqual(['cli-tool', 'fastify-service']);
      expect(names(await searchTemplates(t.db, { tag: 'http', query: 'command' }))).toEqual(['cli-tool']);
      expect(names(await searchTemplates(t.db, { source: 'elsewhere' }))).toEqual([]);
      expect(names(await searchTemplates(t.db, { limit: 1 }))).toEqual(['cli-tool']);
      await expect(searchTemplates(t.db, { limit: 1001 })).rejects.toMatchObject({
        code: 'QUERY.INVALID_LIMIT',
      });
      await expect(searchTemplates(t.db, { limit: 0 })).rejects.toMatchObject({
        code: 'QUERY.INVALID_LIMIT',
      });
    });

    it('a query full of SQL and tsquery metacharacters is answered, never an error', async () => {
      expect(names(await searchTemplates(t.db, { query: "openapi' & | ! : * ( ) \\" }))).toEqual([
        'fastify-service',
      ]);
      for (const query of ["'", '&|!:*()', '\\', "'; DROP TABLE templates; --", 'a:*b', '!(x|y)', "''''"]) {
        await expect(searchTemplates(t.db, { query })).resolves.toBeInstanceOf(Array);
      }
      // No words at all: as if no query was given.
      expect(names(await searchTemplates(t.db, { query: '&|!:*()' }))).toHaveLength(3);
      expect(await searchTemplates(t.db, { tag: "'; --" })).toEqual([]);
      expect(names(await searchTemplates(t.db))).toHaveLength(3);
    });

    it('shows a template in full: manifest, variables, file tree, versions', async () => {
      const detail = await getTemplate(t.db, 'fastify-service');
      expect(detail).toMatchObject({
        name: 'fastify-service',
        version: '1.0.0',
        contentHash: hashes.fastify,
        removedAt: null,
        manifest: { name: 'fastify-service', stack: 'node-fastify' },
        versions: [{ version: '1.0.0', contentHash: hashes.fastify, current: true }],
        latestValidation: null,
      });
      expect(detail!.variables).toEqual(
        expect.arrayContaining([
          { name: 'projectName', type: 'string', description: 'npm package name', required: true },
          { name: 'port', type: 'integer', default: 3000, minimum: 1, maximum: 65535 },
        ]),
      );
      expect(detail!.files.map((f) => f.path)).toEqual(defaultFiles.map((f) => f.path));
      expect(detail!.files[3]).toMatchObject({
        path: 'assets/logo.png',
        size: 2048,
        binary: true,
        render: false,
      });
      const shape = (nodes: NonNullable<typeof detail>['tree']): unknown =>
        nodes.map((n) => (n.type === 'directory' ? { [n.name]: shape(n.children) } : n.name));
      expect(shape(detail!.tree)).toEqual([
        { assets: ['logo.png'] },
        { src: [{ lib: ['util.ts'] }, 'index.ts'] },
        'package.json',
        'README.md',
      ]);
      expect(detail!.tree[1]).toMatchObject({ type: 'directory', path: 'src' });
      expect(await getTemplate(t.db, 'no-such-template')).toBeUndefined();
    });

    it('a new version becomes current; every content stays listed, newest first', async () => {
      hashes.fastify2 = await publish('fastify-service', {
        version: '1.1.0',
        stack: 'node-fastify',
        description: 'An HTTP service with health checks, OpenAPI docs and metrics',
        tags: ['http', 'rest-api', 'prometheus'],
        at: '2026-04-02T09:00:00.000Z',
      });
      // The author republishes 1.1.0 with other content: a second row for the same number.
      hashes.fastify3 = await publish('fastify-service', {
        version: '1.1.0',
        stack: 'node-fastify',
        description: 'An HTTP service with health checks, OpenAPI docs and Prometheus metrics',
        tags: ['http', 'rest-api', 'prometheus'],
        at: '2026-04-02T10:00:00.000Z',
      });
      await settle();
      const detail = await getTemplate(t.db, 'fastify-service');
      expect(detail).toMatchObject({ version: '1.1.0', contentHash: hashes.fastify3 });
      expect(detail!.versions.map((v) => [v.version, v.contentHash, v.current])).toEqual([
        ['1.1.0', hashes.fastify3, true],
        ['1.1.0', hashes.fastify2, false],
        ['1.0.0', hashes.fastify, false],
      ]);
      const row = await t.db
        .selectFrom('templates')
        .select('versions')
        .where('name', '=', 'fastify-service')
        .executeTakeFirst();
      expect(row?.versions).toBe(3);
      // The search document follows the current version.
      expect(names(await searchTemplates(t.db, { query: 'prometheus' }))).toEqual(['fastify-service']);
      expect(names(await searchTemplates(t.db, { query: 'metrics' }))).toEqual(['fastify-service']);

      expect(await getTemplateVersion(t.db, 'fastify-service')).toMatchObject({
        version: '1.1.0',
        contentHash: hashes.fastify3,
        current: true,
        removedAt: null,
      });
      expect(await getTemplateVersion(t.db, 'fastify-service', '1.1.0')).toMatchObject({
        contentHash: hashes.fastify3,
      });
      const old = await getTemplateVersion(t.db, 'fastify-service', '1.0.0');
      expect(old).toMatchObject({ version: '1.0.0', contentHash: hashes.fastify, current: false });
      expect(old!.manifest.description).toBe('An HTTP service with health checks and OpenAPI docs');
      expect(old!.files).toHaveLength(5);
      expect(await getTemplateVersion(t.db, 'fastify-service', '9.9.9')).toBeUndefined();
      expect(await getTemplateVersion(t.db, 'no-such-template')).toBeUndefined();
    });

    it('a removed template leaves search and stacks but stays inspectable; a later publish restores it', async () => {
      await append('template-cli-tool', 'TemplateRemoved', {
        name: 'cli-tool',
        source: 'builtin',
        reason: 'gone from its source',
        removedAt: '2026-04-03T09:00:00.000Z',
      });
      await settle();
      expect(names(await searchTemplates(t.db, { query: 'command' }))).toEqual([]);
      expect(names(await searchTemplates(t.db, { tag: 'http' }))).toEqual(['fastify-service']);
      const withRemoved = await searchTemplates(t.db, { query: 'command', includeRemoved: true });
      expect(withRemoved).toMatchObject([{ name: 'cli-tool', removedAt: '2026-04-03T09:00:00.000Z' }]);
      expect(await getTemplate(t.db, 'cli-tool')).toMatchObject({
        version: '1.0.0',
        removedAt: '2026-04-03T09:00:00.000Z',
        versions: [{ version: '1.0.0', current: true }],
      });
      expect(await getTemplateVersion(t.db, 'cli-tool')).toMatchObject({
        removedAt: '2026-04-03T09:00:00.000Z',
      });
      expect((await listStacks(t.db)).map((s) => s.stack)).toEqual(['node-fastify', 'typescript-mcp']);

      // Back in its source with the same content: same version row, catalog entry restored.
      await publish('cli-tool', {
        stack: 'node-cli',
        description: 'A command line tool with argument parsing',
        tags: ['cli', 'http'],
        at: '2026-04-04T09:00:00.000Z',
      });
      await settle();
      expect(names(await searchTemplates(t.db, { query: 'command' }))).toEqual(['cli-tool']);
      expect(await getTemplate(t.db, 'cli-tool')).toMatchObject({
        removedAt: null,
        publishedAt: '2026-04-04T09:00:00.000Z',
        versions: [{ version: '1.0.0', contentHash: hashes.cli, publishedAt: '2026-04-04T09:00:00.000Z' }],
      });
    });

    it('lists stacks with their templates and the union of their tags', async () => {
      expect(await listStacks(t.db)).toEqual([
        { stack: 'node-cli', templates: 1, tags: ['cli', 'http'], names: ['cli-tool'] },
        {
          stack: 'node-fastify',
          templates: 1,
          tags: ['http', 'prometheus', 'rest-api'],
          names: ['fastify-service'],
        },
        { stack: 'typescript-mcp', templates: 1, tags: ['mcp', 'node.js'], names: ['mcp-server-ts'] },
      ]);
    });

    it('a source: synced, then failed (catalog untouched), then synced again; checks noted apart', async () => {
      expect(await getTemplateSource(t.db, 'builtin')).toMatchObject({
        kind: 'directory',
        location: '/opt/switchyard/templates',
        builtIn: true,
        status: 'registered',
        lastSyncedAt: null,
        templates: [],
        lastCheck: null,
        revision: '0',
      });
      const templates = [
        { name: 'fastify-service', version: '1.1.0', contentHash: hashes.fastify3!, dir: 'fastify-service' },
        { name: 'mcp-server-ts', version: '1.0.0', contentHash: hashes.mcp!, dir: 'mcp-server-ts' },
      ];
      const rejected = [
        {
          dir: 'broken',
          issues: [{ code: 'MANIFEST.MISSING', severity: 'error' as const, message: 'no template.yaml' }],
        },
      ];
      await append('templatesource-builtin', 'TemplateSourceSynced', {
        name: 'builtin',
        revision: sha('rev-1'),
        commit: null,
        templates,
        published: ['fastify-service', 'mcp-server-ts'],
        removed: [],
        rejected,
        syncedAt: '2026-04-05T09:00:00.000Z',
      });
      await settle();
      expect(await getTemplateSource(t.db, 'builtin')).toMatchObject({
        status: 'synced',
        lastRevision: sha('rev-1'),
        lastSyncedAt: '2026-04-05T09:00:00.000Z',
        templates,
        rejected,
        lastError: null,
      });

      const before = await getTemplate(t.db, 'fastify-service');
      await append('templatesource-builtin', 'TemplateSourceSyncFailed', {
        name: 'builtin',
        reason: 'ENOENT: no such directory /opt/switchyard/templates',
        code: 'TEMPLATE.SOURCE_UNREACHABLE',
        failedAt: '2026-04-05T10:00:00.000Z',
      });
      await settle();
      expect(await getTemplateSource(t.db, 'builtin')).toMatchObject({
        status: 'failed',
        lastError: 'ENOENT: no such directory /opt/switchyard/templates',
        lastErrorCode: 'TEMPLATE.SOURCE_UNREACHABLE',
        lastFailedAt: '2026-04-05T10:00:00.000Z',
        // The last good sync is still shown.
        lastRevision: sha('rev-1'),
        lastSyncedAt: '2026-04-05T09:00:00.000Z',
        templates,
      });
      expect(await getTemplate(t.db, 'fastify-service')).toEqual(before);

      await append('templatesource-builtin', 'TemplateSourceSynced', {
        name: 'builtin',
        revision: sha('rev-2'),
        commit: null,
        templates,
        published: [],
        removed: [],
        rejected: [],
        syncedAt: '2026-04-05T11:00:00.000Z',
      });
      await settle();
      expect(await getTemplateSource(t.db, 'builtin')).toMatchObject({
        status: 'synced',
        lastRevision: sha('rev-2'),
        rejected: [],
        lastError: null,
        lastErrorCode: null,
        revision: '3',
      });

      await recordSourceCheck(t.db, {
        source: 'builtin',
        checkedAt: '2026-04-05T12:00:00.000Z',
        outcome: 'unchanged',
        detail: sha('rev-2'),
      });
      await recordSourceCheck(t.db, {
        source: 'builtin',
        checkedAt: '2026-04-05T11:30:00.000Z',
        outcome: 'failed',
        detail: 'late report',
      });
      expect((await getTemplateSource(t.db, 'builtin'))?.lastCheck).toEqual({
        checkedAt: '2026-04-05T12:00:00.000Z',
        outcome: 'unchanged',
        detail: sha('rev-2'),
      });

      await append('templatesource-team', 'TemplateSourceRegistered', {
        name: 'team',
        kind: 'git',
        location: 'https://git.example.com/team/templates.git',
        ref: 'main',
        intervalMs: 600_000,
        builtIn: false,
        tenant: 'team-a',
        owner: 'alice',
        registeredAt: '2026-04-05T13:00:00.000Z',
      });
      await append('templatesource-team', 'TemplateSourceRemoved', {
        name: 'team',
        removedAt: '2026-04-05T14:00:00.000Z',
      });
      await settle();
      expect((await listTemplateSources(t.db)).map((s) => s.name)).toEqual(['builtin']);
      expect(await listTemplateSources(t.db, { includeRemoved: true })).toMatchObject([
        { name: 'builtin', status: 'synced' },
        {
          name: 'team',
          status: 'removed',
          removedAt: '2026-04-05T14:00:00.000Z',
          ref: 'main',
          intervalMs: 600_000,
        },
      ]);
      expect(await getTemplateSource(t.db, 'nope')).toBeUndefined();
    });

    it('records validations of templates, paths and synced directories', async () => {
      const first = await validate(
        { kind: 'template', name: 'fastify-service', version: '1.0.0', contentHash: hashes.fastify },
        true,
        '2026-04-06T09:00:00.000Z',
      );
      const latest = await validate(
        { kind: 'template', name: 'fastify-service', version: '1.1.0', contentHash: hashes.fastify3 },
        false,
        '2026-04-06T10:00:00.000Z',
      );
      const path = await validate(
        { kind: 'path', path: 'drafts/my-template', contentHash: null },
        true,
        '2026-04-06T11:00:00.000Z',
      );
      const synced = await validate(
        { kind: 'sync', source: 'builtin', dir: 'broken', contentHash: null },
        false,
        '2026-04-06T12:00:00.000Z',
      );
      await settle();
      expect((await listValidations(t.db)).map((v) => v.validationId)).toEqual([synced, path, latest, first]);
      expect(
        (await listValidations(t.db, { template: 'fastify-service' })).map((v) => v.validationId),
      ).toEqual([latest, first]);
      expect((await listValidations(t.db, { limit: 1 })).map((v) => v.validationId)).toEqual([synced]);
      expect(await getValidation(t.db, latest)).toEqual({
        validationId: latest,
        targetKind: 'template',
        template: 'fastify-service',
        version: '1.1.0',
        path: null,
        source: null,
        contentHash: hashes.fastify3,
        ok: false,
        issues: [{ code: 'MANIFEST.INVALID', severity: 'error', message: 'bad', file: 'template.yaml' }],
        files: 5,
        bytes: 2598,
        validatedAt: '2026-04-06T10:00:00.000Z',
        position: expect.any(String),
      });
      expect(await getValidation(t.db, path)).toMatchObject({
        targetKind: 'path',
        path: 'drafts/my-template',
      });
      expect(await getValidation(t.db, synced)).toMatchObject({
        targetKind: 'sync',
        source: 'builtin',
        path: 'broken',
        template: null,
      });
      expect((await getTemplate(t.db, 'fastify-service'))?.latestValidation?.validationId).toBe(latest);
      expect(await getValidation(t.db, randomUUID())).toBeUndefined();
      expect(await getValidation(t.db, 'not-a-uuid')).toBeUndefined();
    });

    it('re-applying is harmless; a rebuild from the store alone equals the live tables; checks stay', async () => {
      const order = {
        templates: 'name',
        template_versions: 'content_hash',
        template_sources: 'name',
        template_validations: 'validation_id',
      } as const;
      const live: Record<string, unknown[]> = {};
      for (const [table, by] of Object.entries(order)) live[table] = await tableContents(t.db, table, by);
      const checks = await tableContents(t.db, 'template_source_checks', 'source');
      expect(live.templates).toHaveLength(3);
      expect(live.template_versions).toHaveLength(5);

      // Applying the whole log again changes nothing (revision guards, insert-once validations).
      const events = await t.store.readAll({ filter: templatesProjection.filter });
      await t.db.transaction().execute(async (trx) => {
        for (const e of events) await templatesProjection.apply(trx, e, liveTableNames(templatesProjection));
      });
      for (const [table, by] of Object.entries(order)) {
        expect(await tableContents(t.db, table, by)).toEqual(live[table]);
      }

      const result = await runner.rebuild('templates');
      expect(result.events).toBe(17);
      for (const [table, by] of Object.entries(order)) {
        expect(await tableContents(t.db, table, by)).toEqual(live[table]);
      }
      expect(await tableContents(t.db, 'template_source_checks', 'source')).toEqual(checks);
      // The rebuilt search index still answers.
      expect(names(await searchTemplates(t.db, { query: 'fast' }))).toEqual([
        'fastify-service',
        'mcp-server-ts',
      ]);
      const { rows } = await sql<{ indexname: string }>`
        SELECT indexname FROM pg_indexes WHERE tablename = 'templates' ORDER BY indexname`.execute(t.db);
      expect(rows.map((r) => r.indexname)).toContain('templates_search');
    });

    it("a tenant sees its own sources and templates and the shared built-in ones, not another's", async () => {
      await append('templatesource-team-a-src', 'TemplateSourceRegistered', {
        name: 'team-a-src',
        kind: 'directory',
        location: '/srv/team-a/templates',
        ref: null,
        intervalMs: null,
        builtIn: false,
        tenant: 'team-a',
        owner: 'alice',
        registeredAt: '2026-04-07T09:00:00.000Z',
      });
      await publish('team-a-service', {
        stack: 'node-fastify',
        description: 'Team A only',
        source: 'team-a-src',
        at: '2026-04-07T09:01:00.000Z',
      });
      await settle();

      // Templates inherit their source's tenant and owner; the built-in source's are everyone's.
      expect(await getTemplate(t.db, 'team-a-service')).toMatchObject({ tenant: 'team-a', owner: 'alice' });
      expect(await getTemplate(t.db, 'mcp-server-ts')).toMatchObject({ tenant: null, owner: 'unknown' });
      expect(await getTemplateSource(t.db, 'builtin')).toMatchObject({ tenant: null, owner: 'unknown' });

      const shared = ['cli-tool', 'fastify-service', 'mcp-server-ts'];
      expect(names(await searchTemplates(t.db, { tenant: 'team-a' }))).toEqual([...shared, 'team-a-service']);
      expect(names(await searchTemplates(t.db, { tenant: 'team-b' }))).toEqual(shared);
      expect(names(await searchTemplates(t.db))).toEqual([...shared, 'team-a-service']);
      expect(await getTemplate(t.db, 'team-a-service', { tenant: 'team-b' })).toBeUndefined();
      expect(
        await getTemplateVersion(t.db, 'team-a-service', undefined, { tenant: 'team-b' }),
      ).toBeUndefined();
      expect(await getTemplateVersion(t.db, 'team-a-service', undefined, { tenant: 'team-a' })).toMatchObject(
        {
          tenant: 'team-a',
        },
      );
      expect(await getTemplate(t.db, 'mcp-server-ts', { tenant: 'team-b' })).toBeDefined();
      expect((await listStacks(t.db, { tenant: 'team-b' })).flatMap((st) => st.names)).not.toContain(
        'team-a-service',
      );

      const sourceNames = async (tenant?: string) =>
        (await listTemplateSources(t.db, { tenant, includeRemoved: true })).map((src) => src.name);
      expect(await sourceNames('team-a')).toEqual(['builtin', 'team', 'team-a-src']);
      expect(await sourceNames('team-b')).toEqual(['builtin']);
      expect(await getTemplateSource(t.db, 'team-a-src', { tenant: 'team-b' })).toBeUndefined();
      expect(await getTemplateSource(t.db, 'builtin', { tenant: 'team-b' })).toBeDefined();
    });
  });
}
