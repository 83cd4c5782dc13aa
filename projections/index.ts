export { migrateReadModels, readModelMigrations } from '../migrations/read-models/index.ts';
export type { CatalogView, ListCatalogOptions } from './catalog/index.ts';
export { catalogProjection, getServerCatalog, listCatalog } from './catalog/index.ts';
export type { Checkpoint } from './checkpoints.ts';
export { readCheckpoint } from './checkpoints.ts';
export type {
  AnalysisComplexity,
  AnalysisLanguage,
  AnalysisSkipped,
  AnalysisTotals,
  CatalogStateTable,
  CodeAnalysesTable,
  DeploymentStatusColumn,
  DeploymentStepView,
  DeploymentsTable,
  HealthStatusColumn,
  ProjectionCheckpointsTable,
  ProjectsTable,
  ReadModelDb,
  ReadModelTables,
  RedactedSecret,
  RedactedTransport,
  ServerHealthProbesTable,
  ServerHealthTable,
  ServerPromptsTable,
  ServerResourcesTable,
  ServerResourceTemplatesTable,
  ServerSettingsView,
  ServersTable,
  ServerToolsTable,
  SourceCheckOutcome,
  TemplateBlobsTable,
  TemplateSourceChecksTable,
  TemplateSourceStatus,
  TemplateSourcesTable,
  TemplatesTable,
  TemplateValidationsTable,
  TemplateVersionsTable,
  ToolCallStatus,
  ToolCallsTable,
} from './db.ts';
export type {
  DeploymentDetail,
  DeploymentPage,
  DeploymentSummary,
  ListDeploymentsOptions,
} from './deployments/index.ts';
export {
  DEPLOYMENT_STATUSES,
  deploymentsProjection,
  getDeployment,
  listDeployments,
} from './deployments/index.ts';
export type { HealthProbe, ServerHealthView } from './health/index.ts';
export { healthOfServers, healthProjection, recordHealthProbe, serverHealth } from './health/index.ts';
export type { Projection } from './projection.ts';
export type {
  AnalysisView,
  ListAnalysesOptions,
  ListProjectsOptions,
  ProjectDetail,
  ProjectPage,
  ProjectView,
} from './projects/index.ts';
export { getAnalysis, getProject, listAnalyses, listProjects, projectsProjection } from './projects/index.ts';
export type { ProjectionQuarantine, ProjectionQuarantineDeps } from './quarantine.ts';
export { makeProjectionQuarantine } from './quarantine.ts';
export type { QuarantinedEvent } from './quarantine-book.ts';
export type {
  ProjectionRunner,
  ProjectionRunnerOptions,
  ProjectionState,
  ProjectionStatus,
  RebuildResult,
} from './runner.ts';
export { createProjectionRunner } from './runner.ts';
export type { ListServersOptions, ServerDetailView, ServerPage, ServerView } from './servers/index.ts';
export {
  getServer,
  getServerByName,
  listAllServers,
  listServers,
  redactTransport,
  serversProjection,
} from './servers/index.ts';
export type {
  ListValidationsOptions,
  SearchTemplatesOptions,
  SourceCheck,
  StackView,
  TemplateDetail,
  TemplateFileView,
  TemplateSourceView,
  TemplateSummary,
  TemplateTreeDirectory,
  TemplateTreeFile,
  TemplateTreeNode,
  TemplateValidationView,
  TemplateVariableView,
  TemplateVersionDetail,
  TemplateVersionSummary,
} from './templates/index.ts';
export {
  fileTree,
  getTemplate,
  getTemplateSource,
  getTemplateVersion,
  getValidation,
  listStacks,
  listTemplateSources,
  listValidations,
  prefixTsQuery,
  recordSourceCheck,
  searchTemplates,
  templatesProjection,
} from './templates/index.ts';
export type { TenantScope } from './tenant-scope.ts';
export type { ListToolCallsOptions, ToolCallPage, ToolCallView } from './tool-calls/index.ts';
export { getToolCall, listToolCalls, toolCallsProjection } from './tool-calls/index.ts';
export type { ServerStats, ToolStats } from './tool-stats/index.ts';
export { serverStats } from './tool-stats/index.ts';
export type { ToolsetView } from './toolsets/index.ts';
export { getToolset, listToolsets, toolsetsProjection } from './toolsets/index.ts';

import { catalogProjection } from './catalog/index.ts';
import { deploymentsProjection } from './deployments/index.ts';
import { healthProjection } from './health/index.ts';
import { projectsProjection } from './projects/index.ts';
import { serversProjection } from './servers/index.ts';
import { templatesProjection } from './templates/index.ts';
import { toolCallsProjection } from './tool-calls/index.ts';
import { toolsetsProjection } from './toolsets/index.ts';

/**
 * Every projection of the system, for the composition root. Tool statistics have no projection of
 * their own: they are computed on read from `tool_calls` (see tool-stats/tool-stats.queries.ts).
 */
export const allProjections = [
  serversProjection,
  catalogProjection,
  healthProjection,
  toolCallsProjection,
  templatesProjection,
  projectsProjection,
  toolsetsProjection,
  deploymentsProjection,
] as const;
