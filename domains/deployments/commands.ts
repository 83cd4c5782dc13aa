import { z } from 'zod';
import { templateNameSchema, templateVersionSchema } from '../../kernel/template-ref.ts';
import {
  type DeploymentTimeouts,
  deploymentTimeoutsSchema,
  deployServerNameSchema,
  exactVersionSchema,
  npmPackageSchema,
  runSpecSchema,
  workspacePathSchema,
} from './events.ts';

/** The timeouts a request leaves unset: a build may install from the registry, the rest is quick. */
export const DEFAULT_TIMEOUTS: DeploymentTimeouts = {
  buildMs: 600_000,
  startMs: 60_000,
  healthMs: 60_000,
  switchMs: 120_000,
  drainMs: 30_000,
};

/**
 * A deployment as a caller asks for it (REST body, MCP tool input, CLI): exactly one source.
 * Parsed once at the edge; the use case resolves the source (a project's directory, a template
 * generated first) and the domain records it.
 */
export const RequestDeploymentInput = z
  .object({
    server: deployServerNameSchema,
    source: z.union([
      z.object({ project: z.uuid() }).strict(),
      z
        .object({
          template: templateNameSchema,
          version: templateVersionSchema.optional(),
          variables: z.record(z.string(), z.unknown()).default({}),
          /** Where to generate (workspace-relative); default `deployments/<server>/<deployment>`. */
          destination: workspacePathSchema.optional(),
        })
        .strict(),
      z.object({ directory: workspacePathSchema }).strict(),
      z.object({ npm: npmPackageSchema, version: exactVersionSchema }).strict(),
    ]),
    run: runSpecSchema.optional(),
    replicas: z.number().int().min(1).max(16).default(1),
    health: z
      .object({
        expectedTools: z.array(z.string().min(1).max(128)).max(64).default([]),
        smoke: z
          .object({
            tool: z.string().min(1).max(128),
            arguments: z.record(z.string(), z.unknown()).default({}),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ expectedTools: [] }),
    timeouts: deploymentTimeoutsSchema.partial().strict().default({}),
    /** When another deployment of the server runs: wait for it (true) instead of being refused. */
    queue: z.boolean().default(false),
  })
  .strict();
export type RequestDeploymentInput = z.infer<typeof RequestDeploymentInput>;

export const StopDeploymentInput = z.object({ reason: z.string().min(1).max(500).optional() }).strict();
