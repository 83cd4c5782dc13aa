import { z } from 'zod';
import { templateNameSchema, templateVersionSchema } from '../../kernel/template-ref.ts';

export { TEMPLATE_NAME_RE, templateNameSchema, templateVersionSchema } from '../../kernel/template-ref.ts';

/**
 * A template's manifest (`template.yaml` or `template.json` at the root of its directory): what it
 * is, and the variables it renders with. Pure schema: reading files is the engine's business
 * (templates/), deciding what to record is this domain's.
 */

/** A stack groups templates ("typescript-mcp", "node-fastify", "node-cli"). */
export const stackSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9, ".", "_" or "-"');

export const templateTagSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.:+-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9, "_", ".", ":", "+" or "-"');

export const VARIABLE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const VARIABLE_TYPES = ['string', 'number', 'integer', 'boolean'] as const;

export const variableSchema = z
  .object({
    type: z.enum(VARIABLE_TYPES, { error: 'must be one of "string", "number", "integer", "boolean"' }),
    description: z.string().max(1000).optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** A regular expression (JavaScript syntax) a string value must match in whole. */
    pattern: z
      .string()
      .max(500)
      .refine((p) => {
        try {
          new RegExp(p, 'u');
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression')
      .optional(),
    /** The allowed values, for a string, number or integer variable. */
    enum: z
      .array(z.union([z.string(), z.number()]))
      .min(1)
      .max(100)
      .optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    /** Without a default, a required variable must be given. */
    required: z.boolean().optional(),
    /** A secret is rendered but never recorded: events and read models show it redacted. */
    secret: z.boolean().optional(),
  })
  .strict();
export type TemplateVariable = z.infer<typeof variableSchema>;

export const manifestSchema = z
  .object({
    name: templateNameSchema,
    version: templateVersionSchema,
    stack: stackSchema,
    description: z.string().min(1).max(2000),
    tags: z.array(templateTagSchema).max(32).default([]),
    variables: z
      .record(z.string().regex(VARIABLE_NAME_RE, 'variable names are identifiers'), variableSchema)
      .default({}),
    /** Optional file rules, as globs relative to the template root. */
    files: z
      .object({
        /** Not part of the template (besides the manifest, .git and node_modules, always left out). */
        exclude: z.array(z.string().min(1)).max(100).optional(),
        /** Copied as they are, never rendered (binary files always are). */
        copy: z.array(z.string().min(1)).max(100).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type TemplateManifest = z.infer<typeof manifestSchema>;

/** The manifest file names, in the order they are looked for. */
export const MANIFEST_FILES = ['template.yaml', 'template.yml', 'template.json'] as const;
