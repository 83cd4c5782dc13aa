import { type DeploymentUseCases, makeDeploymentUseCases } from '../application/deployments/deployments.ts';
import { makeDeploymentCommands } from '../domains/deployments/index.ts';
import { getProject } from '../projections/projects/index.ts';
import type { TemplateService } from '../templates/service.ts';
import type { RoleContext } from './role-context.ts';

/**
 * The deployment use cases behind /api/v1/deployments, the deploy-server tool and the CLI. They only
 * record the request (the server name claimed): the saga, wherever the sagas run (a worker), picks
 * it up from the log, so a gateway needs no bus command for it.
 */
export function deploymentUseCases(ctx: RoleContext, templates: TemplateService): DeploymentUseCases {
  return makeDeploymentUseCases({
    deployments: makeDeploymentCommands({ store: ctx.store, registry: ctx.registry }),
    secrets: ctx.secrets,
    async project(projectId, tenant) {
      const p = await getProject(ctx.db, projectId, { tenant });
      return p && { projectId: p.projectId, destination: p.destination };
    },
    async generate(input, meta) {
      const p = await templates.generate(input, {
        actor: meta.actor,
        tenant: meta.tenant,
        credential: meta.credential,
        scope: { tenant: meta.tenant },
        correlationId: meta.correlationId,
        traceparent: meta.traceparent,
        // The deployment's command id: a retried request generates nothing twice.
        requestId: meta.commandId,
      });
      return { projectId: p.projectId, destination: p.destination, template: p.template, version: p.version };
    },
  });
}
