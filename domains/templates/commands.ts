import { z } from 'zod';
import type {
  TemplateRemoved,
  TemplateSourceRegistered,
  TemplateSourceRemoved,
  TemplateSourceSynced,
  TemplateSourceSyncFailed,
  TemplateValidated,
  TemplateVersionPublished,
} from './events.ts';
import { SOURCE_KINDS, sourceNameSchema } from './events.ts';

// ---------------------------------------------------------------------------------------------
// Inputs from users (REST, MCP, CLI): what a template source registration may say.
// ---------------------------------------------------------------------------------------------

const optionLike = (s: string) => !s.startsWith('-');

export const RegisterTemplateSourceInput = z
  .object({
    name: sourceNameSchema,
    kind: z.enum(SOURCE_KINDS, { error: 'must be "directory" or "git"' }),
    location: z.string().min(1).max(2000).refine(optionLike, 'must not start with "-"'),
    ref: z
      .string()
      .min(1)
      .max(250)
      .regex(/^[A-Za-z0-9._/-]+$/, 'must be a branch or tag name')
      .refine(optionLike, 'must not start with "-"')
      .optional(),
    intervalMs: z
      .number()
      .int()
      .min(10_000)
      .max(7 * 86_400_000)
      .optional(),
    /** Change an existing source's location, ref or interval. */
    replace: z.boolean().optional(),
  })
  .strict()
  .refine((s) => s.kind === 'git' || s.ref === undefined, {
    message: 'ref is for git sources only',
    path: ['ref'],
  });
export type RegisterTemplateSourceInput = z.input<typeof RegisterTemplateSourceInput>;

// ---------------------------------------------------------------------------------------------
// Commands: what the deciders see. The application layer has checked and timed them.
// ---------------------------------------------------------------------------------------------

export type PublishTemplateVersion = {
  type: 'PublishTemplateVersion';
  data: TemplateVersionPublished['data'];
};
export type RemoveTemplate = { type: 'RemoveTemplate'; data: TemplateRemoved['data'] };
export type TemplateCommand = PublishTemplateVersion | RemoveTemplate;

export type RegisterTemplateSource = {
  type: 'RegisterTemplateSource';
  data: TemplateSourceRegistered['data'] & { replace: boolean };
};
export type RemoveTemplateSource = { type: 'RemoveTemplateSource'; data: TemplateSourceRemoved['data'] };
export type RecordSourceSynced = { type: 'RecordSourceSynced'; data: TemplateSourceSynced['data'] };
export type RecordSourceSyncFailed = {
  type: 'RecordSourceSyncFailed';
  data: TemplateSourceSyncFailed['data'];
};
export type TemplateSourceCommand =
  | RegisterTemplateSource
  | RemoveTemplateSource
  | RecordSourceSynced
  | RecordSourceSyncFailed;

export type RecordValidation = { type: 'RecordValidation'; data: TemplateValidated['data'] };
