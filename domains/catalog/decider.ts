import type { Decider } from '../../kernel/decider.ts';
import type {
  ApproveToolDefinition,
  CatalogCommand,
  ClearCatalog,
  RecordDiscovery,
  RecordDiscoveryFailure,
} from './commands.ts';
import { notPinned, staleDefinition, toolNotFound } from './errors.ts';
import type { CatalogEvent, ToolDefinitionApproved, ToolDefinitionChanged } from './events.ts';
import { toolDefinitionHash } from './hash.ts';

/**
 * What pinning knows of a server's tools, by name: the approved definition hash, and the new hash
 * last reported by a ToolDefinitionChanged (so a change is reported once, not at every discovery).
 * Approvals survive anything but a final clearing: turning pinning off and on again launders nothing.
 */
export interface ToolPins {
  approved: ReadonlyMap<string, string>;
  reported: ReadonlyMap<string, string>;
}

/**
 * A server's catalog as far as deciding goes: the hash of the last catalog recorded and the server
 * revision it was discovered at, whether the latest attempt failed, each current tool's definition
 * hash, and the tool pins. The catalog itself lives in the events (and the read model).
 */
export type CatalogState =
  | { status: 'undiscovered'; failing: boolean; pins: ToolPins }
  | {
      status: 'discovered';
      hash: string;
      serverRevision: number;
      failing: boolean;
      tools: ReadonlyMap<string, string>;
      pins: ToolPins;
    }
  // Cleared: discoveries at or below `serverRevision` are stale; all of them when it is null (final).
  | { status: 'cleared'; serverRevision: number | null; pins: ToolPins };

const noPins: ToolPins = { approved: new Map(), reported: new Map() };

export const initialState: CatalogState = { status: 'undiscovered', failing: false, pins: noPins };

/**
 * Records what a discovery found. Only a change is an event: the same catalog again appends
 * nothing (or DiscoveryRecovered, once, after failures). Results that arrive late — against an
 * older server revision than the one recorded, or after the catalog was cleared — append nothing.
 * For a server that pins its tools, a discovery also judges each tool against its approval (see
 * pinEvents); an operator approves a definition by its hash (ApproveToolDefinition).
 */
export function decide(command: CatalogCommand, state: CatalogState): CatalogEvent[] {
  switch (command.type) {
    case 'RecordDiscovery':
      return recordDiscovery(command, state);
    case 'RecordDiscoveryFailure':
      return recordFailure(command, state);
    case 'ClearCatalog':
      return clear(command, state);
    case 'ApproveToolDefinition':
      return approve(command, state);
    default: {
      const _: never = command;
      return _;
    }
  }
}

export function evolve(state: CatalogState, event: CatalogEvent): CatalogState {
  switch (event.type) {
    case 'CapabilitiesDiscovered': {
      const tools = new Map(event.data.catalog.tools.map((t) => [t.name, toolDefinitionHash(t)] as const));
      // A reported change stays reported only while the tool still has that definition: a tool
      // that changes back and then again is reported again.
      const reported = new Map([...state.pins.reported].filter(([name, h]) => tools.get(name) === h));
      return {
        status: 'discovered',
        hash: event.data.hash,
        serverRevision: Math.max(
          event.data.serverRevision,
          state.status === 'discovered' ? state.serverRevision : 0,
        ),
        failing: false,
        tools,
        pins: { approved: state.pins.approved, reported },
      };
    }
    case 'DiscoveryRecovered':
      return {
        status: 'discovered',
        hash: event.data.hash,
        serverRevision: Math.max(
          event.data.serverRevision,
          state.status === 'discovered' ? state.serverRevision : 0,
        ),
        failing: false,
        tools: state.status === 'discovered' ? state.tools : new Map(),
        pins: state.pins,
      };
    case 'DiscoveryFailed':
      return state.status === 'cleared' ? state : { ...state, failing: true };
    case 'CatalogCleared':
      return {
        status: 'cleared',
        serverRevision: event.data.serverRevision ?? null,
        pins: event.data.serverRevision === undefined ? noPins : state.pins,
      };
    case 'ToolDefinitionChanged': {
      const reported = new Map(state.pins.reported).set(event.data.tool, event.data.newHash);
      return { ...state, pins: { approved: state.pins.approved, reported } };
    }
    case 'ToolDefinitionApproved': {
      const approved = new Map(state.pins.approved).set(event.data.tool, event.data.hash);
      const reported = new Map(state.pins.reported);
      reported.delete(event.data.tool);
      return { ...state, pins: { approved, reported } };
    }
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
  const events: CatalogEvent[] = [];
  if (state.status === 'discovered' && state.hash === d.hash) {
    if (state.failing) {
      events.push({
        type: 'DiscoveryRecovered',
        data: {
          serverId: d.serverId,
          serverRevision: d.serverRevision,
          hash: d.hash,
          recoveredAt: d.discoveredAt.toISOString(),
        },
      });
    }
  } else {
    events.push({
      type: 'CapabilitiesDiscovered',
      data: {
        serverId: d.serverId,
        serverRevision: d.serverRevision,
        hash: d.hash,
        catalog: d.catalog,
        discoveredAt: d.discoveredAt.toISOString(),
      },
    });
  }
  if (d.pinTools) events.push(...pinEvents(d, state.pins));
  return events;
}

/**
 * Each tool of a pinning server against its approval. Nothing approved yet: this is the first
 * discovery since the server pins its tools, and what it finds is approved (trust on first use;
 * the actor of the command, the discovery, is the approver on record). Otherwise a tool whose hash
 * is not the approved one is reported once per new definition (previousHash null for a tool never
 * approved); it stays withheld until approved. A server that lists no tools at all establishes no
 * trust, so its first tools are the ones trusted.
 */
function pinEvents(
  d: RecordDiscovery['data'],
  pins: ToolPins,
): Array<ToolDefinitionApproved | ToolDefinitionChanged> {
  if (pins.approved.size === 0) {
    return d.toolHashes.map(([tool, hash]) => ({
      type: 'ToolDefinitionApproved',
      data: { serverId: d.serverId, tool, hash, approvedAt: d.discoveredAt.toISOString() },
    }));
  }
  const out: ToolDefinitionChanged[] = [];
  for (const [tool, hash] of d.toolHashes) {
    const approved = pins.approved.get(tool);
    if (approved === hash || pins.reported.get(tool) === hash) continue;
    out.push({
      type: 'ToolDefinitionChanged',
      data: {
        serverId: d.serverId,
        tool,
        previousHash: approved ?? null,
        newHash: hash,
        detectedAt: d.discoveredAt.toISOString(),
      },
    });
  }
  return out;
}

/**
 * An operator approves exactly the definition they reviewed: the tool must be in the current
 * catalog with that hash (a definition that changed since is a conflict, never a silent approval of
 * something unseen). Approving what is already approved appends nothing.
 */
function approve(command: ApproveToolDefinition, state: CatalogState): CatalogEvent[] {
  const d = command.data;
  const current = state.status === 'discovered' ? state.tools.get(d.tool) : undefined;
  if (current === undefined) throw toolNotFound(d.tool);
  if (!d.pinned) throw notPinned();
  if (current !== d.hash) throw staleDefinition(d.tool);
  if (state.pins.approved.get(d.tool) === d.hash) return [];
  return [
    {
      type: 'ToolDefinitionApproved',
      data: { serverId: d.serverId, tool: d.tool, hash: d.hash, approvedAt: d.approvedAt.toISOString() },
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
