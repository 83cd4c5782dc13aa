import { z } from 'zod';
import type { EventTypeDefinition, EventTypeRegistry } from '../../kernel/event-types.ts';
import { recordedOwner, recordedTenant } from '../../kernel/ownership.ts';
import { templateNameSchema, templateVersionSchema } from '../../kernel/template-ref.ts';

const isoDate = z.iso.datetime({ offset: true });
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex sha256');

/** A file as it was written: enough to tell later whether the project was changed since. */
export const generatedFileSchema = z.object({
  path: z.string().min(1),
  size: z.number().int().min(0),
  sha256,
});

/** A project was rendered from a template version into the workspace. */
export const projectGeneratedSchema = z.object({
  projectId: z.uuid(),
  template: templateNameSchema,
  version: templateVersionSchema,
  contentHash: sha256,
  /** Relative to the workspace root, with "/" separators. */
  destination: z.string().min(1),
  /** As given after defaults, secret variables as "[redacted]". */
  variables: z.record(z.string(), z.unknown()),
  files: z.array(generatedFileSchema),
  overwrite: z.boolean(),
  durationMs: z.number().int().min(0),
  /** The tenant the project belongs to (the actor's); 'default' before tenancy. */
  tenant: recordedTenant,
  /** Who generated it; 'unknown' before tenancy (the event's actor says it too). */
  owner: recordedOwner,
  generatedAt: isoDate,
});

export const languageStatsSchema = z.object({
  language: z.string(),
  files: z.number().int().min(0),
  lines: z.number().int().min(0),
  code: z.number().int().min(0),
  blank: z.number().int().min(0),
  comment: z.number().int().min(0),
  bytes: z.number().int().min(0),
});

/** A code analysis of a path under the workspace root (a generated project or any directory). */
export const codeAnalyzedSchema = z.object({
  analysisId: z.uuid(),
  /** Relative to the workspace root ("." for the root itself). */
  path: z.string().min(1),
  /** The generated project analysed, when the analysis was asked for by project. */
  projectId: z.uuid().nullable(),
  totals: z.object({
    files: z.number().int().min(0),
    lines: z.number().int().min(0),
    code: z.number().int().min(0),
    blank: z.number().int().min(0),
    comment: z.number().int().min(0),
    bytes: z.number().int().min(0),
  }),
  languages: z.array(languageStatsSchema),
  complexity: z.object({
    tool: z.string(),
    files: z.number().int().min(0),
    functions: z.number().int().min(0),
    total: z.number().int().min(0),
    average: z.number().min(0),
    max: z.number().int().min(0),
    top: z.array(
      z.object({ file: z.string(), name: z.string(), line: z.number().int(), complexity: z.number().int() }),
    ),
    parseErrors: z.array(z.object({ file: z.string(), message: z.string() })),
  }),
  skipped: z.object({
    binary: z.number().int().min(0),
    tooLarge: z.number().int().min(0),
    unknownLanguage: z.number().int().min(0),
  }),
  durationMs: z.number().int().min(0),
  /** As for ProjectGenerated. */
  tenant: recordedTenant,
  owner: recordedOwner,
  analyzedAt: isoDate,
});

export type ProjectGenerated = { type: 'ProjectGenerated'; data: z.infer<typeof projectGeneratedSchema> };
export type CodeAnalyzed = { type: 'CodeAnalyzed'; data: z.infer<typeof codeAnalyzedSchema> };
export type ProjectEvent = ProjectGenerated | CodeAnalyzed;

/** Stream categories: `project-<uuid>`, `analysis-<uuid>`. */
export const PROJECT_CATEGORY = 'project';
export const ANALYSIS_CATEGORY = 'analysis';

export const projectEventTypeNames = ['ProjectGenerated', 'CodeAnalyzed'] as const;

export const projectEventTypes: readonly EventTypeDefinition[] = [
  { type: 'ProjectGenerated', schemaVersion: 1, schema: projectGeneratedSchema },
  { type: 'CodeAnalyzed', schemaVersion: 1, schema: codeAnalyzedSchema },
];

export function registerProjectEvents(registry: EventTypeRegistry): EventTypeRegistry {
  return registry.register(...projectEventTypes);
}
