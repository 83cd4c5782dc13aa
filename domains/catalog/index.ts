export type { CatalogCommand } from './commands.ts';
export {
  ApproveToolDefinition,
  ApproveToolDefinitionInput,
  ClearCatalog,
  ClearCatalogInput,
  RecordDiscovery,
  RecordDiscoveryFailure,
  RecordDiscoveryFailureInput,
  RecordDiscoveryInput,
} from './commands.ts';
export type { CatalogState, ToolPins } from './decider.ts';
export { catalogDecider, decide, evolve, initialState } from './decider.ts';
export { CatalogErrorCode } from './errors.ts';
export type {
  CapabilitiesDiscovered,
  Catalog,
  CatalogCleared,
  CatalogEvent,
  CatalogEventType,
  CatalogPrompt,
  CatalogResource,
  CatalogResourceTemplate,
  CatalogTool,
  DiscoveryFailed,
  DiscoveryRecovered,
  ToolDefinitionApproved,
  ToolDefinitionChanged,
} from './events.ts';
export {
  CATALOG_CATEGORY,
  catalogEventTypeNames,
  catalogEventTypes,
  catalogSchema,
  registerCatalogEvents,
} from './events.ts';
export type { CatalogCommandDeps, CatalogCommandResult, CatalogCommands } from './handlers.ts';
export { catalogStream, makeCatalogCommands } from './handlers.ts';
export type { ToolDefinition } from './hash.ts';
export { canonicalJson, catalogHash, toolDefinition, toolDefinitionHash } from './hash.ts';
