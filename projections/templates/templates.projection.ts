import { type RawBuilder, sql, type Transaction, type Updateable } from 'kysely';
import type {
  TemplateEvent,
  TemplateSourceEvent,
  TemplateSourceRegistered,
  TemplateValidated,
  TemplateVersionPublished,
} from '../../domains/templates/index.ts';
import {
  TEMPLATE_CATEGORY,
  TEMPLATE_SOURCE_CATEGORY,
  templateEventTypeNames,
  VALIDATION_CATEGORY,
} from '../../domains/templates/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import { UNKNOWN_OWNER } from '../../kernel/ownership.ts';
import { DEFAULT_TENANT } from '../../kernel/principal.ts';
import type { ReadModelTables, TemplateSourcesTable } from '../db.ts';
import type { Projection } from '../projection.ts';

type Trx = Transaction<ReadModelTables>;

/** Physical names (a rebuild writes to fresh copies), typed as the logical tables they copy. */
interface Tables {
  templates: 'templates';
  versions: 'template_versions';
  sources: 'template_sources';
  validations: 'template_validations';
}

type Event = TemplateEvent | TemplateSourceEvent | TemplateValidated;

/**
 * The `templates` read model: the template catalog (current version of each template, with a
 * full-text search document), every content ever published, the template sources with the outcome
 * of their last sync, and every validation. Writes to a template or a source are guarded by its
 * stream's revision, validations are inserted once, so applying an event twice changes nothing.
 *
 * Template file contents are not here: events name them by sha256, and `template_blobs` (written
 * directly, see templates/blobs.ts) holds them.
 */
export const templatesProjection: Projection = {
  name: 'templates',
  version: 1,
  filter: {
    categories: [TEMPLATE_CATEGORY, TEMPLATE_SOURCE_CATEGORY, VALIDATION_CATEGORY],
    types: templateEventTypeNames,
  },
  tables: ['templates', 'template_versions', 'template_sources', 'template_validations'],
  async apply(trx, event, tableNames) {
    const name = <T extends string>(table: T) => (tableNames[table] ?? table) as T;
    const tables: Tables = {
      templates: name('templates'),
      versions: name('template_versions'),
      sources: name('template_sources'),
      validations: name('template_validations'),
    };
    const t = trx as Trx;
    const e = { type: event.type, data: event.data } as Event;
    switch (e.type) {
      case 'TemplateVersionPublished':
        return published(t, tables, event, e);
      case 'TemplateRemoved':
        await t
          .updateTable(tables.templates)
          .set({ removed_at: e.data.removedAt, revision: event.revision, position: event.position })
          .where('name', '=', e.data.name)
          .where('revision', '<', event.revision.toString())
          .execute();
        return;
      case 'TemplateSourceRegistered':
        return sourceRegistered(t, tables, event, e);
      case 'TemplateSourceRemoved':
        return updateSource(t, tables, event, e.data.name, {
          status: 'removed',
          removed_at: e.data.removedAt,
        });
      case 'TemplateSourceSynced': {
        const d = e.data;
        return updateSource(t, tables, event, d.name, {
          status: 'synced',
          last_revision: d.revision,
          last_commit: d.commit,
          last_synced_at: d.syncedAt,
          templates: JSON.stringify(d.templates),
          rejected: JSON.stringify(d.rejected),
          last_error: null,
          last_error_code: null,
          last_failed_at: null,
        });
      }
      case 'TemplateSourceSyncFailed': {
        const d = e.data;
        // The catalog and the last good sync stay as they were: only the failure is recorded.
        return updateSource(t, tables, event, d.name, {
          status: 'failed',
          last_error: d.reason,
          last_error_code: d.code,
          last_failed_at: d.failedAt,
        });
      }
      case 'TemplateValidated':
        return validated(t, tables, event, e);
      default: {
        const _: never = e;
        return;
      }
    }
  },
};

async function published(
  trx: Trx,
  tables: Tables,
  event: RecordedEvent,
  e: TemplateVersionPublished,
): Promise<void> {
  const d = e.data;
  const current = await trx
    .selectFrom(tables.templates)
    .select('revision')
    .where('name', '=', d.name)
    .executeTakeFirst();
  // The template row carries the stream's revision for both tables: they are written together.
  if (current && BigInt(current.revision) >= event.revision) return;

  const owner = await sourceOwnership(trx, tables, d.source);
  const manifest = JSON.stringify(d.manifest);
  const files = JSON.stringify(d.files);
  // The same content published again (say after a removal) is the same row, now last published here.
  const republished = {
    commit: d.commit,
    source: d.source,
    published_at: d.publishedAt,
    revision: event.revision,
    position: event.position,
  };
  await trx
    .insertInto(tables.versions)
    .values({
      name: d.name,
      version: d.version,
      content_hash: d.contentHash,
      manifest,
      files,
      ...republished,
    })
    .onConflict((oc) => oc.columns(['name', 'content_hash']).doUpdateSet(republished))
    .execute();

  const columns = {
    source: d.source,
    version: d.version,
    stack: d.stack,
    description: d.description,
    tags: d.tags,
    manifest,
    files,
    content_hash: d.contentHash,
    commit: d.commit,
    published_at: d.publishedAt,
    removed_at: null,
    versions: sql<number>`(SELECT count(*)::int FROM ${sql.table(tables.versions)} WHERE name = ${d.name})`,
    search: searchDocument(d),
    variable_order: d.variableOrder ? JSON.stringify(d.variableOrder) : null,
    revision: event.revision,
    position: event.position,
    tenant: owner.tenant,
    owner: owner.owner,
  };
  await trx
    .insertInto(tables.templates)
    .values({ name: d.name, ...columns })
    .onConflict((oc) => oc.column('name').doUpdateSet(columns))
    .execute();
}

/**
 * A template belongs to whoever its source belongs to. The source's registration precedes its
 * publications in the log (and this projection owns both tables), so the row is there; were it not,
 * the template reads as the default tenant's, like anything recorded before tenancy.
 */
async function sourceOwnership(
  trx: Trx,
  tables: Tables,
  source: string,
): Promise<{ tenant: string | null; owner: string }> {
  const row = await trx
    .selectFrom(tables.sources)
    .select(['tenant', 'owner'])
    .where('name', '=', source)
    .executeTakeFirst();
  return row ?? { tenant: DEFAULT_TENANT, owner: UNKNOWN_OWNER };
}

/**
 * Words of `text` as searchTemplates splits a query (runs of letters and digits), so that every
 * query term can match: "node.js" is one token to the text-search parser but two query terms.
 */
export function searchWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

/** The field as the parser sees it, and its words as queries see them. */
function field(text: string): string {
  return `${text} ${searchWords(text).join(' ')}`;
}

/**
 * The search document: name, stack and tags weigh A, the description B, so a name hit ranks above
 * a description-only one. The 'simple' configuration (no stemming, no stop words): template names,
 * stacks and tags are identifiers, not English.
 */
function searchDocument(d: TemplateVersionPublished['data']): RawBuilder<string> {
  const weighted = (text: string, weight: 'A' | 'B') =>
    sql`setweight(to_tsvector('simple'::regconfig, ${text}::text), ${sql.lit(weight)})`;
  return sql<string>`${weighted(field(d.name), 'A')} || ${weighted(field(d.stack), 'A')} || ${weighted(
    d.tags.map(field).join(' '),
    'A',
  )} || ${weighted(field(d.description), 'B')}`;
}

async function sourceRegistered(
  trx: Trx,
  tables: Tables,
  event: RecordedEvent,
  e: TemplateSourceRegistered,
): Promise<void> {
  const d = e.data;
  // A source registered again (after a removal) starts afresh: the old location's syncs say nothing.
  const columns = {
    kind: d.kind,
    location: d.location,
    ref: d.ref,
    interval_ms: d.intervalMs,
    built_in: d.builtIn,
    registered_at: d.registeredAt,
    removed_at: null,
    last_revision: null,
    last_commit: null,
    last_synced_at: null,
    templates: '[]',
    rejected: '[]',
    last_error: null,
    last_error_code: null,
    last_failed_at: null,
    status: 'registered' as const,
    revision: event.revision,
    position: event.position,
    tenant: d.tenant,
    owner: d.owner,
  };
  await trx
    .insertInto(tables.sources)
    .values({ name: d.name, ...columns })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet(columns)
        .where(sql<boolean>`${sql.ref(`${tables.sources}.revision`)} < ${event.revision.toString()}::bigint`),
    )
    .execute();
}

/** Only moves a row forwards: an event at or below the row's revision has already been applied. */
async function updateSource(
  trx: Trx,
  tables: Tables,
  event: RecordedEvent,
  name: string,
  columns: Updateable<TemplateSourcesTable>,
): Promise<void> {
  await trx
    .updateTable(tables.sources)
    .set({ ...columns, revision: event.revision, position: event.position })
    .where('name', '=', name)
    .where('revision', '<', event.revision.toString())
    .execute();
}

async function validated(
  trx: Trx,
  tables: Tables,
  event: RecordedEvent,
  e: TemplateValidated,
): Promise<void> {
  const d = e.data;
  const target = d.target;
  const where =
    target.kind === 'template'
      ? { template: target.name, version: target.version, path: null, source: null }
      : target.kind === 'path'
        ? { template: null, version: null, path: target.path, source: null }
        : { template: null, version: null, path: target.dir, source: target.source };
  await trx
    .insertInto(tables.validations)
    .values({
      validation_id: d.validationId,
      target_kind: target.kind,
      ...where,
      content_hash: target.contentHash,
      ok: d.ok,
      issues: JSON.stringify(d.issues),
      files: d.stats.files,
      bytes: String(d.stats.bytes),
      validated_at: d.validatedAt,
      position: event.position,
    })
    .onConflict((oc) => oc.column('validation_id').doNothing())
    .execute();
}
