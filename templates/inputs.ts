import { z } from 'zod';
import { invalidTemplateInput } from '../domains/templates/errors.ts';
import { templateNameSchema, templateVersionSchema } from '../domains/templates/manifest.ts';
import { parseWith } from '../kernel/validation.ts';

/**
 * What users hand the template operations, over REST, MCP and the CLI alike: one schema each, so
 * every edge refuses the same bad input with the same words, and the MCP tools advertise exactly
 * what the REST API documents.
 */

const relativePath = z.string().min(1).max(1000).describe('A path relative to the workspace root');

export const SearchTemplatesInput = z
  .object({
    query: z.string().max(200).optional().describe('Words to find in name, description, tags and stack'),
    stack: z.string().max(63).optional(),
    tag: z.string().max(63).optional(),
    source: z.string().max(63).optional(),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .strict();
export type SearchTemplatesInput = z.infer<typeof SearchTemplatesInput>;

export const InspectTemplateInput = z
  .object({ name: templateNameSchema, version: templateVersionSchema.optional() })
  .strict();
export type InspectTemplateInput = z.infer<typeof InspectTemplateInput>;

export const ValidateTemplateInput = z
  .object({
    template: templateNameSchema.optional().describe('A template in the catalog'),
    version: templateVersionSchema.optional(),
    path: relativePath.optional().describe('A template directory under the workspace root'),
  })
  .strict()
  .refine((v) => (v.template === undefined) !== (v.path === undefined), {
    message: 'give either template (a catalog template) or path (a directory under the workspace root)',
  });
export type ValidateTemplateInput = z.infer<typeof ValidateTemplateInput>;

export const GenerateProjectInput = z
  .object({
    template: templateNameSchema,
    version: templateVersionSchema.optional().describe('Default: the current version'),
    destination: relativePath.describe('Where to write the project, relative to the workspace root'),
    variables: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    overwrite: z.boolean().optional().describe('Replace a non-empty destination'),
  })
  .strict();
export type GenerateProjectInput = z.infer<typeof GenerateProjectInput>;

export const AnalyzeCodeInput = z
  .object({
    path: relativePath.optional(),
    projectId: z.uuid().optional().describe('A generated project'),
  })
  .strict()
  .refine((v) => (v.path === undefined) !== (v.projectId === undefined), {
    message: 'give either path (under the workspace root) or projectId (a generated project)',
  });
export type AnalyzeCodeInput = z.infer<typeof AnalyzeCodeInput>;

export const SyncTemplatesInput = z
  .object({ source: templateNameSchema.optional().describe('Default: every source') })
  .strict();
export type SyncTemplatesInput = z.infer<typeof SyncTemplatesInput>;

export const ListQuery = z
  .object({
    template: templateNameSchema.optional(),
    projectId: z.uuid().optional(),
    limit: z.number().int().min(1).max(200).optional(),
    /** nextCursor of the previous page (projects). */
    after: z.string().max(300).optional(),
  })
  .strict();

/** Parses an operation's input, or throws the validation error every edge maps to 400 / isError. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  return parseWith(schema, input ?? {}, invalidTemplateInput);
}
