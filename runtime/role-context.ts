import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Bus } from '../bus/bus.port.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../kernel/event-types.ts';
import type { Logger } from '../kernel/logger.ts';
import type { PersonalDataVault } from '../kernel/personal-data.ts';
import type { SecretBox } from '../kernel/secrets.ts';
import type { ReadModelTables } from '../projections/db.ts';
import type { Config } from './config.ts';

/** What every role of a process is built from: the composition root makes one per process. */
export interface RoleContext {
  config: Config;
  logger: Logger;
  store: EventStore;
  bus: Bus;
  db: Kysely<ReadModelTables>;
  registry: EventTypeRegistry;
  secrets: SecretBox;
  /** Seals and opens principals' personal data; erasing a principal destroys its keys. */
  vault: PersonalDataVault;
  /** The process's Prometheus registry: every role adds its series to it. */
  metrics: Registry;
  onClose: (name: string, close: () => Promise<unknown>) => void;
}
