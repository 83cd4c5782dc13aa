export type {
  AllFilter,
  AppendResult,
  EventStore,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  StreamAppend,
  SubscribeOptions,
} from '../kernel/event-store.port.ts';
export { matchesFilter } from './all-filter.ts';
export {
  createEventStoreDbStore,
  type EventStoreDbStoreOptions,
} from './eventstoredb/eventstoredb.event-store.ts';
export {
  type AppendTestHooks,
  createPostgresEventStore,
  type HorizonStatus,
  type PostgresEventStore,
  type PostgresEventStoreOptions,
} from './postgres/postgres.event-store.ts';
