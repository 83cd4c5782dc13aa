export { deploymentsProjection } from './deployments.projection.ts';
export type {
  DeploymentDetail,
  DeploymentPage,
  DeploymentSummary,
  ListDeploymentsOptions,
} from './deployments.queries.ts';
export { DEPLOYMENT_STATUSES, getDeployment, listDeployments } from './deployments.queries.ts';
