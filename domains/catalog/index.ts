export type { CatalogCommand } from './commands.ts';
export {
  ClearCatalog,
  ClearCatalogInput,
  RecordDiscovery,
  RecordDiscoveryFailure,
  RecordDiscoveryFailureInput,
  RecordDiscoveryInput,
} from './commands.ts';
export type { CatalogState } from './decider.ts';
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
export { canonicalJson, catalogHash } from './hash.ts';
