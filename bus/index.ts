export type {
  Bus,
  BusConsumerInfo,
  BusInfo,
  BusNames,
  Closeable,
  CommandMessage,
  ConsumeOptions,
  Consumer,
  DeliveryInfo,
  PublishSubjectOptions,
  RequestOptions,
  ServeCommandsOptions,
  ServeSubjectOptions,
  SubjectMessage,
  SubscribeSubjectOptions,
} from './bus.port.ts';
export {
  categoryToken,
  commandSubject,
  defaultBusNames,
  eventSubject,
  filterSubjects,
  prefixedSubject,
  subjectToken,
} from './bus.port.ts';
export { createInProcessBus, type InProcessBusOptions } from './in-process/in-process.bus.ts';
export { createNatsBus, type NatsBusOptions } from './nats/nats.bus.ts';
export { createInProcessLeaderLock } from './relay/in-process-leader-lock.ts';
export type { LeaderLock, Lease } from './relay/leader-lock.port.ts';
export { createPostgresLeaderLock, type PostgresLeaderLockOptions } from './relay/postgres-leader-lock.ts';
export {
  createRelay,
  type Relay,
  type RelayCheckpoint,
  type RelayOptions,
  type RelayStatus,
} from './relay/relay.ts';
