import type { Decider } from '../../kernel/decider.ts';
import type { CatalogCommand, ClearCatalog, RecordDiscovery, RecordDiscoveryFailure } from './commands.ts';
import type { CatalogEvent } from './events.ts';

/**
 * A server's catalog as far as deciding goes: the hash of the last catalog recorded and the server
 * revision it was discovered at, and whether the latest attempt failed. The catalog itself lives in
 * the events (and the read model); nothing here needs it.
 */
export type CatalogState =
  | { status: 'undiscovered'; failing: boolean }
  | { status: 'discovered'; hash: string; serverRevision: number; failing: boolean }
  // Cleared: discoveries at or below `serverRevision` are stale; all of them when it is null (final).
  | { status: 'cleared'; serverRevision: number | null };

export const initialState: CatalogState = { status: 'undiscovered', failing: false };

/**
 * Records what a discovery found. Only a change is an event: the same catalog again appends
 * nothing (or DiscoveryRecovered, once, after failures). Results that arrive late — against an
 * older server revision than the one recorded, or after the catalog was cleared — append nothing.
 */
export function decide(command: CatalogCommand, state: CatalogState): CatalogEvent[] {
  switch (command.type) {
    case 'RecordDiscovery':
      return recordDiscovery(command, state);
    case 'RecordDiscoveryFailure':
      return recordFailure(command, state);
    case 'ClearCatalog':
      return clear(command, state);
    default: {
      const _: never = command;
      return _;
    }
  }
}

export function evolve(state: CatalogState, event: CatalogEvent): CatalogState {
  switch (event.type) {
    case 'CapabilitiesDiscovered':
    case 'DiscoveryRecovered':
      return {
        status: 'discovered',
        hash: event.data.hash,
        serverRevision: Math.max(
          event.data.serverRevision,
          state.status === 'discovered' ? state.serverRevision : 0,
        ),
        failing: false,
      };
    case 'DiscoveryFailed':
      return state.status === 'cleared' ? state : { ...state, failing: true };
    case 'CatalogCleared':
      return { status: 'cleared', serverRevision: event.data.serverRevision ?? null };
    default: {
      const _: never = event;
      return state;
    }
  }
}

export const catalogDecider: Decider<CatalogCommand, CatalogEvent, CatalogState> = {
  initialState,
  decide,
  evolve,
};

/** True when a result for `serverRevision` is older than what the catalog already reflects. */
function stale(state: CatalogState, serverRevision: number | undefined): boolean {
  switch (state.status) {
    case 'undiscovered':
      return false;
    case 'discovered':
      return serverRevision !== undefined && serverRevision < state.serverRevision;
    case 'cleared':
      return (
        state.serverRevision === null ||
        serverRevision === undefined ||
        serverRevision <= state.serverRevision
      );
    default: {
      const _: never = state;
      return _;
    }
  }
}

function recordDiscovery(command: RecordDiscovery, state: CatalogState): CatalogEvent[] {
  const d = command.data;
  if (stale(state, d.serverRevision)) return [];
  if (state.status === 'discovered' && state.hash === d.hash) {
    if (!state.failing) return [];
    return [
      {
        type: 'DiscoveryRecovered',
        data: {
          serverId: d.serverId,
          serverRevision: d.serverRevision,
          hash: d.hash,
          recoveredAt: d.discoveredAt.toISOString(),
        },
      },
    ];
  }
  return [
    {
      type: 'CapabilitiesDiscovered',
      data: {
        serverId: d.serverId,
        serverRevision: d.serverRevision,
        hash: d.hash,
        catalog: d.catalog,
        discoveredAt: d.discoveredAt.toISOString(),
      },
    },
  ];
}

/** Every failed attempt is recorded: operators see the retries, not only the last word. */
function recordFailure(command: RecordDiscoveryFailure, state: CatalogState): CatalogEvent[] {
  const d = command.data;
  if (stale(state, d.serverRevision)) return [];
  return [
    {
      type: 'DiscoveryFailed',
      data: {
        serverId: d.serverId,
        ...(d.serverRevision !== undefined && { serverRevision: d.serverRevision }),
        reason: d.reason,
        attempt: d.attempt,
        willRetry: d.willRetry,
        failedAt: d.failedAt.toISOString(),
      },
    },
  ];
}

/** A final clearing (no revision) is newer than any bounded one. */
function newer(revision: number | undefined, than: number): boolean {
  return revision === undefined || revision > than;
}

/**
 * Clearing is recorded even for a catalog never discovered: it is what makes a discovery still in
 * flight for the removed server stale when it lands.
 */
function clear(command: ClearCatalog, state: CatalogState): CatalogEvent[] {
  const d = command.data;
  if (
    state.status === 'cleared' &&
    (state.serverRevision === null || !newer(d.serverRevision, state.serverRevision))
  ) {
    return [];
  }
  return [
    {
      type: 'CatalogCleared',
      data: {
        serverId: d.serverId,
        ...(d.serverRevision !== undefined && { serverRevision: d.serverRevision }),
        ...(d.reason !== undefined && { reason: d.reason }),
        clearedAt: d.clearedAt.toISOString(),
      },
    },
  ];
}
