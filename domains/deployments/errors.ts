import { AppError } from '../../kernel/errors.ts';
import type { DeploymentStep } from './events.ts';

/** Stable codes of the deployments domain. */
export const DeploymentErrorCode = {
  NotFound: 'DEPLOYMENT.NOT_FOUND',
  InProgress: 'DEPLOYMENT.IN_PROGRESS',
  Finished: 'DEPLOYMENT.FINISHED',
  StepOutOfOrder: 'DEPLOYMENT.STEP_OUT_OF_ORDER',
  RevisionNotFound: 'DEPLOYMENT.REVISION_NOT_FOUND',
  InvalidSource: 'DEPLOYMENT.INVALID_SOURCE',
} as const;

export function deploymentNotFound(id?: string): AppError {
  return new AppError(
    'not_found',
    DeploymentErrorCode.NotFound,
    id ? `no deployment ${id}` : 'no such deployment',
    {
      ...(id && { deploymentId: id }),
    },
  );
}

export function deploymentInProgress(serverName: string, active: string): AppError {
  return new AppError(
    'conflict',
    DeploymentErrorCode.InProgress,
    `server ${serverName} is being deployed by ${active}: one deployment per server at a time`,
    { serverName, deploymentId: active },
  );
}

export function deploymentAlreadyFinished(): AppError {
  return new AppError('conflict', DeploymentErrorCode.Finished, 'the deployment has already finished');
}

export function stepOutOfOrder(step: DeploymentStep): AppError {
  return new AppError('conflict', DeploymentErrorCode.StepOutOfOrder, `step ${step} is not the next one`);
}

export function revisionNotFound(serverName: string, revision: number): AppError {
  return new AppError(
    'not_found',
    DeploymentErrorCode.RevisionNotFound,
    `server ${serverName} has no revision ${revision} that went live`,
    { serverName, revision },
  );
}

export function invalidDeploymentSource(message: string): AppError {
  return new AppError('validation', DeploymentErrorCode.InvalidSource, message);
}
