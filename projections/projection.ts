import type { Transaction } from 'kysely';
import type { RecordedEvent } from '../kernel/envelope.ts';
import type { AllFilter } from '../kernel/event-store.port.ts';

/**
 * A read model fed by events. `apply` runs inside the runner's transaction, which also moves the
 * checkpoint; it must write only through `trx` and only to the physical names in `tables`, so that a
 * rebuild can run the same code into fresh tables while the live ones keep serving reads.
 *
 * `apply` should be idempotent (upserts, revision guards): the checkpoint makes each event apply
 * once, and idempotence keeps it harmless if that is ever not so.
 */
export interface Projection {
  /** Stable name; the key of its checkpoint. */
  name: string;
  /** Bump when `apply` changes what it writes: a runner finding another version rebuilds. */
  version: number;
  /** Events this projection reads from the global log. */
  filter: AllFilter;
  /** Logical names of the tables it owns (created by migrations/read-models). */
  tables: readonly string[];
  /** `tableNames` maps each logical table name to the physical table to write. */
  apply(
    // biome-ignore lint/suspicious/noExplicitAny: each projection casts to its own tables
    trx: Transaction<any>,
    event: RecordedEvent,
    tableNames: Readonly<Record<string, string>>,
  ): Promise<void>;
  /**
   * Optional: the same effect as `apply` for each event in order, in fewer statements (a rebuild
   * replays the whole log through it). The runner uses it when present.
   */
  applyBatch?(
    // biome-ignore lint/suspicious/noExplicitAny: as apply
    trx: Transaction<any>,
    events: readonly RecordedEvent[],
    tableNames: Readonly<Record<string, string>>,
  ): Promise<void>;
}

/** Applies events through `applyBatch` when the projection has one, else one by one. */
export async function applyAll(
  projection: Projection,
  // biome-ignore lint/suspicious/noExplicitAny: as apply
  trx: Transaction<any>,
  events: readonly RecordedEvent[],
  tableNames: Readonly<Record<string, string>>,
): Promise<void> {
  if (projection.applyBatch && events.length > 1) return projection.applyBatch(trx, events, tableNames);
  for (const e of events) await projection.apply(trx, e, tableNames);
}

/** The identity mapping used by the live runner. */
export function liveTableNames(projection: Projection): Record<string, string> {
  return Object.fromEntries(projection.tables.map((t) => [t, t]));
}

/** `<table>__rebuild_<n>`: the fresh table rebuild number `n` fills. */
export function rebuildTableName(table: string, n: number): string {
  const name = `${table}__rebuild_${n}`;
  // Postgres truncates identifiers at 63 bytes; two rebuilds must never meet in one truncated name.
  if (Buffer.byteLength(name) > 63) throw new Error(`table name too long for a rebuild: ${name}`);
  return name;
}

/** An event whose `apply` throws: names the event, keeps the projection's error as the cause. */
export class PoisonedEventError extends Error {
  constructor(
    readonly event: RecordedEvent,
    cause: unknown,
  ) {
    super(
      `event ${event.id} (${event.type} at ${event.position}) failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'PoisonedEventError';
  }
}
