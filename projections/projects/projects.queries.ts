import { type Kysely, type Selectable, sql } from 'kysely';
import { AppError } from '../../kernel/errors.ts';
import { isUuid } from '../../kernel/ids.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import type {
  AnalysisComplexity,
  AnalysisLanguage,
  AnalysisSkipped,
  AnalysisTotals,
  CodeAnalysesTable,
  ProjectsTable,
  ReadModelTables,
} from '../db.ts';
import type { TenantScope } from '../tenant-scope.ts';

type Db = Kysely<ReadModelTables>;

const iso = (d: Date | string): string => new Date(d).toISOString();

/** A generated project in a list. */
export interface ProjectView {
  projectId: string;
  template: string;
  version: string;
  /** The template content it was rendered from. */
  contentHash: string;
  /** Relative to the workspace root. */
  destination: string;
  /** As given after defaults; secret variables "[redacted]". */
  variables: Record<string, unknown>;
  fileCount: number;
  totalBytes: number;
  overwrite: boolean;
  durationMs: number;
  generatedAt: string;
  /** Who generated it. */
  actor: string;
  /** The tenant it belongs to, and its owner ('unknown' for projects generated before tenancy). */
  tenant: string;
  owner: string;
  position: string;
}

/** One project in full: the list's view and every file written. */
export interface ProjectDetail extends ProjectView {
  files: Array<{ path: string; size: number; sha256: string }>;
}

export interface ListProjectsOptions extends TenantScope {
  template?: string | undefined;
  /** 1-500 (default 100). */
  limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  after?: string | undefined;
}

export interface ProjectPage {
  items: ProjectView[];
  /** Pass as `after` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** Generated projects, newest first (then by id), a page at a time with an opaque keyset cursor. */
export async function listProjects(db: Db, options: ListProjectsOptions = {}): Promise<ProjectPage> {
  const limit = checkLimit(options.limit);
  let q = db
    .selectFrom('projects')
    .select([
      'project_id',
      'template',
      'version',
      'content_hash',
      'destination',
      'variables',
      'file_count',
      'total_bytes',
      'overwrite',
      'duration_ms',
      'generated_at',
      'actor',
      'tenant',
      'owner',
      'position',
    ]);
  if (options.tenant !== undefined) q = q.where('tenant', '=', options.tenant);
  if (options.template !== undefined) q = q.where('template', '=', options.template);
  if (options.after !== undefined) {
    const [generatedAt, id] = decodeCursor(options.after, { dateKey: true });
    q = q.where(sql<boolean>`(generated_at, project_id) < (${generatedAt}::timestamptz, ${id}::uuid)`);
  }
  const rows = await q
    .orderBy('generated_at', 'desc')
    .orderBy('project_id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toProjectView),
    nextCursor: rows.length > limit && last ? encodeCursor(iso(last.generated_at), last.project_id) : null,
  };
}

/** One project by id. */
export async function getProject(
  db: Db,
  id: string,
  options: TenantScope = {},
): Promise<ProjectDetail | undefined> {
  if (!isUuid(id)) return undefined;
  let q = db.selectFrom('projects').selectAll().where('project_id', '=', id.toLowerCase());
  if (options.tenant !== undefined) q = q.where('tenant', '=', options.tenant);
  const row = await q.executeTakeFirst();
  return row && { ...toProjectView(row), files: row.files };
}

function toProjectView(r: Omit<Selectable<ProjectsTable>, 'files'>): ProjectView {
  return {
    projectId: r.project_id,
    template: r.template,
    version: r.version,
    contentHash: r.content_hash,
    destination: r.destination,
    variables: r.variables,
    fileCount: r.file_count,
    totalBytes: Number(r.total_bytes),
    overwrite: r.overwrite,
    durationMs: r.duration_ms,
    generatedAt: iso(r.generated_at),
    actor: r.actor,
    tenant: r.tenant,
    owner: r.owner,
    position: String(r.position),
  };
}

/** A code analysis, whole. */
export interface AnalysisView {
  analysisId: string;
  /** Relative to the workspace root. */
  path: string;
  /** The generated project analysed, when it was asked for by project. */
  projectId: string | null;
  totals: AnalysisTotals;
  languages: AnalysisLanguage[];
  complexity: AnalysisComplexity;
  skipped: AnalysisSkipped;
  durationMs: number;
  analyzedAt: string;
  /** Who asked for it. */
  actor: string;
  tenant: string;
  owner: string;
  position: string;
}

export interface ListAnalysesOptions extends TenantScope {
  projectId?: string | undefined;
  /** 1-500 (default 100). */
  limit?: number | undefined;
}

/** Code analyses, newest first. */
export async function listAnalyses(db: Db, options: ListAnalysesOptions = {}): Promise<AnalysisView[]> {
  const limit = checkLimit(options.limit);
  let q = db.selectFrom('code_analyses').selectAll();
  if (options.tenant !== undefined) q = q.where('tenant', '=', options.tenant);
  if (options.projectId !== undefined) {
    if (!isUuid(options.projectId)) return [];
    q = q.where('project_id', '=', options.projectId.toLowerCase());
  }
  const rows = await q.orderBy('analyzed_at', 'desc').orderBy('analysis_id', 'desc').limit(limit).execute();
  return rows.map(toAnalysisView);
}

/** One analysis by id. */
export async function getAnalysis(
  db: Db,
  id: string,
  options: TenantScope = {},
): Promise<AnalysisView | undefined> {
  if (!isUuid(id)) return undefined;
  let q = db.selectFrom('code_analyses').selectAll().where('analysis_id', '=', id.toLowerCase());
  if (options.tenant !== undefined) q = q.where('tenant', '=', options.tenant);
  const row = await q.executeTakeFirst();
  return row && toAnalysisView(row);
}

function toAnalysisView(r: Selectable<CodeAnalysesTable>): AnalysisView {
  return {
    analysisId: r.analysis_id,
    path: r.path,
    projectId: r.project_id,
    totals: r.totals,
    languages: r.languages,
    complexity: r.complexity,
    skipped: r.skipped,
    durationMs: r.duration_ms,
    analyzedAt: iso(r.analyzed_at),
    actor: r.actor,
    tenant: r.tenant,
    owner: r.owner,
    position: String(r.position),
  };
}

function checkLimit(limit: number | undefined): number {
  const value = limit ?? 100;
  if (!Number.isInteger(value) || value < 1 || value > 500) {
    throw new AppError('validation', 'QUERY.INVALID_LIMIT', 'limit must be an integer from 1 to 500');
  }
  return value;
}
