import { z } from 'zod';
import type { EventTypeDefinition, EventTypeRegistry } from '../../kernel/event-types.ts';
import { ownerIdSchema, tenantIdSchema, UNKNOWN_OWNER } from '../../kernel/ownership.ts';
import { DEFAULT_TENANT } from '../../kernel/principal.ts';
import {
  manifestSchema,
  stackSchema,
  templateNameSchema,
  templateTagSchema,
  templateVersionSchema,
} from './manifest.ts';

const isoDate = z.iso.datetime({ offset: true });
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex sha256');

/** Template sources are named like templates: `templatesource-<name>`. */
export const sourceNameSchema = templateNameSchema;

/** One file of a template version; its bytes are kept content-addressed by sha256 (template_blobs). */
export const templateFileSchema = z.object({
  path: z.string().min(1),
  size: z.number().int().min(0),
  sha256,
  binary: z.boolean(),
  /** False for binary files and files the manifest says to copy as they are. */
  render: z.boolean(),
});
export type TemplateFileEntry = z.infer<typeof templateFileSchema>;

export const validationIssueSchema = z.object({
  code: z.string().min(1),
  severity: z.enum(['error', 'warning']),
  message: z.string(),
  file: z.string().optional(),
});
export type TemplateIssue = z.infer<typeof validationIssueSchema>;

// --- template-<name> ------------------------------------------------------------------------

/** A new version (new content) of a template became the catalog's current one. */
export const templateVersionPublishedSchema = z.object({
  name: templateNameSchema,
  source: sourceNameSchema,
  version: templateVersionSchema,
  stack: stackSchema,
  description: z.string(),
  tags: z.array(templateTagSchema),
  manifest: manifestSchema,
  /** The manifest's variable names in the author's order (stored JSON objects may not keep key order). */
  variableOrder: z.array(z.string()).optional(),
  files: z.array(templateFileSchema),
  /** sha256 over manifest and files: what "changed" means. */
  contentHash: sha256,
  /** The source's git commit, for git sources. */
  commit: z.string().nullable(),
  /**
   * The validation this content passed before it was published (its warnings, its size). A sync
   * records a separate TemplateValidated only for what it rejects.
   */
  validation: z
    .object({
      issues: z.array(validationIssueSchema),
      stats: z.object({ files: z.number().int().min(0), bytes: z.number().int().min(0) }),
    })
    .optional(),
  publishedAt: isoDate,
});

export const templateRemovedSchema = z.object({
  name: templateNameSchema,
  source: sourceNameSchema,
  reason: z.string(),
  removedAt: isoDate,
});

// --- templatesource-<name> ------------------------------------------------------------------

export const SOURCE_KINDS = ['directory', 'git'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const templateSourceRegisteredSchema = z.object({
  name: sourceNameSchema,
  kind: z.enum(SOURCE_KINDS),
  /** A directory path, or a git URL or local repository path. */
  location: z.string().min(1),
  /** git: a branch or tag (null: the remote's HEAD). */
  ref: z.string().nullable(),
  /** Synced on this schedule besides on demand (null: on demand only). */
  intervalMs: z.number().int().min(10_000).nullable(),
  /** Shipped with Switchyard and registered on first start. */
  builtIn: z.boolean(),
  /**
   * The tenant the source belongs to, and whose templates it publishes; null for a source every
   * tenant reads (the built-in one). Templates inherit it in the read model.
   */
  tenant: tenantIdSchema.nullable(),
  /** The principal that registered it (a system component for the built-in source). */
  owner: ownerIdSchema,
  registeredAt: isoDate,
});

/**
 * v1 → v2: tenancy. Unlike the other creation events this one has an upcaster, because the
 * default depends on the event: the built-in source was always everyone's (tenant null), any other
 * source the default tenant's.
 */
function sourceRegisteredV1toV2(data: unknown): unknown {
  const d = data as { builtIn?: unknown };
  return { ...d, tenant: d.builtIn === true ? null : DEFAULT_TENANT, owner: UNKNOWN_OWNER };
}

export const templateSourceRemovedSchema = z.object({
  name: sourceNameSchema,
  removedAt: isoDate,
});

/**
 * A sync found the source different from the last one recorded: the commit, or for directories the
 * hash over every template's content hash and every problem. Only recorded when it changed.
 */
export const templateSourceSyncedSchema = z.object({
  name: sourceNameSchema,
  revision: z.string().min(1),
  commit: z.string().nullable(),
  /** The source's part of the catalog after this sync (rejected templates keep their last good version). */
  templates: z.array(
    z.object({
      name: templateNameSchema,
      version: templateVersionSchema,
      contentHash: sha256,
      /** Directory of the template in the source, relative to its root. */
      dir: z.string(),
    }),
  ),
  published: z.array(templateNameSchema),
  removed: z.array(templateNameSchema),
  /** Templates (or directories) found but not published; the last good version stays. */
  rejected: z.array(
    z.object({ dir: z.string(), name: z.string().optional(), issues: z.array(validationIssueSchema) }),
  ),
  syncedAt: isoDate,
});

/** The source could not be read at all (unreachable, no such ref): the catalog stays as it was. */
export const templateSourceSyncFailedSchema = z.object({
  name: sourceNameSchema,
  reason: z.string().min(1),
  code: z.string(),
  failedAt: isoDate,
});

// --- validation-<uuid> ----------------------------------------------------------------------

export const validationTargetSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('template'),
    name: templateNameSchema,
    version: templateVersionSchema,
    contentHash: sha256,
  }),
  /** A template directory under the workspace root, relative to it (templates under development). */
  z.object({ kind: z.literal('path'), path: z.string(), contentHash: sha256.nullable() }),
  /** A template found by a sync, before it was published (or rejected). */
  z.object({
    kind: z.literal('sync'),
    source: sourceNameSchema,
    dir: z.string(),
    contentHash: sha256.nullable(),
  }),
]);
export type ValidationTarget = z.infer<typeof validationTargetSchema>;

export const templateValidatedSchema = z.object({
  validationId: z.uuid(),
  target: validationTargetSchema,
  ok: z.boolean(),
  issues: z.array(validationIssueSchema),
  stats: z.object({ files: z.number().int().min(0), bytes: z.number().int().min(0) }),
  validatedAt: isoDate,
});

export type TemplateVersionPublished = {
  type: 'TemplateVersionPublished';
  data: z.infer<typeof templateVersionPublishedSchema>;
};
export type TemplateRemoved = { type: 'TemplateRemoved'; data: z.infer<typeof templateRemovedSchema> };
export type TemplateEvent = TemplateVersionPublished | TemplateRemoved;

export type TemplateSourceRegistered = {
  type: 'TemplateSourceRegistered';
  data: z.infer<typeof templateSourceRegisteredSchema>;
};
export type TemplateSourceRemoved = {
  type: 'TemplateSourceRemoved';
  data: z.infer<typeof templateSourceRemovedSchema>;
};
export type TemplateSourceSynced = {
  type: 'TemplateSourceSynced';
  data: z.infer<typeof templateSourceSyncedSchema>;
};
export type TemplateSourceSyncFailed = {
  type: 'TemplateSourceSyncFailed';
  data: z.infer<typeof templateSourceSyncFailedSchema>;
};
export type TemplateSourceEvent =
  | TemplateSourceRegistered
  | TemplateSourceRemoved
  | TemplateSourceSynced
  | TemplateSourceSyncFailed;

export type TemplateValidated = { type: 'TemplateValidated'; data: z.infer<typeof templateValidatedSchema> };

/** Stream categories: `template-<name>`, `templatesource-<name>`, `validation-<uuid>`. */
export const TEMPLATE_CATEGORY = 'template';
export const TEMPLATE_SOURCE_CATEGORY = 'templatesource';
export const VALIDATION_CATEGORY = 'validation';

export const templateEventTypeNames = [
  'TemplateVersionPublished',
  'TemplateRemoved',
  'TemplateSourceRegistered',
  'TemplateSourceRemoved',
  'TemplateSourceSynced',
  'TemplateSourceSyncFailed',
  'TemplateValidated',
] as const;

export const templateEventTypes: readonly EventTypeDefinition[] = [
  { type: 'TemplateVersionPublished', schemaVersion: 1, schema: templateVersionPublishedSchema },
  { type: 'TemplateRemoved', schemaVersion: 1, schema: templateRemovedSchema },
  {
    type: 'TemplateSourceRegistered',
    schemaVersion: 2,
    schema: templateSourceRegisteredSchema,
    upcasters: { 1: sourceRegisteredV1toV2 },
  },
  { type: 'TemplateSourceRemoved', schemaVersion: 1, schema: templateSourceRemovedSchema },
  { type: 'TemplateSourceSynced', schemaVersion: 1, schema: templateSourceSyncedSchema },
  { type: 'TemplateSourceSyncFailed', schemaVersion: 1, schema: templateSourceSyncFailedSchema },
  { type: 'TemplateValidated', schemaVersion: 1, schema: templateValidatedSchema },
];

/** Registers this domain's event types; returns the registry for chaining. */
export function registerTemplateEvents(registry: EventTypeRegistry): EventTypeRegistry {
  return registry.register(...templateEventTypes);
}
