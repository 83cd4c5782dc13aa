import { z } from 'zod';
import {
  codeAnalyzedSchema,
  generatedFileSchema,
  projectGeneratedSchema,
} from '../../domains/projects/events.ts';
import {
  templateFileSchema,
  validationIssueSchema,
  validationTargetSchema,
} from '../../domains/templates/events.ts';
import { variableSchema } from '../../domains/templates/manifest.ts';

/**
 * What the template, project and analysis routes answer, for the OpenAPI document and the
 * serializer (which leaves out anything not listed here).
 */

const nullableString = z.string().nullable();

export const templateSummarySchema = z.object({
  name: z.string(),
  version: z.string().describe('The current (latest published) version'),
  stack: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  source: z.string().describe('The template source it came from'),
  publishedAt: z.string(),
  removedAt: nullableString,
  variables: z.array(z.string()).describe("Names of the manifest's variables"),
  rank: z.number().nullable().describe('How well it matches `q` (higher is better); null without `q`'),
});

const validationViewSchema = z.object({
  validationId: z.string(),
  targetKind: z.enum(['template', 'path', 'sync']),
  template: nullableString,
  version: nullableString,
  path: nullableString,
  source: nullableString,
  contentHash: nullableString,
  ok: z.boolean(),
  issues: z.array(validationIssueSchema),
  files: z.number(),
  bytes: z.number(),
  validatedAt: z.string(),
  position: z.string(),
});

export const templateDetailSchema = z.object({
  name: z.string(),
  version: z.string(),
  stack: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  source: z.string(),
  contentHash: z.string(),
  commit: nullableString,
  publishedAt: z.string(),
  removedAt: nullableString,
  manifest: z.record(z.string(), z.unknown()).describe('The manifest (template.yaml) as published'),
  variables: z.array(variableSchema.extend({ name: z.string() })),
  files: z.array(templateFileSchema),
  tree: z
    .array(z.unknown())
    .describe(
      'The files as a tree: `{type:"directory",name,path,children}` and `{type:"file",name,path,size,binary,render}` nodes, directories first',
    ),
  versions: z.array(
    z.object({
      version: z.string(),
      contentHash: z.string(),
      commit: nullableString,
      source: z.string(),
      publishedAt: z.string(),
      current: z.boolean(),
    }),
  ),
  latestValidation: validationViewSchema.nullable(),
  revision: z.string(),
  position: z.string(),
});

export const stackViewSchema = z.object({
  stack: z.string(),
  templates: z.number().describe('Templates of this stack in the catalog'),
  tags: z.array(z.string()),
  names: z.array(z.string()),
});

export const validationResultSchema = z.object({
  validationId: z.string(),
  target: validationTargetSchema,
  ok: z.boolean().describe('No error-severity issue (warnings alone leave a template valid)'),
  issues: z.array(validationIssueSchema),
  stats: z.object({ files: z.number(), bytes: z.number() }),
});

const rejectedSchema = z.object({
  dir: z.string(),
  name: z.string().optional(),
  issues: z.array(validationIssueSchema),
});

export const syncReportSchema = z.object({
  source: z.string(),
  ok: z.boolean().describe('False when the source could not be read; the catalog then stays as it was'),
  changed: z.boolean().describe('False when the source was as last recorded: nothing was recorded'),
  revision: nullableString,
  commit: nullableString,
  templates: z.number().describe("The source's templates in the catalog after the sync"),
  published: z.array(z.string()),
  removed: z.array(z.string()),
  rejected: z.array(rejectedSchema),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  position: nullableString.describe(
    'Global position of the last event the sync appended (?minPosition= on reads)',
  ),
  durationMs: z.number(),
});

export const templateSourceSchema = z.object({
  name: z.string(),
  /** The tenant that registered it; null for one every tenant reads (the built-in source). */
  tenant: z.string().nullable(),
  kind: z.enum(['directory', 'git']),
  location: z.string(),
  ref: nullableString,
  intervalMs: z.number().nullable(),
  builtIn: z.boolean(),
  status: z.enum(['registered', 'synced', 'failed', 'removed']),
  registeredAt: z.string(),
  removedAt: nullableString,
  lastRevision: nullableString,
  lastCommit: nullableString,
  lastSyncedAt: nullableString,
  templates: z.array(
    z.object({ name: z.string(), version: z.string(), contentHash: z.string(), dir: z.string() }),
  ),
  rejected: z.array(rejectedSchema),
  lastError: nullableString,
  lastErrorCode: nullableString,
  lastFailedAt: nullableString,
  lastCheck: z
    .object({
      checkedAt: z.string(),
      outcome: z.enum(['unchanged', 'changed', 'failed']),
      detail: nullableString,
    })
    .nullable(),
  revision: z.string(),
  position: z.string(),
});

/** A write's answer (202), as writeAccepted sends it. */
export const writeAcceptedSchema = z.object({
  id: z.string(),
  stream: z.string(),
  revision: z.string(),
  position: nullableString,
  duplicate: z.boolean().describe('The same Idempotency-Key was seen before: nothing new was recorded'),
  projected: z.boolean().optional(),
});

/** An earlier generation that generate-project with overwrite replaced. */
const replacedProjectSchema = z.object({
  projectId: z.string(),
  template: z.string(),
  version: z.string(),
  generatedAt: z.string(),
});

export const projectPreviewSchema = z.object({
  template: z.string(),
  version: z.string(),
  contentHash: z.string(),
  destination: z.string().describe('Relative to the workspace root'),
  destinationInUse: z
    .boolean()
    .describe('The destination exists and is not empty: generating needs overwrite'),
  destinationDecision: z
    .object({
      action: z.enum(['write', 'replace', 'refuse']),
      replaces: replacedProjectSchema.nullable(),
      refusal: z.object({ code: z.string(), message: z.string() }).nullable(),
    })
    .describe('What generating would do: write, replace an earlier generation, or refuse (409)'),
  variables: z.record(z.string(), z.unknown()).describe('As they would be recorded; secrets "[redacted]"'),
  files: z.array(generatedFileSchema),
});

export const generatedProjectSchema = projectGeneratedSchema.extend({
  path: z.string().describe('Absolute path of the project on the gateway host'),
  replaced: replacedProjectSchema
    .nullable()
    .optional()
    .describe('The earlier generation overwrite replaced; absent on a retried request'),
});

const projectViewSchema = z.object({
  projectId: z.string(),
  template: z.string(),
  version: z.string(),
  contentHash: z.string(),
  destination: z.string().describe('Relative to the workspace root'),
  variables: z.record(z.string(), z.unknown()).describe('As given after defaults; secrets "[redacted]"'),
  fileCount: z.number(),
  totalBytes: z.number(),
  overwrite: z.boolean(),
  durationMs: z.number(),
  generatedAt: z.string(),
  actor: z.string(),
  position: z.string(),
});

export const projectPageSchema = z.object({
  items: z.array(projectViewSchema),
  nextCursor: nullableString,
});

export const projectDetailSchema = projectViewSchema.extend({ files: z.array(generatedFileSchema) });

export const analysisSchema = codeAnalyzedSchema.extend({
  actor: z.string().optional().describe('Who asked for it (in the read model)'),
  position: z.string().optional(),
});
