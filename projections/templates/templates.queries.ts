import { type Kysely, type Selectable, sql } from 'kysely';
import type {
  TemplateFileEntry,
  TemplateIssue,
  TemplateManifest,
  TemplateSourceSynced,
  TemplateVariable,
} from '../../domains/templates/index.ts';
import { AppError } from '../../kernel/errors.ts';
import { isUuid } from '../../kernel/ids.ts';
import type {
  ReadModelTables,
  SourceCheckOutcome,
  TemplateSourceStatus,
  TemplateSourcesTable,
  TemplateValidationsTable,
} from '../db.ts';
import type { TenantScope } from '../tenant-scope.ts';
import { searchWords } from './templates.projection.ts';

type Db = Kysely<ReadModelTables>;

const iso = (d: Date | string): string => new Date(d).toISOString();

/** A tenant sees its own templates and sources and the shared ones (tenant null). */
const visibleTo = (tenant: string) => sql<boolean>`(tenant = ${tenant} OR tenant IS NULL)`;
const isoOrNull = (d: Date | string | null): string | null => (d === null ? null : iso(d));

/** A template in a list or search result. */
export interface TemplateSummary {
  name: string;
  /** The current (latest published) version. */
  version: string;
  stack: string;
  description: string;
  tags: string[];
  /** The template source it came from. */
  source: string;
  publishedAt: string;
  /** Null while the template is in the catalog (only removed ones are listed with includeRemoved). */
  removedAt: string | null;
  /** Names of the manifest's variables. */
  variables: string[];
  /** ts_rank of the match when a query was given, null otherwise. Higher is better. */
  rank: number | null;
  /** Its source's tenant (null: every tenant's) and owner. */
  tenant: string | null;
  owner: string;
}

export interface SearchTemplatesOptions extends TenantScope {
  /** Words to find in names, stacks, tags and descriptions; each matches as a prefix ("fast" → fastify). */
  query?: string | undefined;
  stack?: string | undefined;
  /** Only templates carrying this tag. */
  tag?: string | undefined;
  source?: string | undefined;
  /** 1-100 (default 20). */
  limit?: number | undefined;
  /** Removed templates are left out unless this is true. */
  includeRemoved?: boolean | undefined;
}

/** The most query terms used; the rest of a very long query is ignored. */
const MAX_TERMS = 16;

/**
 * A user's words as a prefix tsquery (`fast:* & serv:*`), or undefined when it holds no words.
 * Terms are runs of letters and digits, so no tsquery operator (`& | ! : * ( ) '` or `\`) ever
 * reaches the parser from user input; the text is bound as a parameter, never spliced into SQL.
 */
export function prefixTsQuery(query: string | undefined): string | undefined {
  if (query === undefined) return undefined;
  const terms = [...new Set(searchWords(query))].slice(0, MAX_TERMS);
  return terms.length === 0 ? undefined : terms.map((t) => `${t}:*`).join(' & ');
}

/**
 * Finds templates by full-text search in PostgreSQL over name, stack, tags (weight A) and
 * description (weight B): best match first (ts_rank, then name). Without query words, every
 * template matching the filters, by name.
 */
export async function searchTemplates(
  db: Db,
  options: SearchTemplatesOptions = {},
): Promise<TemplateSummary[]> {
  const limit = checkLimit(options.limit, 20, 1000);
  const tsquery = prefixTsQuery(options.query);
  const query = sql`to_tsquery('simple'::regconfig, ${tsquery ?? ''}::text)`;
  const rank =
    tsquery === undefined ? sql<number | null>`NULL::real` : sql<number | null>`ts_rank(search, ${query})`;
  let q = db.selectFrom('templates').select([
    'name',
    'version',
    'stack',
    'description',
    'tags',
    'source',
    'published_at',
    'removed_at',
    'tenant',
    'owner',
    sql<string[]>`CASE WHEN variable_order IS NULL
        THEN coalesce(array(SELECT jsonb_object_keys(manifest->'variables')), '{}')
        ELSE array(SELECT jsonb_array_elements_text(variable_order)) END`.as('variables'),
    rank.as('rank'),
  ]);
  if (tsquery !== undefined) q = q.where(sql<boolean>`search @@ ${query}`);
  if (options.tenant !== undefined) q = q.where(visibleTo(options.tenant));
  if (!options.includeRemoved) q = q.where('removed_at', 'is', null);
  if (options.stack !== undefined) q = q.where('stack', '=', options.stack);
  if (options.source !== undefined) q = q.where('source', '=', options.source);
  // Containment, which the GIN index templates_tags serves (`= ANY(tags)` can never use it).
  if (options.tag !== undefined) q = q.where(sql<boolean>`tags @> ARRAY[${options.tag}::text]`);
  if (tsquery !== undefined) q = q.orderBy('rank', 'desc');
  const rows = await q.orderBy('name').limit(limit).execute();
  return rows.map((r) => ({
    name: r.name,
    version: r.version,
    stack: r.stack,
    description: r.description,
    tags: r.tags,
    source: r.source,
    publishedAt: iso(r.published_at),
    removedAt: isoOrNull(r.removed_at),
    variables: r.variables,
    rank: r.rank === null ? null : Number(r.rank),
    tenant: r.tenant,
    owner: r.owner,
  }));
}

export interface TemplateFileView {
  path: string;
  size: number;
  /** Key of its content in template_blobs. */
  sha256: string;
  binary: boolean;
  /** False for binary files and files the manifest says to copy as they are. */
  render: boolean;
}

export interface TemplateTreeFile {
  type: 'file';
  name: string;
  path: string;
  size: number;
  binary: boolean;
  render: boolean;
}

export interface TemplateTreeDirectory {
  type: 'directory';
  name: string;
  path: string;
  children: TemplateTreeNode[];
}

/** Directories first, then files, each by name. */
export type TemplateTreeNode = TemplateTreeDirectory | TemplateTreeFile;

/** A variable as the manifest defines it, with its name. */
export type TemplateVariableView = TemplateVariable & { name: string };

export interface TemplateVersionSummary {
  version: string;
  contentHash: string;
  commit: string | null;
  source: string;
  /** When this content was last published. */
  publishedAt: string;
  /** This content is the template's current one. */
  current: boolean;
}

export interface TemplateValidationView {
  validationId: string;
  /** 'template': a published template; 'path': a directory in the workspace; 'sync': found by a sync. */
  targetKind: 'template' | 'path' | 'sync';
  /** The template's name (kind 'template'). */
  template: string | null;
  version: string | null;
  /** The workspace-relative path (kind 'path') or the directory in the source (kind 'sync'). */
  path: string | null;
  /** The source (kind 'sync'). */
  source: string | null;
  contentHash: string | null;
  ok: boolean;
  issues: TemplateIssue[];
  files: number;
  bytes: number;
  validatedAt: string;
  position: string;
}

/** One template in full, as `inspect` shows it. */
export interface TemplateDetail {
  name: string;
  version: string;
  stack: string;
  description: string;
  tags: string[];
  source: string;
  contentHash: string;
  commit: string | null;
  publishedAt: string;
  /** Set when the template was removed from the catalog; its history stays readable. */
  removedAt: string | null;
  manifest: TemplateManifest;
  variables: TemplateVariableView[];
  files: TemplateFileView[];
  tree: TemplateTreeNode[];
  /** Every content published, newest first. */
  versions: TemplateVersionSummary[];
  /** The newest validation of this template, if any. */
  latestValidation: TemplateValidationView | null;
  /** Its source's tenant (null: every tenant's) and owner. */
  tenant: string | null;
  owner: string;
  /** Revision of the template's stream and global position of the last event this view reflects. */
  revision: string;
  position: string;
}

/** One template by name, removed or not (see removedAt); another tenant's reads as not found. */
export async function getTemplate(
  db: Db,
  name: string,
  scope: TenantScope = {},
): Promise<TemplateDetail | undefined> {
  let template = db.selectFrom('templates').selectAll().where('name', '=', name);
  if (scope.tenant !== undefined) template = template.where(visibleTo(scope.tenant));
  const [row, versions, validation] = await Promise.all([
    template.executeTakeFirst(),
    db
      .selectFrom('template_versions')
      .select(['version', 'content_hash', 'commit', 'source', 'published_at'])
      .where('name', '=', name)
      .orderBy('revision', 'desc')
      .orderBy('content_hash')
      .execute(),
    db
      .selectFrom('template_validations')
      .selectAll()
      .where('template', '=', name)
      .orderBy('validated_at', 'desc')
      .orderBy('position', 'desc')
      .limit(1)
      .executeTakeFirst(),
  ]);
  if (!row) return undefined;
  const files = row.files.map(toFileView);
  return {
    name: row.name,
    version: row.version,
    stack: row.stack,
    description: row.description,
    tags: row.tags,
    source: row.source,
    contentHash: row.content_hash,
    commit: row.commit,
    publishedAt: iso(row.published_at),
    removedAt: isoOrNull(row.removed_at),
    manifest: row.manifest,
    variables: inAuthorsOrder(row.manifest.variables ?? {}, row.variable_order).map(([n, v]) => ({
      name: n,
      ...v,
    })),
    files,
    tree: fileTree(files),
    versions: versions.map((v) => ({
      version: v.version,
      contentHash: v.content_hash,
      commit: v.commit,
      source: v.source,
      publishedAt: iso(v.published_at),
      current: v.content_hash === row.content_hash,
    })),
    latestValidation: validation ? toValidationView(validation) : null,
    tenant: row.tenant,
    owner: row.owner,
    revision: String(row.revision),
    position: String(row.position),
  };
}

/** What generating from a template needs: one published content, whole. */
export interface TemplateVersionDetail {
  name: string;
  version: string;
  contentHash: string;
  commit: string | null;
  source: string;
  publishedAt: string;
  manifest: TemplateManifest;
  /** File contents are in template_blobs, by sha256. */
  files: TemplateFileEntry[];
  /** This content is the template's current one. */
  current: boolean;
  /** Set when the template was removed from the catalog (the caller decides whether that matters). */
  removedAt: string | null;
  /** The template's tenant (null: every tenant's). */
  tenant: string | null;
}

/**
 * A template's content to generate from: the current one when `version` is omitted; else the
 * newest content published under that version number (an author may republish a number with other
 * content). Undefined for an unknown template or version.
 */
export async function getTemplateVersion(
  db: Db,
  name: string,
  version?: string,
  scope: TenantScope = {},
): Promise<TemplateVersionDetail | undefined> {
  let q0 = db
    .selectFrom('templates')
    .select(['content_hash', 'removed_at', 'tenant'])
    .where('name', '=', name);
  if (scope.tenant !== undefined) q0 = q0.where(visibleTo(scope.tenant));
  const template = await q0.executeTakeFirst();
  if (!template) return undefined;
  let q = db.selectFrom('template_versions').selectAll().where('name', '=', name);
  q =
    version === undefined
      ? q.where('content_hash', '=', template.content_hash)
      : q.where('version', '=', version).orderBy('revision', 'desc');
  const row = await q.limit(1).executeTakeFirst();
  if (!row) return undefined;
  return {
    name: row.name,
    version: row.version,
    contentHash: row.content_hash,
    commit: row.commit,
    source: row.source,
    publishedAt: iso(row.published_at),
    manifest: row.manifest,
    files: row.files,
    current: row.content_hash === template.content_hash,
    removedAt: isoOrNull(template.removed_at),
    tenant: template.tenant,
  };
}

export interface StackView {
  stack: string;
  /** Templates of this stack in the catalog. */
  templates: number;
  /** Every tag any of them carries, sorted. */
  tags: string[];
  /** Their names, sorted. */
  names: string[];
}

/** The stacks of the templates in the catalog (removed ones left out), by stack name. */
export async function listStacks(db: Db, scope: TenantScope = {}): Promise<StackView[]> {
  let q = db.selectFrom('templates').select(['stack', 'name', 'tags']).where('removed_at', 'is', null);
  if (scope.tenant !== undefined) q = q.where(visibleTo(scope.tenant));
  const rows = await q.orderBy('stack').orderBy('name').execute();
  const stacks = new Map<string, { names: string[]; tags: Set<string> }>();
  for (const r of rows) {
    let s = stacks.get(r.stack);
    if (!s) {
      s = { names: [], tags: new Set() };
      stacks.set(r.stack, s);
    }
    s.names.push(r.name);
    for (const tag of r.tags) s.tags.add(tag);
  }
  return [...stacks].map(([stack, s]) => ({
    stack,
    templates: s.names.length,
    tags: [...s.tags].sort(),
    names: s.names,
  }));
}

export interface TemplateSourceView {
  name: string;
  kind: 'directory' | 'git';
  location: string;
  ref: string | null;
  intervalMs: number | null;
  builtIn: boolean;
  /** 'failed' while the last sync event is a failure; 'synced' after a later success. */
  status: TemplateSourceStatus;
  registeredAt: string;
  removedAt: string | null;
  /** The source's content revision (git commit, or a hash for directories) at the last recorded sync. */
  lastRevision: string | null;
  lastCommit: string | null;
  lastSyncedAt: string | null;
  /** The templates the last recorded sync found. */
  templates: TemplateSourceSynced['data']['templates'];
  /** Directories the last recorded sync found but did not publish, and why. */
  rejected: TemplateSourceSynced['data']['rejected'];
  lastError: string | null;
  lastErrorCode: string | null;
  lastFailedAt: string | null;
  /** The latest check, changed or not (a check that finds nothing new records no event). */
  lastCheck: { checkedAt: string; outcome: SourceCheckOutcome; detail: string | null } | null;
  /** Null: a source every tenant reads (the built-in one). */
  tenant: string | null;
  owner: string;
  revision: string;
  position: string;
}

type SourceRow = Selectable<TemplateSourcesTable> & {
  checked_at: Date | string | null;
  check_outcome: SourceCheckOutcome | null;
  check_detail: string | null;
};

function sources(db: Db) {
  return db
    .selectFrom('template_sources as s')
    .leftJoin('template_source_checks as c', 'c.source', 's.name')
    .selectAll('s')
    .select(['c.checked_at', 'c.outcome as check_outcome', 'c.detail as check_detail']);
}

/** Template sources by name; removed ones only with `includeRemoved`. */
export async function listTemplateSources(
  db: Db,
  options: TenantScope & { includeRemoved?: boolean | undefined } = {},
): Promise<TemplateSourceView[]> {
  let q = sources(db);
  if (options.tenant !== undefined) q = q.where(sourceVisibleTo(options.tenant));
  if (!options.includeRemoved) q = q.where('s.status', '!=', 'removed');
  const rows = await q.orderBy('s.name').execute();
  return rows.map(toSourceView);
}

/** One source by name, removed or not (see status); another tenant's reads as not found. */
export async function getTemplateSource(
  db: Db,
  name: string,
  scope: TenantScope = {},
): Promise<TemplateSourceView | undefined> {
  let q = sources(db).where('s.name', '=', name);
  if (scope.tenant !== undefined) q = q.where(sourceVisibleTo(scope.tenant));
  const row = await q.executeTakeFirst();
  return row && toSourceView(row);
}

/** visibleTo, for the sources query (joined with the checks, so the column is qualified). */
const sourceVisibleTo = (tenant: string) => sql<boolean>`(s.tenant = ${tenant} OR s.tenant IS NULL)`;

function toSourceView(r: SourceRow): TemplateSourceView {
  return {
    name: r.name,
    kind: r.kind,
    location: r.location,
    ref: r.ref,
    intervalMs: r.interval_ms,
    builtIn: r.built_in,
    status: r.status,
    registeredAt: iso(r.registered_at),
    removedAt: isoOrNull(r.removed_at),
    lastRevision: r.last_revision,
    lastCommit: r.last_commit,
    lastSyncedAt: isoOrNull(r.last_synced_at),
    templates: r.templates,
    rejected: r.rejected,
    lastError: r.last_error,
    lastErrorCode: r.last_error_code,
    lastFailedAt: isoOrNull(r.last_failed_at),
    lastCheck:
      r.checked_at === null
        ? null
        : { checkedAt: iso(r.checked_at), outcome: r.check_outcome ?? 'unchanged', detail: r.check_detail },
    tenant: r.tenant,
    owner: r.owner,
    revision: String(r.revision),
    position: String(r.position),
  };
}

export interface ListValidationsOptions {
  /** Only validations of this (published) template. */
  template?: string | undefined;
  /** 1-500 (default 100). */
  limit?: number | undefined;
}

/** Validations, newest first. */
export async function listValidations(
  db: Db,
  options: ListValidationsOptions = {},
): Promise<TemplateValidationView[]> {
  const limit = checkLimit(options.limit, 100, 500);
  let q = db.selectFrom('template_validations').selectAll();
  if (options.template !== undefined) q = q.where('template', '=', options.template);
  const rows = await q
    .orderBy('validated_at', 'desc')
    .orderBy('validation_id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toValidationView);
}

/** One validation by id. */
export async function getValidation(db: Db, id: string): Promise<TemplateValidationView | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await db
    .selectFrom('template_validations')
    .selectAll()
    .where('validation_id', '=', id.toLowerCase())
    .executeTakeFirst();
  return row && toValidationView(row);
}

function toValidationView(r: Selectable<TemplateValidationsTable>): TemplateValidationView {
  return {
    validationId: r.validation_id,
    targetKind: r.target_kind,
    template: r.template,
    version: r.version,
    path: r.path,
    source: r.source,
    contentHash: r.content_hash,
    ok: r.ok,
    issues: r.issues,
    files: r.files,
    bytes: Number(r.bytes),
    validatedAt: iso(r.validated_at),
    position: String(r.position),
  };
}

function toFileView(f: TemplateFileEntry): TemplateFileView {
  return { path: f.path, size: f.size, sha256: f.sha256, binary: f.binary, render: f.render };
}

/** Nests files by their "/"-separated paths. */
export function fileTree(files: readonly TemplateFileView[]): TemplateTreeNode[] {
  const root: TemplateTreeDirectory = { type: 'directory', name: '', path: '', children: [] };
  const dirs = new Map<string, TemplateTreeDirectory>([['', root]]);
  const dirOf = (path: string): TemplateTreeDirectory => {
    const known = dirs.get(path);
    if (known) return known;
    const cut = path.lastIndexOf('/');
    const parent = dirOf(cut === -1 ? '' : path.slice(0, cut));
    const dir: TemplateTreeDirectory = {
      type: 'directory',
      name: path.slice(cut + 1),
      path,
      children: [],
    };
    parent.children.push(dir);
    dirs.set(path, dir);
    return dir;
  };
  for (const f of files) {
    const path = f.path.split('/').filter(Boolean).join('/');
    const cut = path.lastIndexOf('/');
    dirOf(cut === -1 ? '' : path.slice(0, cut)).children.push({
      type: 'file',
      name: path.slice(cut + 1),
      path,
      size: f.size,
      binary: f.binary,
      render: f.render,
    });
  }
  const sort = (nodes: TemplateTreeNode[]): TemplateTreeNode[] => {
    nodes.sort((a, b) =>
      a.type === b.type ? a.name.localeCompare(b.name, 'en') : a.type === 'directory' ? -1 : 1,
    );
    for (const n of nodes) if (n.type === 'directory') sort(n.children);
    return nodes;
  };
  return sort(root.children);
}

function checkLimit(limit: number | undefined, fallback: number, max: number): number {
  const value = limit ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new AppError('validation', 'QUERY.INVALID_LIMIT', `limit must be an integer from 1 to ${max}`);
  }
  return value;
}

/** The variables in the order the manifest's author wrote them, when the event recorded it. */
function inAuthorsOrder<V>(
  variables: Record<string, V>,
  order: readonly string[] | null,
): Array<[string, V]> {
  const entries = Object.entries(variables);
  if (!order) return entries;
  const rank = new Map(order.map((n, i) => [n, i]));
  return entries.sort(([a], [b]) => (rank.get(a) ?? order.length) - (rank.get(b) ?? order.length));
}
