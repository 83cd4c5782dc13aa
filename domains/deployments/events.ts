import { z } from 'zod';
import type { EventTypeDefinition, EventTypeRegistry } from '../../kernel/event-types.ts';
import { recordedOwner, recordedTenant } from '../../kernel/ownership.ts';
import { sealedSecretSchema } from '../../kernel/secrets.ts';
import { templateNameSchema, templateVersionSchema } from '../../kernel/template-ref.ts';

/** `deployment-<uuid>`: one deployment's saga (its request, each step, its outcome). */
export const DEPLOYMENT_CATEGORY = 'deployment';
/**
 * `deploytarget-<server name>`: which deployment holds a server name now (one at a time) and the
 * revisions that went live under it, so a rollback can name one.
 */
export const DEPLOY_TARGET_CATEGORY = 'deploytarget';

/** The steps, in order. Each is time-limited, and each that leaves something behind is compensated. */
export const deploymentSteps = ['build', 'start', 'health', 'switch', 'drain'] as const;
export type DeploymentStep = (typeof deploymentSteps)[number];

/** A server name as the registry takes it (domains/servers keeps the same rule). */
export const deployServerNameSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,62}$/,
    'must be 1-63 characters of a-z, 0-9, "_" or "-", starting with a letter or digit',
  );

/** A path relative to the workspace root, with "/" separators, never leaving it. */
export const workspacePathSchema = z
  .string()
  .min(1)
  .max(500)
  .refine(
    (p) => !p.startsWith('/') && !p.includes('\\') && !p.split('/').some((s) => s === '..' || s === ''),
    'must be a relative path inside the workspace ("/" separators, no "..", no empty segment)',
  );

/** An npm package name (scoped or not), as the registry allows them. */
export const npmPackageSchema = z
  .string()
  .max(214)
  .regex(/^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/, 'must be an npm package name');

/** An exact version: a deployment is reproducible, so no ranges and no tags. */
export const exactVersionSchema = z
  .string()
  .regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/, 'must be an exact version (1.2.3)');

/** What is built. A template is generated into the workspace first and deployed as that project. */
export const deploymentSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('project'), projectId: z.uuid(), path: workspacePathSchema }),
  z.object({
    kind: z.literal('template'),
    template: templateNameSchema,
    version: templateVersionSchema,
    projectId: z.uuid(),
    path: workspacePathSchema,
  }),
  z.object({ kind: z.literal('directory'), path: workspacePathSchema }),
  z.object({ kind: z.literal('npm'), package: npmPackageSchema, version: exactVersionSchema }),
  /** A rollback: the build of an earlier successful deployment of the same server, not rebuilt. */
  z.object({ kind: z.literal('revision'), deploymentId: z.uuid(), revision: z.number().int().min(1) }),
]);
export type DeploymentSource = z.infer<typeof deploymentSourceSchema>;

const isoDate = z.iso.datetime({ offset: true });

export const deploymentTimeoutsSchema = z.object({
  buildMs: z.number().int().min(1_000).max(3_600_000),
  startMs: z.number().int().min(1_000).max(600_000),
  healthMs: z.number().int().min(1_000).max(600_000),
  switchMs: z.number().int().min(1_000).max(600_000),
  drainMs: z.number().int().min(0).max(600_000),
});
export type DeploymentTimeouts = z.infer<typeof deploymentTimeoutsSchema>;

export const healthGateSchema = z.object({
  /** Tools the new revision must list (its own names). */
  expectedTools: z.array(z.string().min(1).max(128)).max(64),
  /** An optional call that must succeed (not isError) before traffic moves. */
  smoke: z
    .object({
      tool: z.string().min(1).max(128),
      /** The arguments as the log may show them: credential-looking values redacted. */
      arguments: z.record(z.string(), z.unknown()),
      /** The arguments as given, sealed (they may carry a credential the call needs). */
      sealed: sealedSecretSchema.optional(),
    })
    .nullable(),
});
export type HealthGate = z.infer<typeof healthGateSchema>;

/** How the built revision is run: a command and its arguments, relative paths inside the build. */
export const runSpecSchema = z.object({
  command: z.string().min(1).max(500),
  args: z.array(z.string().max(2_000)).max(64),
});
export type RunSpec = z.infer<typeof runSpecSchema>;

/** The stdio transport a server had before the switch (for compensation): no env, never a secret. */
export const previousTransportSchema = z.object({
  command: z.string(),
  args: z.array(z.string()),
  cwd: z.string().optional(),
});

export const deploymentRequestedSchema = z.object({
  deploymentId: z.uuid(),
  serverName: deployServerNameSchema,
  source: deploymentSourceSchema,
  /** A command to run instead of the package's own entry (its bin, else its main). */
  run: runSpecSchema.nullable(),
  replicas: z.number().int().min(1).max(16),
  health: healthGateSchema,
  timeouts: deploymentTimeoutsSchema,
  tenant: recordedTenant,
  owner: recordedOwner,
  requestedAt: isoDate,
  /** Asked to wait its turn behind a deployment of the same server (it starts when that one ends). */
  queued: z.boolean().default(false),
});

/** A queued deployment's turn came: the server name is now its own. */
export const deploymentDequeuedSchema = z.object({ deploymentId: z.uuid(), at: isoDate });

/** A step began; it must end before `deadline` (the scheduled timeout input). */
export const deploymentStepStartedSchema = z.object({
  deploymentId: z.uuid(),
  step: z.enum(deploymentSteps),
  deadline: isoDate,
  at: isoDate,
});

/** What a step leaves for the later ones and for compensation. */
export const stepResultSchema = z.object({
  /** build: the directory the revision was built in (absolute, on the deployment volume). */
  dir: z.string().optional(),
  /** build: how the revision runs. */
  command: z.string().optional(),
  args: z.array(z.string()).optional(),
  cwd: z.string().optional(),
  /** start / health: the tools the new revision listed. */
  tools: z.array(z.string()).optional(),
  /** switch: the server the name points at, whether the deployment registered it, and how it ran before. */
  serverId: z.uuid().optional(),
  registered: z.boolean().optional(),
  serverRevision: z.string().optional(),
  previous: previousTransportSchema.nullable().optional(),
});
export type StepResult = z.infer<typeof stepResultSchema>;

/** The most of a step's output a deployment keeps (its tail). */
export const MAX_STEP_LOG_CHARS = 16_384;

export const deploymentStepCompletedSchema = z.object({
  deploymentId: z.uuid(),
  step: z.enum(deploymentSteps),
  durationMs: z.number().int().min(0),
  log: z.string().max(MAX_STEP_LOG_CHARS),
  result: stepResultSchema,
  at: isoDate,
});

export const deploymentStepFailedSchema = z.object({
  deploymentId: z.uuid(),
  step: z.enum(deploymentSteps),
  durationMs: z.number().int().min(0),
  reason: z.string().max(2_000),
  log: z.string().max(MAX_STEP_LOG_CHARS),
  /** What the step did before it failed, for its compensation (a switch that reached the registry). */
  result: stepResultSchema,
  at: isoDate,
});

export const deploymentStopRequestedSchema = z.object({
  deploymentId: z.uuid(),
  reason: z.string().max(500),
  at: isoDate,
});

/** One step undone (in reverse order), after a failure or a stop. */
export const deploymentStepCompensatedSchema = z.object({
  deploymentId: z.uuid(),
  step: z.enum(deploymentSteps),
  note: z.string().max(2_000),
  at: isoDate,
});

export const deploymentSucceededSchema = z.object({
  deploymentId: z.uuid(),
  serverName: deployServerNameSchema,
  serverId: z.uuid(),
  /** The server name's revision number (1 for its first deployment). */
  revision: z.number().int().min(1),
  durationMs: z.number().int().min(0),
  at: isoDate,
});

export const deploymentRolledBackSchema = z.object({
  deploymentId: z.uuid(),
  serverName: deployServerNameSchema,
  failedStep: z.enum(deploymentSteps),
  reason: z.string().max(2_000),
  durationMs: z.number().int().min(0),
  at: isoDate,
});

export const deploymentClaimedSchema = z.object({
  serverName: deployServerNameSchema,
  deploymentId: z.uuid(),
  at: isoDate,
});

/** A deployment waits for the one holding the server name (it asked to be queued). */
export const deploymentQueuedSchema = z.object({
  serverName: deployServerNameSchema,
  deploymentId: z.uuid(),
  at: isoDate,
});

export const deploymentReleasedSchema = z.object({
  serverName: deployServerNameSchema,
  deploymentId: z.uuid(),
  outcome: z.enum(['succeeded', 'rolled-back']),
  /** The revision that went live, when it succeeded. */
  revision: z.number().int().min(1).nullable(),
  at: isoDate,
});

type Ev<T extends string, S extends z.ZodType> = { type: T; data: z.infer<S> };
export type DeploymentRequested = Ev<'DeploymentRequested', typeof deploymentRequestedSchema>;
export type DeploymentDequeued = Ev<'DeploymentDequeued', typeof deploymentDequeuedSchema>;
export type DeploymentStepStarted = Ev<'DeploymentStepStarted', typeof deploymentStepStartedSchema>;
export type DeploymentStepCompleted = Ev<'DeploymentStepCompleted', typeof deploymentStepCompletedSchema>;
export type DeploymentStepFailed = Ev<'DeploymentStepFailed', typeof deploymentStepFailedSchema>;
export type DeploymentStopRequested = Ev<'DeploymentStopRequested', typeof deploymentStopRequestedSchema>;
export type DeploymentStepCompensated = Ev<
  'DeploymentStepCompensated',
  typeof deploymentStepCompensatedSchema
>;
export type DeploymentSucceeded = Ev<'DeploymentSucceeded', typeof deploymentSucceededSchema>;
export type DeploymentRolledBack = Ev<'DeploymentRolledBack', typeof deploymentRolledBackSchema>;
export type DeploymentEvent =
  | DeploymentRequested
  | DeploymentDequeued
  | DeploymentStepStarted
  | DeploymentStepCompleted
  | DeploymentStepFailed
  | DeploymentStopRequested
  | DeploymentStepCompensated
  | DeploymentSucceeded
  | DeploymentRolledBack;

export type DeploymentClaimed = Ev<'DeploymentClaimed', typeof deploymentClaimedSchema>;
export type DeploymentQueued = Ev<'DeploymentQueued', typeof deploymentQueuedSchema>;
export type DeploymentReleased = Ev<'DeploymentReleased', typeof deploymentReleasedSchema>;
export type DeployTargetEvent = DeploymentClaimed | DeploymentQueued | DeploymentReleased;

export const deploymentEventTypes: readonly EventTypeDefinition[] = [
  { type: 'DeploymentRequested', schemaVersion: 1, schema: deploymentRequestedSchema },
  { type: 'DeploymentDequeued', schemaVersion: 1, schema: deploymentDequeuedSchema },
  { type: 'DeploymentStepStarted', schemaVersion: 1, schema: deploymentStepStartedSchema },
  { type: 'DeploymentStepCompleted', schemaVersion: 1, schema: deploymentStepCompletedSchema },
  { type: 'DeploymentStepFailed', schemaVersion: 1, schema: deploymentStepFailedSchema },
  { type: 'DeploymentStopRequested', schemaVersion: 1, schema: deploymentStopRequestedSchema },
  { type: 'DeploymentStepCompensated', schemaVersion: 1, schema: deploymentStepCompensatedSchema },
  { type: 'DeploymentSucceeded', schemaVersion: 1, schema: deploymentSucceededSchema },
  { type: 'DeploymentRolledBack', schemaVersion: 1, schema: deploymentRolledBackSchema },
  { type: 'DeploymentClaimed', schemaVersion: 1, schema: deploymentClaimedSchema },
  { type: 'DeploymentQueued', schemaVersion: 1, schema: deploymentQueuedSchema },
  { type: 'DeploymentReleased', schemaVersion: 1, schema: deploymentReleasedSchema },
];

export const deploymentEventTypeNames = deploymentEventTypes.map((d) => d.type);

export function registerDeploymentEvents(registry: EventTypeRegistry): EventTypeRegistry {
  return registry.register(...deploymentEventTypes);
}
