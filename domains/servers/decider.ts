import type { Decider } from '../../kernel/decider.ts';
import type {
  DisableServer,
  EnableServer,
  RefreshServer,
  RegisterServer,
  RemoveServer,
  ServerCommand,
  UpdateServer,
} from './commands.ts';
import {
  invalidInput,
  serverAlreadyExists,
  serverDisabled,
  serverNotFound,
  serverRemoved,
} from './errors.ts';
import type { ServerEvent, ServerSettings, ServerUpdated, StoredTransport } from './events.ts';
import { settingsIssues } from './settings.ts';

export interface ServerConfig {
  serverId: string;
  name: string;
  description: string | undefined;
  transport: StoredTransport;
  tags: string[];
  settings: ServerSettings;
}

export type ServerState =
  | { status: 'absent' }
  | ({ status: 'active'; enabled: boolean } & ServerConfig)
  // The name is kept so the application layer can tell a stale name reservation from a live one.
  | { status: 'removed'; serverId: string; name: string };

/** Before its first event, a server stream describes no server. */
export const initialState: ServerState = { status: 'absent' };

/**
 * What a command means for a server in a given state: the events to append (none for a no-op), or
 * an AppError. Pure: time comes in the command.
 */
export function decide(command: ServerCommand, state: ServerState): ServerEvent[] {
  switch (command.type) {
    case 'RegisterServer':
      return register(command, state);
    case 'UpdateServer':
      return update(command, requireActive(state, command.data.serverId));
    case 'EnableServer':
      return enable(command, requireActive(state, command.data.serverId));
    case 'DisableServer':
      return disable(command, requireActive(state, command.data.serverId));
    case 'RefreshServer':
      return refresh(command, requireActive(state, command.data.serverId));
    case 'RemoveServer':
      return remove(command, state);
    default: {
      const _: never = command;
      return _;
    }
  }
}

/** Folds one event into the state; never validates. */
export function evolve(state: ServerState, event: ServerEvent): ServerState {
  switch (event.type) {
    case 'ServerRegistered': {
      const d = event.data;
      return {
        status: 'active',
        enabled: d.enabled,
        serverId: d.serverId,
        name: d.name,
        description: d.description,
        transport: d.transport,
        tags: d.tags,
        settings: d.settings,
      };
    }
    case 'ServerUpdated': {
      if (state.status !== 'active') return state;
      const d = event.data;
      return {
        ...state,
        name: d.name ?? state.name,
        description: d.description === undefined ? state.description : (d.description ?? undefined),
        transport: d.transport ?? state.transport,
        tags: d.tags ?? state.tags,
        settings: d.settings ?? state.settings,
      };
    }
    case 'ServerEnabled':
      return state.status === 'active' ? { ...state, enabled: true } : state;
    case 'ServerDisabled':
      return state.status === 'active' ? { ...state, enabled: false } : state;
    case 'ServerRefreshRequested':
      return state;
    case 'ServerRemoved':
      return { status: 'removed', serverId: event.data.serverId, name: event.data.name };
    default: {
      const _: never = event;
      return state;
    }
  }
}

/** The servers decider, for handleCommand and for given/when/then specs. */
export const serverDecider: Decider<ServerCommand, ServerEvent, ServerState> = {
  initialState,
  decide,
  evolve,
};

function requireActive(state: ServerState, serverId: string): Extract<ServerState, { status: 'active' }> {
  switch (state.status) {
    case 'active':
      return state;
    case 'absent':
      throw serverNotFound(serverId);
    case 'removed':
      throw serverRemoved(serverId);
    default: {
      const _: never = state;
      return _;
    }
  }
}

function register(command: RegisterServer, state: ServerState): ServerEvent[] {
  if (state.status !== 'absent') throw serverAlreadyExists(command.data.serverId);
  const d = command.data;
  requireFittingSettings(d.transport, d.settings);
  return [
    {
      type: 'ServerRegistered',
      data: {
        serverId: d.serverId,
        name: d.name,
        ...(d.description !== undefined && { description: d.description }),
        transport: d.transport,
        tags: d.tags,
        enabled: d.enabled,
        settings: d.settings,
        tenant: d.tenant,
        owner: d.owner,
        registeredAt: command.issuedAt.toISOString(),
      },
    },
  ];
}

/** Records only what actually changes; an update that changes nothing appends nothing. */
function update(command: UpdateServer, state: Extract<ServerState, { status: 'active' }>): ServerEvent[] {
  const d = command.data;
  const changes: Omit<ServerUpdated['data'], 'serverId' | 'updatedAt'> = {};
  if (d.name !== undefined && d.name !== state.name) changes.name = d.name;
  if (d.description !== undefined && (d.description ?? undefined) !== state.description) {
    changes.description = d.description;
  }
  if (d.transport !== undefined && !sameJson(d.transport, state.transport)) changes.transport = d.transport;
  if (d.tags !== undefined && !sameJson(d.tags, state.tags)) changes.tags = d.tags;
  if (d.settings !== undefined && !sameJson(d.settings, state.settings)) changes.settings = d.settings;
  if (Object.keys(changes).length === 0) return [];
  // Settings replace as a whole, so the new pair (transport, settings) must fit, whichever half changed.
  if (changes.transport || changes.settings) {
    requireFittingSettings(changes.transport ?? state.transport, changes.settings ?? state.settings);
  }
  return [
    {
      type: 'ServerUpdated',
      data: { serverId: state.serverId, ...changes, updatedAt: command.issuedAt.toISOString() },
    },
  ];
}

function enable(command: EnableServer, state: Extract<ServerState, { status: 'active' }>): ServerEvent[] {
  if (state.enabled) return [];
  return [
    { type: 'ServerEnabled', data: { serverId: state.serverId, enabledAt: command.issuedAt.toISOString() } },
  ];
}

function disable(command: DisableServer, state: Extract<ServerState, { status: 'active' }>): ServerEvent[] {
  if (!state.enabled) return [];
  return [
    {
      type: 'ServerDisabled',
      data: {
        serverId: state.serverId,
        ...(command.data.reason !== undefined && { reason: command.data.reason }),
        disabledAt: command.issuedAt.toISOString(),
      },
    },
  ];
}

/**
 * Every refresh is recorded (it is a request, not a state): the discovery saga acts on each one.
 * A disabled server has no connection to discover through, so it is refused rather than queued.
 */
function refresh(command: RefreshServer, state: Extract<ServerState, { status: 'active' }>): ServerEvent[] {
  if (!state.enabled) throw serverDisabled(state.serverId, 'refresh');
  return [
    {
      type: 'ServerRefreshRequested',
      data: { serverId: state.serverId, requestedAt: command.issuedAt.toISOString() },
    },
  ];
}

function requireFittingSettings(transport: StoredTransport, settings: ServerSettings): void {
  const url = transport.type === 'stdio' ? undefined : transport.url;
  const issues = settingsIssues({ type: transport.type, url }, settings).map((i) => ({
    path: `settings.${i.path}`,
    message: i.message,
  }));
  if (issues.length === 0) return;
  throw invalidInput(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

/** Removing a removed server is a no-op: the user's intent already holds. */
function remove(command: RemoveServer, state: ServerState): ServerEvent[] {
  switch (state.status) {
    case 'absent':
      throw serverNotFound(command.data.serverId);
    case 'removed':
      return [];
    case 'active':
      return [
        {
          type: 'ServerRemoved',
          data: { serverId: state.serverId, name: state.name, removedAt: command.issuedAt.toISOString() },
        },
      ];
    default: {
      const _: never = state;
      return _;
    }
  }
}

/** Structural equality that ignores key order (events round-trip through JSONB, which reorders keys). */
function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
