import type { Clock } from '../../kernel/clock.ts';
import {
  type CommandResult,
  handleCommand,
  handleWrites,
  type LoadedStream,
  loadStream,
  type StreamWrite,
} from '../../kernel/command-handler.ts';
import { type CommandMeta, fold } from '../../kernel/decider.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import { type IdGenerator, isUuid, uuidV5 } from '../../kernel/ids.ts';
import { ownershipOf } from '../../kernel/ownership.ts';
import {
  isSealedSecret,
  isSecretRef,
  REDACTED,
  type SecretBox,
  type StoredSecret,
} from '../../kernel/secrets.ts';
import { streamName } from '../../kernel/streams.ts';
import type {
  DisableServerInput,
  RegisterServerInput,
  ServerCommand,
  TransportInput,
  UpdateServerInput,
} from './commands.ts';
import { type ServerState, serverDecider } from './decider.ts';
import { invalidSecret, serverNameTaken, serverNotFound, serverRemoved } from './errors.ts';
import {
  SERVER_CATEGORY,
  SERVER_NAME_CATEGORY,
  type ServerEvent,
  type ServerNameEvent,
  type StoredTransport,
} from './events.ts';

export interface ServerCommandDeps {
  store: EventStore;
  registry: EventTypeRegistry;
  secrets: SecretBox;
  clock: Clock;
  /** Not needed today: server ids derive from command ids so that retries are idempotent. */
  ids?: IdGenerator;
  /**
   * How long a name reservation whose server does not carry the name (yet) is honoured. It covers
   * a register or rename in flight; after it, a reservation left by a crash can be re-claimed.
   */
  reservationGraceMs?: number;
}

export interface ServerCommandResult {
  serverId: string;
  stream: string;
  /** Revision of the server stream after the command (-1n if it does not exist). */
  revision: bigint;
  /** Global position of the last event appended, if the command appended any. */
  position: bigint | undefined;
  /** True when this command id had been handled before: nothing new was appended. */
  duplicate: boolean;
}

export interface ServerCommands {
  /** Input parsed at the edge (RegisterServerInput), as every input: never parsed again here. */
  register(input: RegisterServerInput, meta: CommandMeta): Promise<ServerCommandResult>;
  update(serverId: string, patch: UpdateServerInput, meta: CommandMeta): Promise<ServerCommandResult>;
  enable(serverId: string, meta: CommandMeta): Promise<ServerCommandResult>;
  disable(serverId: string, meta: CommandMeta, options?: DisableServerInput): Promise<ServerCommandResult>;
  /**
   * Asks for the server's catalog to be discovered again (ServerRefreshRequested). Refused with
   * SERVER.DISABLED (conflict) for a disabled server.
   */
  refresh(serverId: string, meta: CommandMeta): Promise<ServerCommandResult>;
  remove(serverId: string, meta: CommandMeta): Promise<ServerCommandResult>;
}

/** Who holds a server name: the last event of its name stream, when that is a reservation. */
type NameHolder = Extract<ServerNameEvent, { type: 'ServerNameReserved' }>['data'];

const SERVER_ID_NAMESPACE = '0d6c8a5e-2f4b-4e71-9c3a-7b1e5d9f2a40';

/** The id of the server a RegisterServer command creates: derived, so a retried command finds it again. */
export function serverIdFor(commandId: string): string {
  return uuidV5(`RegisterServer/${commandId}`, SERVER_ID_NAMESPACE);
}

/** `server-<id>`: the stream of one server. */
export function serverStream(serverId: string): string {
  return streamName(SERVER_CATEGORY, serverId);
}

/** `servername-<name>`: the reservation stream of one server name. */
export function serverNameStream(name: string): string {
  return streamName(SERVER_NAME_CATEGORY, name);
}

/**
 * The servers application service: takes input parsed at the edge, seals secrets, keeps names
 * unique across server streams with per-name reservation streams, and runs the decider through the
 * kernel's command handler.
 *
 * Name uniqueness: a register, a rename or a removal writes the server stream and the name streams
 * it touches in one handleWrites — `ServerNameReserved` on `servername-<name>` at the revision read
 * (so two claims race on one optimistic append), `ServerNameReleased` on the old name — atomically
 * on PostgreSQL. A reservation held by another server is honoured while that server is active under
 * the name, or — if that server does not exist (yet) or carries another name — for a grace period;
 * a removed holder frees the name at once. The grace period matters only where the appends are not
 * atomic (EventStoreDB writes the streams one after another) or for reservations from before.
 */
export function makeServerCommands(deps: ServerCommandDeps): ServerCommands {
  const graceMs = deps.reservationGraceMs ?? 60_000;

  async function loadState(stream: string) {
    const { events, recorded, revision } = await loadStream<ServerEvent>(deps, stream);
    return { state: fold(serverDecider, events), recorded, revision };
  }

  async function run(
    serverId: string,
    command: ServerCommand,
    meta: CommandMeta,
  ): Promise<ServerCommandResult> {
    return result(serverId, await handleCommand(deps, serverDecider, serverStream(serverId), command, meta));
  }

  /**
   * What a write's first attempt decides on: the server stream it has read already (to learn which
   * names it touches) and those name streams, read now — so handleWrites does not read them again.
   * A change in between fails the append, and the write is decided again on fresh reads.
   */
  async function withStreams(
    stream: string,
    server: LoadedStream,
    names: readonly string[],
  ): Promise<Map<string, LoadedStream>> {
    const loaded = await Promise.all(names.map((s) => loadStream(deps, s)));
    return new Map([[stream, server], ...names.map((s, i) => [s, loaded[i]!] as const)]);
  }

  /** The server holding `name` by the name stream's last event, if it is a reservation. */
  function holderOf(names: LoadedStream): NameHolder | undefined {
    const last = names.events.at(-1) as ServerNameEvent | undefined;
    return last?.type === 'ServerNameReserved' ? last.data : undefined;
  }

  async function reservationHolds(name: string, holder: NameHolder): Promise<boolean> {
    const { state } = await loadState(serverStream(holder.serverId));
    const withinGrace = deps.clock.now().getTime() - new Date(holder.reservedAt).getTime() < graceMs;
    switch (state.status) {
      case 'active':
        return state.name === name || withinGrace;
      case 'absent':
        return withinGrace;
      case 'removed':
        return false;
      default: {
        const _: never = state;
        return _;
      }
    }
  }

  /** Claims `name` for `serverId`: nothing if it holds it already; refused while another holds it. */
  async function claim(
    loaded: ReadonlyMap<string, LoadedStream>,
    name: string,
    serverId: string,
    meta: CommandMeta,
  ): Promise<StreamWrite> {
    const stream = serverNameStream(name);
    const holder = holderOf(loaded.get(stream)!);
    if (holder?.serverId === serverId) return { stream, events: [] };
    if (holder && (await reservationHolds(name, holder))) throw serverNameTaken(name, holder.serverId);
    const reserved: ServerNameEvent = {
      type: 'ServerNameReserved',
      data: { name, serverId, reservedAt: meta.issuedAt.toISOString() },
    };
    return { stream, events: [reserved] };
  }

  /** Frees `name` if `serverId` holds it. */
  function release(
    loaded: ReadonlyMap<string, LoadedStream>,
    name: string,
    serverId: string,
    meta: CommandMeta,
  ): StreamWrite {
    const stream = serverNameStream(name);
    if (holderOf(loaded.get(stream)!)?.serverId !== serverId) return { stream, events: [] };
    const released: ServerNameEvent = {
      type: 'ServerNameReleased',
      data: { name, serverId, releasedAt: meta.issuedAt.toISOString() },
    };
    return { stream, events: [released] };
  }

  function decideServer(
    loaded: ReadonlyMap<string, LoadedStream>,
    serverId: string,
    command: ServerCommand,
  ): StreamWrite {
    const stream = serverStream(serverId);
    return { stream, events: serverDecider.decide(command, fold(serverDecider, eventsOf(loaded, stream))) };
  }

  function result(serverId: string, r: CommandResult): ServerCommandResult {
    return { serverId, stream: r.stream, revision: r.revision, position: r.position, duplicate: r.duplicate };
  }

  /**
   * Seals every clear-text value. A value equal to the one already stored keeps its sealed form, so
   * sending a server's configuration again does not look like a change; `"[redacted]"` (as the
   * read side shows secrets) keeps the current value of that key.
   */
  function sealTransport(input: TransportInput, previous: StoredTransport | undefined): StoredTransport {
    switch (input.type) {
      case 'stdio':
        return {
          type: 'stdio',
          command: input.command,
          args: input.args,
          env: sealMap(input.env, previous?.type === 'stdio' ? previous.env : undefined, 'transport.env'),
          ...(input.cwd !== undefined && { cwd: input.cwd }),
        };
      case 'streamable-http':
      case 'sse': {
        const prev = previous?.type === 'streamable-http' || previous?.type === 'sse' ? previous : undefined;
        const query = input.query && sealMap(input.query, prev?.query, 'transport.query');
        return {
          type: input.type,
          url: input.url,
          headers: sealMap(input.headers, prev?.headers, 'transport.headers'),
          ...(query && Object.keys(query).length > 0 && { query }),
        };
      }
      default: {
        const _: never = input;
        return _;
      }
    }
  }

  function sealMap(
    values: Record<string, string | { secretRef: string }>,
    previous: Record<string, StoredSecret> | undefined,
    path: string,
  ): Record<string, StoredSecret> {
    const out: Record<string, StoredSecret> = {};
    for (const [key, value] of Object.entries(values)) {
      const prev = previous?.[key];
      if (isSecretRef(value)) {
        out[key] = { secretRef: value.secretRef };
      } else if (value === REDACTED) {
        if (!prev)
          throw invalidSecret(`${path}.${key}`, `"${REDACTED}" keeps a current value, and there is none`);
        out[key] = prev;
      } else if (prev && isSealedSecret(prev) && opensTo(prev, value)) {
        out[key] = prev;
      } else {
        out[key] = deps.secrets.encrypt(value);
      }
    }
    return out;
  }

  function opensTo(sealed: { $secret: string }, value: string): boolean {
    try {
      return deps.secrets.decrypt(sealed) === value;
    } catch {
      // Sealed under a key we no longer hold: reseal with the current one.
      return false;
    }
  }

  function requireServerId(serverId: string): string {
    if (!isUuid(serverId)) throw serverNotFound(serverId);
    return serverId.toLowerCase();
  }

  function requireActive(state: ServerState, serverId: string): Extract<ServerState, { status: 'active' }> {
    if (state.status === 'absent') throw serverNotFound(serverId);
    if (state.status === 'removed') throw serverRemoved(serverId);
    return state;
  }

  return {
    async register(input, meta) {
      const serverId = serverIdFor(meta.commandId);
      const stream = serverStream(serverId);
      const names = serverNameStream(input.name);
      // Sealed once, before any read: a retry on a conflict seals nothing again.
      const transport = sealTransport(input.transport, undefined);
      const command: ServerCommand = {
        type: 'RegisterServer',
        data: {
          serverId,
          name: input.name,
          ...(input.description !== undefined && { description: input.description }),
          transport,
          tags: input.tags,
          enabled: input.enabled,
          settings: input.settings,
          ...ownershipOf(meta),
        },
        issuedAt: meta.issuedAt,
      };
      const r = await handleWrites(
        deps,
        {
          streams: [stream, names],
          decide: async (loaded) => {
            const server = decideServer(loaded, serverId, command);
            return [await claim(loaded, input.name, serverId, meta), server];
          },
        },
        meta,
      );
      return result(serverId, r);
    },

    async update(rawId, patch, meta) {
      const serverId = requireServerId(rawId);
      const stream = serverStream(serverId);
      for (let attempt = 0; ; attempt++) {
        // Which name streams a rename touches depends on the current name: read it first, and
        // decide again if it changed before the write.
        const server = await loadStream<ServerEvent>(deps, stream);
        const state = fold(serverDecider, server.events);
        const before = state.status === 'active' ? state.name : undefined;
        const rename = patch.name !== undefined && before !== undefined && patch.name !== before;
        const streams = rename ? [stream, serverNameStream(patch.name!), serverNameStream(before)] : [stream];
        try {
          const r = await handleWrites(
            deps,
            {
              streams,
              assumed: await withStreams(stream, server, streams.slice(1)),
              decide: async (loaded) => {
                const current = requireActive(fold(serverDecider, eventsOf(loaded, stream)), serverId);
                if (current.name !== before) throw new NameMovedError(stream);
                const transport = patch.transport && sealTransport(patch.transport, current.transport);
                const server = decideServer(loaded, serverId, {
                  type: 'UpdateServer',
                  data: {
                    serverId,
                    ...(patch.name !== undefined && { name: patch.name }),
                    ...(patch.description !== undefined && { description: patch.description }),
                    ...(transport && { transport }),
                    ...(patch.tags && { tags: patch.tags }),
                    ...(patch.settings && { settings: patch.settings }),
                  },
                  issuedAt: meta.issuedAt,
                });
                if (!rename) return [server];
                return [
                  await claim(loaded, patch.name!, serverId, meta),
                  release(loaded, before, serverId, meta),
                  server,
                ];
              },
            },
            meta,
          );
          return result(serverId, r);
        } catch (e) {
          if (e instanceof NameMovedError && attempt < 3) continue;
          throw e;
        }
      }
    },

    async enable(rawId, meta) {
      const serverId = requireServerId(rawId);
      return run(serverId, { type: 'EnableServer', data: { serverId }, issuedAt: meta.issuedAt }, meta);
    },

    async disable(rawId, meta, options = {}) {
      const serverId = requireServerId(rawId);
      const reason = options.reason;
      return run(
        serverId,
        {
          type: 'DisableServer',
          data: { serverId, ...(reason !== undefined && { reason }) },
          issuedAt: meta.issuedAt,
        },
        meta,
      );
    },

    async refresh(rawId, meta) {
      const serverId = requireServerId(rawId);
      return run(serverId, { type: 'RefreshServer', data: { serverId }, issuedAt: meta.issuedAt }, meta);
    },

    async remove(rawId, meta) {
      const serverId = requireServerId(rawId);
      const stream = serverStream(serverId);
      const server = await loadStream<ServerEvent>(deps, stream);
      const state = fold(serverDecider, server.events);
      // The name it holds is freed with the removal, in the same append.
      const name = state.status === 'absent' ? undefined : state.name;
      const names = name === undefined ? [] : [serverNameStream(name)];
      const command: ServerCommand = { type: 'RemoveServer', data: { serverId }, issuedAt: meta.issuedAt };
      const r = await handleWrites(
        deps,
        {
          streams: [stream, ...names],
          assumed: await withStreams(stream, server, names),
          decide: (loaded) => {
            const server = decideServer(loaded, serverId, command);
            if (name === undefined || server.events.length === 0) return [server];
            return [release(loaded, name, serverId, meta), server];
          },
        },
        meta,
      );
      return result(serverId, r);
    },
  };
}

function eventsOf(loaded: ReadonlyMap<string, LoadedStream>, stream: string): ServerEvent[] {
  return loaded.get(stream)!.events as ServerEvent[];
}

/** The server was renamed between the read that chose the name streams and the write. */
class NameMovedError extends Error {
  constructor(stream: string) {
    super(`${stream} changed its name while it was being updated`);
  }
}
