export { migrateReadModels, readModelMigrations } from '../migrations/read-models/index.ts';
export type { CatalogView, ListCatalogOptions } from './catalog/index.ts';
export { catalogProjection, getServerCatalog, listCatalog } from './catalog/index.ts';
export type { Checkpoint } from './checkpoints.ts';
export { readCheckpoint } from './checkpoints.ts';
export type {
  CatalogStateTable,
  HealthStatusColumn,
  ProjectionCheckpointsTable,
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
  ToolCallStatus,
  ToolCallsTable,
} from './db.ts';
export type { HealthProbe, ServerHealthView } from './health/index.ts';
export { healthOfServers, healthProjection, recordHealthProbe, serverHealth } from './health/index.ts';
export type { Projection } from './projection.ts';
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
  listServers,
  redactTransport,
  serversProjection,
} from './servers/index.ts';
export type { ListToolCallsOptions, ToolCallPage, ToolCallView } from './tool-calls/index.ts';
export { getToolCall, listToolCalls, toolCallsProjection } from './tool-calls/index.ts';
export type { ServerStats, ToolStats } from './tool-stats/index.ts';
export { serverStats } from './tool-stats/index.ts';

import { catalogProjection } from './catalog/index.ts';
import { healthProjection } from './health/index.ts';
import { serversProjection } from './servers/index.ts';
import { toolCallsProjection } from './tool-calls/index.ts';

/**
 * Every projection of the system, for the composition root. Tool statistics have no projection of
 * their own: they are computed on read from `tool_calls` (see tool-stats/tool-stats.queries.ts).
 */
export const allProjections = [
  serversProjection,
  catalogProjection,
  healthProjection,
  toolCallsProjection,
] as const;
