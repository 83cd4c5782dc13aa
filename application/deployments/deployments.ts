import {
  DEFAULT_TIMEOUTS,
  type DeploymentCommands,
  type DeploymentSource,
  deploymentNotFound,
  invalidDeploymentSource,
  type RequestDeploymentInput,
} from '../../domains/deployments/index.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { uuidV5 } from '../../kernel/ids.ts';
import { redactArguments } from '../../kernel/redaction.ts';
import type { SecretBox } from '../../kernel/secrets.ts';

/** A generated project as the deployment needs it: where it is in the workspace. */
export interface ProjectLocation {
  projectId: string;
  /** Workspace-relative, "/" separators. */
  destination: string;
}

export interface DeploymentUseCaseDeps {
  deployments: DeploymentCommands;
  /** Seals the smoke call's arguments: the log keeps them sealed, and a redacted copy to show. */
  secrets: SecretBox;
  /** A generated project of the tenant (undefined: none, or another tenant's). */
  project(projectId: string, tenant: string | undefined): Promise<ProjectLocation | undefined>;
  /** Generates a template into the workspace, as generate-project does, for the actor. */
  generate(
    input: {
      template: string;
      version?: string | undefined;
      variables: Record<string, unknown>;
      destination: string;
    },
    meta: CommandMeta,
  ): Promise<ProjectLocation & { template: string; version: string }>;
}

export interface DeploymentAccepted {
  deploymentId: string;
  stream: string;
  revision: bigint;
  position: bigint | undefined;
  duplicate: boolean;
}

/**
 * The deployment use cases, one path for REST, the MCP tool and the CLI: the source resolved (a
 * project's directory looked up in the caller's tenant, a template generated first), defaults
 * applied, the request recorded with the server name claimed. The deployment id derives from the
 * command id, so a retried request (same Idempotency-Key) answers the same deployment.
 */
export function makeDeploymentUseCases(deps: DeploymentUseCaseDeps) {
  const idFor = (meta: CommandMeta) => uuidV5(`deployment/${meta.commandId}`);

  async function resolveSource(
    input: RequestDeploymentInput,
    deploymentId: string,
    meta: CommandMeta,
  ): Promise<DeploymentSource> {
    const s = input.source;
    if ('project' in s) {
      const found = await deps.project(s.project, meta.tenant);
      if (!found) throw invalidDeploymentSource(`no project ${s.project}`);
      return { kind: 'project', projectId: found.projectId, path: found.destination };
    }
    if ('template' in s) {
      const generated = await deps.generate(
        {
          template: s.template,
          version: s.version,
          variables: s.variables,
          destination: s.destination ?? `deployments/${input.server}/${deploymentId}`,
        },
        meta,
      );
      return {
        kind: 'template',
        template: generated.template,
        version: generated.version,
        projectId: generated.projectId,
        path: generated.destination,
      };
    }
    if ('directory' in s) return { kind: 'directory', path: s.directory };
    return { kind: 'npm', package: s.npm, version: s.version };
  }

  return {
    async request(input: RequestDeploymentInput, meta: CommandMeta): Promise<DeploymentAccepted> {
      const deploymentId = idFor(meta);
      const source = await resolveSource(input, deploymentId, meta);
      const r = await deps.deployments.request(
        {
          deploymentId,
          serverName: input.server,
          source,
          run: input.run ?? null,
          replicas: input.replicas,
          health: {
            expectedTools: input.health.expectedTools,
            smoke: input.health.smoke
              ? {
                  tool: input.health.smoke.tool,
                  arguments: redactArguments(input.health.smoke.arguments),
                  sealed: deps.secrets.encrypt(JSON.stringify(input.health.smoke.arguments)),
                }
              : null,
          },
          timeouts: { ...DEFAULT_TIMEOUTS, ...input.timeouts },
          requestedAt: meta.issuedAt.toISOString(),
          queued: input.queue,
        },
        meta,
      );
      return { deploymentId, ...r };
    },

    /**
     * Brings back the revision a successful deployment put live, through the same saga (the build
     * is reused, not rebuilt): a new deployment of the same server.
     */
    async rollback(toDeploymentId: string, meta: CommandMeta): Promise<DeploymentAccepted> {
      const earlier = await deps.deployments.state(toDeploymentId);
      if (
        earlier.status === 'none' ||
        (meta.tenant !== undefined && earlier.request.tenant !== meta.tenant)
      ) {
        throw deploymentNotFound(toDeploymentId);
      }
      if (earlier.status !== 'succeeded') {
        throw invalidDeploymentSource(
          `deployment ${toDeploymentId} did not go live (${earlier.status}): nothing to roll back to`,
        );
      }
      const deploymentId = idFor(meta);
      const { request } = earlier;
      const r = await deps.deployments.request(
        {
          deploymentId,
          serverName: request.serverName,
          source: { kind: 'revision', deploymentId: toDeploymentId, revision: earlier.revision },
          run: request.run,
          replicas: request.replicas,
          health: request.health,
          timeouts: request.timeouts,
          requestedAt: meta.issuedAt.toISOString(),
          queued: false,
        },
        meta,
      );
      return { deploymentId, ...r };
    },

    /** Stops a running deployment: what it did is undone and it ends rolled back. */
    async stop(deploymentId: string, reason: string | undefined, meta: CommandMeta) {
      const s = await deps.deployments.state(deploymentId);
      if (s.status === 'none' || (meta.tenant !== undefined && s.request.tenant !== meta.tenant)) {
        throw deploymentNotFound(deploymentId);
      }
      return deps.deployments.stop(deploymentId, reason ?? `stopped by ${meta.actor}`, meta);
    },
  };
}

export type DeploymentUseCases = ReturnType<typeof makeDeploymentUseCases>;
