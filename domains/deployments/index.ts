export { DEFAULT_TIMEOUTS, RequestDeploymentInput, StopDeploymentInput } from './commands.ts';
export type {
  DeploymentCommand,
  DeploymentState,
  DeployTargetState,
  LiveRevision,
  Request,
} from './decider.ts';
export { deploymentDecider, deployTargetDecider, nextStep, tail } from './decider.ts';
export { DeploymentErrorCode, deploymentNotFound, invalidDeploymentSource } from './errors.ts';
export type {
  DeploymentEvent,
  DeploymentSource,
  DeploymentStep,
  DeploymentTimeouts,
  DeployTargetEvent,
  HealthGate,
  RunSpec,
  StepResult,
} from './events.ts';
export {
  DEPLOY_TARGET_CATEGORY,
  DEPLOYMENT_CATEGORY,
  deploymentEventTypeNames,
  deploymentEventTypes,
  deploymentSteps,
  MAX_STEP_LOG_CHARS,
  registerDeploymentEvents,
} from './events.ts';
export type { DeploymentCommandDeps, DeploymentCommands, DeploymentRequestInput } from './handlers.ts';
export { deploymentStream, deployTarget, deployTargetStream, makeDeploymentCommands } from './handlers.ts';
