import type { ColumnType, Kysely } from 'kysely';
import type { SecretRef } from '../kernel/secrets.ts';

/**
 * The read-model tables (migrations/read-models), as Kysely sees them. int8 columns arrive as
 * decimal strings on pg and PGlite alike; jsonb arrives parsed and is written as a JSON string.
 */

type Int8 = ColumnType<string, string | bigint, string | bigint>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface ProjectionCheckpointsTable {
  name: string;
  /** Version of the projection's code that built the tables; a different version asks for a rebuild. */
  version: number;
  /** Global position of the last event applied. Only ever moved by compare-and-set. */
  position: Int8;
  /** Rebuilds started so far; numbers the fresh tables of the next one (`<table>__rebuild_<n>`). */
  rebuilds: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  failed_event_id: string | null;
  failed_position: ColumnType<string | null, string | bigint | null | undefined, string | bigint | null>;
  updated_at: Timestamp;
}

/** A secret as the read side shows it: hidden, or the reference naming where it lives. */
export type RedactedSecret = '[redacted]' | SecretRef;

export type RedactedTransport =
  | { type: 'stdio'; command: string; args: string[]; env: Record<string, RedactedSecret>; cwd?: string }
  | { type: 'streamable-http'; url: string; headers: Record<string, RedactedSecret> }
  | { type: 'sse'; url: string; headers: Record<string, RedactedSecret> };

export interface ServerSettingsView {
  connectTimeoutMs?: number;
  callTimeoutMs?: number;
  healthIntervalMs?: number;
  replicas?: number;
  extraUrls?: string[];
  loadBalancing?: 'round-robin' | 'least-connections' | 'weighted';
  weights?: number[];
}

export interface ServersTable {
  id: string;
  name: string;
  description: string | null;
  transport_type: RedactedTransport['type'];
  /** Secrets redacted: env and header names kept, values never stored here, not even sealed. */
  transport: Json<RedactedTransport>;
  tags: string[];
  enabled: boolean;
  status: 'active' | 'removed';
  settings: Json<ServerSettingsView>;
  /** Revision of the server stream this row reflects. */
  revision: Int8;
  /** Global position of the event this row reflects. */
  position: Int8;
  created_at: Timestamp;
  updated_at: Timestamp;
  removed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface ReadModelTables {
  projection_checkpoints: ProjectionCheckpointsTable;
  servers: ServersTable;
}

export type ReadModelDb = Kysely<ReadModelTables>;
