import { createHash, randomUUID } from 'node:crypto';
import { join, relative } from 'node:path';
import type { Kysely } from 'kysely';
import { analyzeCode } from '../analysis/analyze.ts';
import type { ProjectCommands } from '../domains/projects/index.ts';
import {
  sourceExists,
  sourceNotFound,
  type TemplateCommands,
  templateNotFound,
  type ValidationTarget,
} from '../domains/templates/index.ts';
import type { Clock } from '../kernel/clock.ts';
import type { CommandMeta } from '../kernel/decider.ts';
import { AppError } from '../kernel/errors.ts';
import { uuidV5 } from '../kernel/ids.ts';
import { ownershipOf } from '../kernel/ownership.ts';
import { getAnalysis, getProject, listAnalyses, listProjects } from '../projections/projects/index.ts';
import {
  fileTree,
  getTemplate,
  getTemplateSource,
  getTemplateVersion,
  listStacks,
  listTemplateSources,
  searchTemplates,
} from '../projections/templates/index.ts';
import type { TenantScope } from '../projections/tenant-scope.ts';
import type { OnProgress, SyncReport, TemplateSync } from '../sagas/template-sync/sync-source.ts';
import type { BlobStore } from './blobs.ts';
import type { TemplateLimits } from './engine/limits.ts';
import { assertSafeTemplate, renderTemplate } from './engine/render.ts';
import type { SandboxOptions } from './engine/render-sandbox.ts';
import { checkSourceLocation, defaultSourcePolicy, type SourcePolicy } from './engine/source-policy.ts';
import { type ValidationResult, validateTemplate, validateTemplateDir } from './engine/validate.ts';
import { assertVariables, redactVariables } from './engine/variables.ts';
import {
  destinationRefusal,
  destinationState,
  holdsAnyOf,
  resolveInWorkspace,
  type WrittenFile,
  writeProjectAtomically,
} from './engine/workspace.ts';
import {
  AnalyzeCodeInput,
  GenerateProjectInput,
  InspectTemplateInput,
  ListQuery,
  parseInput,
  SearchTemplatesInput,
  SyncTemplatesInput,
  ValidateTemplateInput,
} from './inputs.ts';

/** The earlier generation a generate-project with `overwrite` replaces. */
export interface ReplacedProject {
  projectId: string;
  template: string;
  version: string;
  generatedAt: string;
}

/**
 * What generate-project does with its destination, as a preview reports it: write into a free one
 * (absent or empty), replace an earlier generation, or refuse (409, with this code and message).
 */
export type DestinationDecision =
  | { action: 'write'; replaces: null; refusal: null }
  | { action: 'replace'; replaces: ReplacedProject; refusal: null }
  | { action: 'refuse'; replaces: null; refusal: { code: string; message: string } };

/** Who asks, and how to tell them how far a long operation got. */
export interface OperationContext {
  actor: string;
  /** The actor's tenant: what the operation records belongs to it (default: the default tenant). */
  tenant?: string | undefined;
  /** How the actor authenticated (an id, never a secret), for the event metadata. */
  credential?: string | undefined;
  /**
   * What the operation may read (templates, sources, projects): one tenant's rows and the shared
   * ones, or every tenant's when absent or its tenant is undefined (platform administrators).
   */
  scope?: TenantScope | undefined;
  correlationId: string;
  traceparent?: string | undefined;
  /** Idempotency key of the request, when the client sent one: a retry then records nothing new. */
  requestId?: string | undefined;
  onProgress?: OnProgress | undefined;
  signal?: AbortSignal | undefined;
}

export interface TemplateServiceDeps {
  // biome-ignore lint/suspicious/noExplicitAny: read models span tables owned by several projections
  db: Kysely<any>;
  templates: TemplateCommands;
  projects: ProjectCommands;
  blobs: BlobStore;
  sync: TemplateSync;
  clock: Clock;
  workspaceRoot: string;
  limits?: TemplateLimits;
  /** Where sources may be registered (default: {@link defaultSourcePolicy} of the workspace root). */
  sources?: SourcePolicy;
  /** Limits of the child processes templates are rendered in (one per validate or generate). */
  sandbox?: SandboxOptions;
  /** Waits (bounded) until a projection shows a position, so a read right after a write sees it. */
  waitForProjection: (name: string, position: bigint) => Promise<unknown>;
}

/**
 * The template operations behind REST, MCP and the CLI: search and inspect the catalog, validate,
 * generate, analyse, sync, and manage sources. Reads come from the read models; every operation
 * that does something records it as an event before it answers.
 */
export function createTemplateService(deps: TemplateServiceDeps) {
  const { db } = deps;
  const sourcePolicy = deps.sources ?? defaultSourcePolicy(deps.workspaceRoot);
  const meta = (ctx: OperationContext, key?: string): CommandMeta => ({
    commandId: ctx.requestId ? `${ctx.requestId}${key ? `/${key}` : ''}` : randomUUID(),
    actor: ctx.actor,
    tenant: ctx.tenant,
    credential: ctx.credential,
    correlationId: ctx.correlationId,
    traceparent: ctx.traceparent,
    issuedAt: deps.clock.now(),
  });
  const seen = async (projection: string, position: bigint | undefined) => {
    if (position !== undefined) await deps.waitForProjection(projection, position);
  };

  /** A catalog version with its file contents, ready to render or validate. */
  /**
   * Source names are global: another tenant's active source is not found for sync and removal, and
   * its name is taken for registration. The built-in (shared) sources are read-only to tenants.
   */
  async function guardSource(
    name: string,
    ctx: OperationContext,
    purpose: 'register' | 'use',
  ): Promise<void> {
    const tenant = ctx.scope?.tenant;
    if (tenant === undefined) return;
    const s = await getTemplateSource(db, name, {});
    if (!s || s.removedAt !== null || s.tenant === tenant) return;
    if (s.tenant === null && purpose === 'use') return;
    throw purpose === 'register' ? sourceExists(name) : sourceNotFound(name);
  }

  async function loadVersion(name: string, version: string | undefined, scope: TenantScope) {
    const v = await getTemplateVersion(db, name, version, scope);
    if (!v) throw templateNotFound(name, version);
    const contents = await deps.blobs.get(v.files.map((f) => f.sha256));
    const files = v.files.map((f) => ({ ...f, content: contents.get(f.sha256)! }));
    return { ...v, files };
  }

  /**
   * Whether `tenant` may replace the non-empty directory `dest` (resolved): only a project Switchyard
   * generated there. The latest generation recorded at that destination must be the tenant's (a
   * later one of another tenant, or none, and it is not theirs to replace), and the directory must
   * still hold at least one file of it as written (otherwise the project was removed and something
   * else put in its place). Answers the generation replaced, or why not.
   */
  async function replaceableGeneration(
    dest: string,
    tenant: string,
  ): Promise<{ ok: true; project: ReplacedProject } | { ok: false; code: string; message: string }> {
    const destination = toPosix(relative(deps.workspaceRoot, dest));
    // By destination, newest in log order, whatever its tenant: another tenant's later generation
    // there makes the directory theirs. (A query of the projects read model.)
    const row = (await db
      .selectFrom('projects')
      .select(['project_id', 'template', 'version', 'generated_at', 'tenant', 'files'])
      .where('destination', '=', destination)
      .orderBy('position', 'desc')
      .limit(1)
      .executeTakeFirst()) as
      | {
          project_id: string;
          template: string;
          version: string;
          generated_at: Date | string;
          tenant: string;
          files: WrittenFile[];
        }
      | undefined;
    const code = 'PROJECT.DESTINATION_NOT_GENERATED';
    // Another tenant's project reads as none: the answer does not tell whose it is.
    if (!row || row.tenant !== tenant) {
      return {
        ok: false,
        code,
        message: `${destination} was not generated by Switchyard for your tenant: overwrite replaces only a project generate-project wrote there; choose another destination, or move it away yourself`,
      };
    }
    if (!(await holdsAnyOf(dest, row.files))) {
      return {
        ok: false,
        code,
        message: `${destination} no longer holds project ${row.project_id} that Switchyard generated there (none of its ${row.files.length} files is as written): overwrite replaces only a project generate-project wrote; choose another destination, or move it away yourself`,
      };
    }
    return {
      ok: true,
      project: {
        projectId: row.project_id,
        template: row.template,
        version: row.version,
        generatedAt: new Date(row.generated_at).toISOString(),
      },
    };
  }

  /** What generate-project would do with `dest` (resolved), for `tenant`: see {@link DestinationDecision}. */
  async function decideDestination(
    dest: string,
    p: GenerateProjectInput,
    tenant: string,
  ): Promise<DestinationDecision> {
    const refuse = (code: string, message: string): DestinationDecision => ({
      action: 'refuse',
      replaces: null,
      refusal: { code, message },
    });
    const state = await destinationState(dest);
    if (state === 'free') return { action: 'write', replaces: null, refusal: null };
    if (state === 'not-a-directory' || !p.overwrite) {
      const e = destinationRefusal(state, p.destination);
      return refuse(e.code, e.message);
    }
    const r = await replaceableGeneration(dest, tenant);
    return r.ok ? { action: 'replace', replaces: r.project, refusal: null } : refuse(r.code, r.message);
  }

  /**
   * The first half of generate-project, shared with its preview: the version, the variables checked
   * against its manifest, the destination checked against the workspace and decided on, and the
   * rendered files. A refused destination is thrown before any rendering (generate) or reported
   * with the files (preview).
   */
  async function render(
    p: GenerateProjectInput,
    progress: OnProgress,
    phases: number,
    ctx: OperationContext,
    onRefusal: 'throw' | 'report',
  ) {
    const v = await loadVersion(p.template, p.version, ctx.scope ?? {});
    const values = assertVariables(v.manifest, p.variables ?? {});
    // Checked before any work, and again by the writer right before it renames.
    const target = await resolveInWorkspace(deps.workspaceRoot, p.destination, { mustExist: false });
    const decision = await decideDestination(target, p, tenantOf(ctx));
    if (decision.refusal && onRefusal === 'throw') {
      throw new AppError('conflict', decision.refusal.code, decision.refusal.message);
    }
    const total = v.files.length * phases;
    const template = { manifest: v.manifest, files: v.files };
    // A version published before unsafe templates were refused is refused here, before rendering.
    assertSafeTemplate(template);
    progress({ progress: 0, total, message: `rendering ${p.template}@${v.version}` });
    const rendered = await renderTemplate(template, values, {
      onProgress: (done) => progress({ progress: done, total, message: 'rendering' }),
      ...(deps.sandbox && { sandbox: deps.sandbox }),
    });
    return { v, values, rendered, target, decision };
  }

  return {
    async search(input: unknown, scope: TenantScope = {}) {
      return searchTemplates(db, { ...parseInput(SearchTemplatesInput, input), tenant: scope.tenant });
    },

    async inspect(input: unknown, scope: TenantScope = {}) {
      const { name, version } = parseInput(InspectTemplateInput, input);
      const t = await getTemplate(db, name, scope);
      if (!t) throw templateNotFound(name);
      if (version === undefined || version === t.version) return t;
      // An older version: its own manifest, variables and files, with the template's history.
      const v = await getTemplateVersion(db, name, version, scope);
      if (!v) throw templateNotFound(name, version);
      const files = v.files.map(({ path, size, sha256, binary, render }) => ({
        path,
        size,
        sha256,
        binary,
        render,
      }));
      return {
        ...t,
        version: v.version,
        stack: v.manifest.stack,
        description: v.manifest.description,
        tags: v.manifest.tags,
        contentHash: v.contentHash,
        commit: v.commit,
        publishedAt: v.publishedAt,
        manifest: v.manifest,
        variables: Object.entries(v.manifest.variables).map(([n, variable]) => ({ name: n, ...variable })),
        files,
        tree: fileTree(files),
        latestValidation: t.latestValidation?.version === v.version ? t.latestValidation : null,
      };
    },

    stacks: (scope: TenantScope = {}) => listStacks(db, scope),

    /** The whole catalog, by name, up to 1,000 templates (`truncated` when that many: use search). */
    async catalog(scope: TenantScope = {}) {
      const templates = await searchTemplates(db, { limit: 1000, tenant: scope.tenant });
      return { templates, truncated: templates.length === 1000 };
    },

    async validate(input: unknown, ctx: OperationContext) {
      const p = parseInput(ValidateTemplateInput, input);
      let target: ValidationTarget;
      let result: ValidationResult;
      if (p.template !== undefined) {
        const v = await loadVersion(p.template, p.version, ctx.scope ?? {});
        result = await validateTemplate(
          { dir: '', manifestFile: '', manifest: v.manifest, files: v.files, contentHash: v.contentHash },
          deps.limits,
          { ...(deps.sandbox && { sandbox: deps.sandbox }) },
        );
        target = {
          kind: 'template' as const,
          name: p.template,
          version: v.version,
          contentHash: v.contentHash,
        };
      } else {
        const dir = await resolveInWorkspace(deps.workspaceRoot, p.path!, { mustExist: true });
        result = await validateTemplateDir(dir, deps.limits, {
          ...(deps.sandbox && { sandbox: deps.sandbox }),
        });
        target = {
          kind: 'path' as const,
          path: toPosix(relative(deps.workspaceRoot, dir)) || '.',
          contentHash: null,
        };
      }
      const id = ctx.requestId ? uuidFromKey(ctx.requestId) : randomUUID();
      const r = await deps.templates.recordValidation(
        { validationId: id, target, ...result, validatedAt: deps.clock.now().toISOString() },
        meta(ctx, 'validation'),
      );
      await seen('templates', r.position);
      return { validationId: id, target, ...result };
    },

    async generate(input: unknown, ctx: OperationContext) {
      const started = Date.now();
      const p = parseInput(GenerateProjectInput, input);
      const projectId = ctx.requestId ? uuidFromKey(ctx.requestId) : randomUUID();
      if (ctx.requestId) {
        // A retried request (same idempotency key) gets the project its first attempt generated.
        const earlier = await getProject(db, projectId);
        // What it replaced is in its first answer only: the event does not record it.
        if (earlier) {
          return { ...earlier, path: join(deps.workspaceRoot, earlier.destination), replaced: undefined };
        }
      }
      const progress = ctx.onProgress ?? (() => undefined);
      const { v, values, rendered } = await render(p, progress, 2, ctx, 'throw');
      const total = v.files.length * 2;
      ctx.signal?.throwIfAborted();
      // Decided before rendering; asked again by the writer right before it replaces anything, as
      // the directory may have changed while the template rendered.
      const replaced: { project: ReplacedProject | null } = { project: null };
      const written = await writeProjectAtomically(deps.workspaceRoot, p.destination, rendered, {
        overwrite: p.overwrite ?? false,
        mayReplace: async (dest) => {
          const r = await replaceableGeneration(dest, tenantOf(ctx));
          if (!r.ok) throw new AppError('conflict', r.code, r.message);
          replaced.project = r.project;
        },
        onProgress: (done) => progress({ progress: v.files.length + done, total, message: 'writing' }),
      });
      const destination = toPosix(relative(deps.workspaceRoot, written.path));
      const data = {
        projectId,
        template: p.template,
        version: v.version,
        contentHash: v.contentHash,
        destination,
        variables: redactVariables(v.manifest, values),
        files: written.files,
        overwrite: p.overwrite ?? false,
        durationMs: Date.now() - started,
        generatedAt: deps.clock.now().toISOString(),
      };
      const m = meta(ctx, 'project');
      const r = await deps.projects.recordGenerated(data, m);
      await seen('projects', r.position);
      const was = replaced.project;
      progress({
        progress: total,
        total,
        message: `generated ${written.files.length} files in ${destination}${was ? `, replacing project ${was.projectId}` : ''}`,
      });
      // Answered as recorded (the handler makes the project the actor's, in the actor's tenant),
      // with the earlier generation it replaced, if any.
      return { ...data, ...ownershipOf(m), path: written.path, replaced: was };
    },

    /**
     * generate-project without the writing: the files it would write (path, size, sha256), whether
     * the destination is taken, and what generating would do with it (write, replace which earlier
     * generation, or refuse with which code). Nothing is written and nothing is recorded.
     */
    async preview(input: unknown, ctx: OperationContext) {
      const p = parseInput(GenerateProjectInput, input);
      const { v, values, rendered, target, decision } = await render(
        p,
        ctx.onProgress ?? (() => undefined),
        1,
        ctx,
        'report',
      );
      return {
        template: p.template,
        version: v.version,
        contentHash: v.contentHash,
        destination: toPosix(relative(deps.workspaceRoot, target)),
        /** The destination exists and is not empty: generating needs overwrite. */
        destinationInUse: (await destinationState(target)) === 'in-use',
        destinationDecision: decision,
        variables: redactVariables(v.manifest, values),
        files: rendered
          .map((f) => ({ path: f.path, size: f.content.length, sha256: sha256Hex(f.content) }))
          .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
      };
    },

    async analyze(input: unknown, ctx: OperationContext) {
      const started = Date.now();
      const p = parseInput(AnalyzeCodeInput, input);
      let relPath = p.path;
      if (p.projectId !== undefined) {
        const project = await getProject(db, p.projectId, ctx.scope);
        if (!project)
          throw new AppError('not_found', 'PROJECT.NOT_FOUND', `no generated project ${p.projectId}`);
        relPath = project.destination;
      }
      const dir = await resolveInWorkspace(deps.workspaceRoot, relPath!, { mustExist: true });
      const progress = ctx.onProgress;
      const report = await analyzeCode(dir, {
        ...(progress && {
          onProgress: (done: number, total: number) =>
            progress({ progress: done, total, message: 'analysing' }),
        }),
        ...(ctx.signal && { signal: ctx.signal }),
      });
      const analysisId = ctx.requestId ? uuidFromKey(ctx.requestId) : randomUUID();
      const data = {
        analysisId,
        path: toPosix(relative(deps.workspaceRoot, dir)) || '.',
        projectId: p.projectId ?? null,
        ...report,
        durationMs: Date.now() - started,
        analyzedAt: deps.clock.now().toISOString(),
      };
      const m = meta(ctx, 'analysis');
      const r = await deps.projects.recordAnalysis(data, m);
      await seen('projects', r.position);
      return { ...data, ...ownershipOf(m) };
    },

    async sync(input: unknown, ctx: OperationContext): Promise<SyncReport[]> {
      const p = parseInput(SyncTemplatesInput, input);
      if (p.source) await guardSource(p.source, ctx, 'use');
      const names = p.source
        ? [p.source]
        : (await listTemplateSources(db, { tenant: ctx.scope?.tenant }))
            .filter((s) => s.removedAt === null)
            .map((s) => s.name);
      const reports: SyncReport[] = [];
      for (const [i, name] of names.entries()) {
        const r = await deps.sync.sync(name, {
          actor: ctx.actor,
          correlationId: ctx.correlationId,
          ...(ctx.onProgress && {
            onProgress: (q) =>
              ctx.onProgress!({
                progress: i * 1000 + (q.total ? Math.round((q.progress / q.total) * 1000) : 0),
                total: names.length * 1000,
                message: `${name}: ${q.message ?? ''}`,
              }),
          }),
        });
        reports.push(r);
      }
      // The furthest any sync appended to (bigints: no Math.max).
      let furthest: bigint | undefined;
      for (const r of reports) {
        const p = r.position === null ? undefined : BigInt(r.position);
        if (p !== undefined && (furthest === undefined || p > furthest)) furthest = p;
      }
      await seen('templates', furthest);
      return reports;
    },

    sources: {
      list: (scope: TenantScope = {}) => listTemplateSources(db, { tenant: scope.tenant }),
      async get(name: string, scope: TenantScope = {}) {
        const s = await getTemplateSource(db, name, scope);
        if (!s) throw sourceNotFound(name);
        return s;
      },
      async register(input: unknown, ctx: OperationContext) {
        const { name, kind, location } = (input ?? {}) as {
          name?: unknown;
          kind?: unknown;
          location?: unknown;
        };
        if (typeof name === 'string') await guardSource(name, ctx, 'register');
        // Refused here with a 400 rather than at its first sync (which checks again).
        if ((kind === 'directory' || kind === 'git') && typeof location === 'string') {
          await checkSourceLocation({ kind, location }, sourcePolicy);
        }
        const r = await deps.templates.registerSource(input, meta(ctx));
        await seen('templates', r.position);
        return r;
      },
      async remove(name: string, ctx: OperationContext) {
        await guardSource(name, ctx, 'use');
        const state = await deps.templates.sourceState(name);
        const r = await deps.templates.removeSource(name, meta(ctx));
        let position = r.position;
        // Its templates leave the catalog with it.
        if (state.status === 'active') {
          for (const t of state.catalog) {
            const removed = await deps.templates.remove(
              {
                name: t.name,
                source: name,
                reason: `source ${name} removed`,
                removedAt: deps.clock.now().toISOString(),
              },
              meta(ctx, `remove/${t.name}`),
            );
            position = removed.position ?? position;
          }
        }
        await seen('templates', position);
        return r;
      },
    },

    projects: {
      list: (q: unknown, scope: TenantScope = {}) =>
        listProjects(db, { ...parseInput(ListQuery, q), tenant: scope.tenant }),
      async get(id: string, scope: TenantScope = {}) {
        const p = await getProject(db, id, scope);
        if (!p) throw new AppError('not_found', 'PROJECT.NOT_FOUND', `no generated project ${id}`);
        return p;
      },
    },

    analyses: {
      list: (q: unknown, scope: TenantScope = {}) =>
        listAnalyses(db, { ...parseInput(ListQuery, q), tenant: scope.tenant }),
      async get(id: string, scope: TenantScope = {}) {
        const a = await getAnalysis(db, id, scope);
        if (!a) throw new AppError('not_found', 'ANALYSIS.NOT_FOUND', `no code analysis ${id}`);
        return a;
      },
    },
  };
}

export type TemplateService = ReturnType<typeof createTemplateService>;

/** The tenant what the operation records belongs to (see {@link ownershipOf}). */
function tenantOf(ctx: OperationContext): string {
  return ownershipOf({ actor: ctx.actor, tenant: ctx.tenant }).tenant;
}

/** An id derived from the client's idempotency key: the retried request finds what the first one recorded. */
function uuidFromKey(key: string): string {
  return uuidV5(`request/${key}`);
}

function sha256Hex(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function toPosix(p: string): string {
  return p.split('\\').join('/');
}
