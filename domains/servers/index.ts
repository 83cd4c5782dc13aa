export type { ServerCommand } from './commands.ts';
export {
  DisableServer,
  DisableServerInput,
  EnableServer,
  KEEP_CURRENT_SECRET,
  parseRegistration,
  parseServerPatch,
  RefreshServer,
  RegisterServer,
  RegisterServerInput,
  RemoveServer,
  SecretInput,
  ServerSettingsInput,
  TransportInput,
  UpdateServer,
  UpdateServerInput,
} from './commands.ts';
export type { ServerConfig, ServerState } from './decider.ts';
export { decide, evolve, initialState, serverDecider } from './decider.ts';
export { ServerErrorCode } from './errors.ts';
export type {
  LoadBalancing,
  ServerDisabled,
  ServerEnabled,
  ServerEvent,
  ServerEventType,
  ServerNameEvent,
  ServerNameReleased,
  ServerNameReserved,
  ServerRefreshRequested,
  ServerRegistered,
  ServerRemoved,
  ServerSettings,
  ServerUpdated,
  StoredTransport,
  TransportType,
} from './events.ts';
export {
  LOAD_BALANCING,
  registerServerEvents,
  SERVER_CATEGORY,
  SERVER_NAME_CATEGORY,
  SERVER_NAME_RE,
  serverEventTypeNames,
  serverEventTypes,
  serverNameSchema,
} from './events.ts';
export type { ServerCommandDeps, ServerCommandResult, ServerCommands } from './handlers.ts';
export { makeServerCommands, serverIdFor, serverNameStream, serverStream } from './handlers.ts';
export type { ServedTools, SettingsIssue, TransportShape } from './settings.ts';
export {
  applyToolOverrides,
  instanceCount,
  MAX_INSTANCES,
  settingsIssues,
  upstreamToolName,
} from './settings.ts';
