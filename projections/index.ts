export { migrateReadModels, readModelMigrations } from '../migrations/read-models/index.ts';
export type { Checkpoint } from './checkpoints.ts';
export { readCheckpoint } from './checkpoints.ts';
export type {
  ProjectionCheckpointsTable,
  ReadModelDb,
  ReadModelTables,
  RedactedSecret,
  RedactedTransport,
  ServerSettingsView,
  ServersTable,
} from './db.ts';
export type { Projection } from './projection.ts';
export type {
  ProjectionRunner,
  ProjectionRunnerOptions,
  ProjectionState,
  ProjectionStatus,
  RebuildResult,
} from './runner.ts';
export { createProjectionRunner } from './runner.ts';
export type { ListServersOptions, ServerPage, ServerView } from './servers/index.ts';
export {
  getServer,
  getServerByName,
  listServers,
  redactTransport,
  serversProjection,
} from './servers/index.ts';

import { serversProjection } from './servers/index.ts';

/** Every projection of the system, for the composition root. */
export const allProjections = [serversProjection] as const;
