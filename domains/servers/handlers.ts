import type { z } from 'zod';
import type { Clock } from '../../kernel/clock.ts';
import {
  eventMetadata,
  handleCommand,
  loadStream,
  preconditionFailed,
} from '../../kernel/command-handler.ts';
import { type CommandMeta, fold } from '../../kernel/decider.ts';
import { WrongExpectedRevisionError } from '../../kernel/errors.ts';
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
import { parseWith } from '../../kernel/validation.ts';
import {
  type DisableServerInput,
  RegisterServerInput,
  type ServerCommand,
  type TransportInput,
  UpdateServerInput,
} from './commands.ts';
import { type ServerState, serverDecider } from './decider.ts';
import { invalidInput, invalidSecret, serverNameTaken, serverNotFound, serverRemoved } from './errors.ts';
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
  register(input: z.input<typeof RegisterServerInput>, meta: CommandMeta): Promise<ServerCommandResult>;
  update(
    serverId: string,
    patch: z.input<typeof UpdateServerInput>,
    meta: CommandMeta,
  ): Promise<ServerCommandResult>;
  enable(serverId: string, meta: CommandMeta): Promise<ServerCommandResult>;
  disable(serverId: string, meta: CommandMeta, options?: DisableServerInput): Promise<ServerCommandResult>;
  /**
   * Asks for the server's catalog to be discovered again (ServerRefreshRequested). Refused with
   * SERVER.DISABLED (conflict) for a disabled server.
   */
  refresh(serverId: string, meta: CommandMeta): Promise<ServerCommandResult>;
  remove(serverId: string, meta: CommandMeta): Promise<ServerCommandResult>;
}

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
 * The servers application service: validates input, seals secrets, keeps names unique across
 * server streams with per-name reservation streams, and runs the decider through handleCommand.
 *
 * Name uniqueness: a name is claimed by appending `ServerNameReserved` to `servername-<name>` at the
 * revision last read (so two claims race on one optimistic append) before the server stream is
 * written. A reservation held by another server is honoured while that server is active under the
 * name, or — if that server does not exist (yet) or carries another name — for a grace period; a
 * removed holder frees the name at once. So a crash between the two appends locks a name for the
 * grace period only.
 */
export function makeServerCommands(deps: ServerCommandDeps): ServerCommands {
  const graceMs = deps.reservationGraceMs ?? 60_000;

  async function loadState(stream: string) {
    const { events, recorded, revision } = await loadStream<ServerEvent>(deps, stream);
    return { state: fold(serverDecider, events), recorded, revision };
  }

  /** A command id this stream has seen: answer as the first time, appending nothing. */
  function earlierResult(
    serverId: string,
    stream: string,
    loaded: Awaited<ReturnType<typeof loadState>>,
    meta: CommandMeta,
  ): ServerCommandResult | undefined {
    const earlier = loaded.recorded.filter((r) => r.metadata.causationId === meta.commandId).at(-1);
    if (!earlier) return undefined;
    return {
      serverId,
      stream,
      // As the first time: the revision its last event got, not the stream's revision now.
      revision: earlier.revision,
      position: earlier.position,
      duplicate: true,
    };
  }

  async function run(
    serverId: string,
    command: ServerCommand,
    meta: CommandMeta,
  ): Promise<ServerCommandResult> {
    const r = await handleCommand(deps, serverDecider, serverStream(serverId), command, meta);
    return { serverId, stream: r.stream, revision: r.revision, position: r.position, duplicate: r.duplicate };
  }

  function newEvent(meta: CommandMeta, purpose: string, e: ServerNameEvent) {
    return {
      id: uuidV5(`${meta.commandId}/${purpose}/${e.data.name}`),
      type: e.type,
      data: deps.registry.validate(e.type, e.data),
      metadata: eventMetadata(meta, deps.registry.currentVersion(e.type)),
    };
  }

  async function lastReservation(name: string) {
    const [last] = await deps.store.readStream(serverNameStream(name), {
      direction: 'backwards',
      maxCount: 1,
    });
    if (!last) return { revision: undefined, holder: undefined };
    const e = {
      type: last.type,
      data: deps.registry.upcast(last.type, last.metadata.schemaVersion, last.data),
    };
    const holder =
      e.type === 'ServerNameReserved' ? (e as ServerNameEvent & { type: 'ServerNameReserved' }) : undefined;
    return { revision: last.revision, holder: holder?.data };
  }

  async function reservationHolds(
    name: string,
    holder: { serverId: string; reservedAt: string },
  ): Promise<boolean> {
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

  async function claimName(name: string, serverId: string, meta: CommandMeta): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const { revision, holder } = await lastReservation(name);
      if (holder?.serverId === serverId) return;
      if (holder && (await reservationHolds(name, holder))) throw serverNameTaken(name, holder.serverId);
      const event = newEvent(meta, 'reserve', {
        type: 'ServerNameReserved',
        data: { name, serverId, reservedAt: meta.issuedAt.toISOString() },
      });
      try {
        await deps.store.append(serverNameStream(name), [event], revision ?? 'no-stream');
        return;
      } catch (e) {
        // Someone claimed or released the name since we looked: look again.
        if (e instanceof WrongExpectedRevisionError && attempt < 5) continue;
        throw e;
      }
    }
  }

  /**
   * Frees `name` if `serverId` holds it and no longer carries it. Best effort: a reservation left
   * behind is re-claimable once stale anyway.
   */
  async function releaseName(name: string, serverId: string, meta: CommandMeta): Promise<void> {
    const { revision, holder } = await lastReservation(name);
    if (holder?.serverId !== serverId || revision === undefined) return;
    // After a failure the server stream may have been written after all: never free a name its
    // server still carries.
    const { state } = await loadState(serverStream(serverId));
    if (state.status === 'active' && state.name === name) return;
    const event = newEvent(meta, 'release', {
      type: 'ServerNameReleased',
      data: { name, serverId, releasedAt: meta.issuedAt.toISOString() },
    });
    try {
      await deps.store.append(serverNameStream(name), [event], revision);
    } catch (e) {
      if (!(e instanceof WrongExpectedRevisionError)) throw e;
    }
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
      const parsed = parseInput(RegisterServerInput, input);
      const serverId = serverIdFor(meta.commandId);
      const stream = serverStream(serverId);
      const loaded = await loadState(stream);
      const earlier = earlierResult(serverId, stream, loaded, meta);
      if (earlier) return earlier;
      const transport = sealTransport(parsed.transport, undefined);
      await claimName(parsed.name, serverId, meta);
      const registering = run(
        serverId,
        {
          type: 'RegisterServer',
          data: {
            serverId,
            name: parsed.name,
            ...(parsed.description !== undefined && { description: parsed.description }),
            transport,
            tags: parsed.tags,
            enabled: parsed.enabled,
            settings: parsed.settings,
            ...ownershipOf(meta),
          },
          issuedAt: meta.issuedAt,
        },
        meta,
      );
      // A failed register must not hold the name until the reservation goes stale.
      return registering.catch(async (e: unknown) => {
        await releaseName(parsed.name, serverId, meta).catch(() => {});
        throw e;
      });
    },

    async update(rawId, patch, meta) {
      const serverId = requireServerId(rawId);
      const parsed = parseInput(UpdateServerInput, patch);
      const stream = serverStream(serverId);
      const loaded = await loadState(stream);
      const earlier = earlierResult(serverId, stream, loaded, meta);
      if (earlier) return earlier;
      const current = requireActive(loaded.state, serverId);
      // Before the name is claimed: a refused update appends nothing at all.
      const at = loaded.revision ?? -1n;
      if (meta.ifRevision !== undefined && at !== meta.ifRevision)
        throw preconditionFailed(stream, meta.ifRevision, at);
      const transport = parsed.transport && sealTransport(parsed.transport, current.transport);
      const rename = parsed.name !== undefined && parsed.name !== current.name ? parsed.name : undefined;
      if (rename) await claimName(rename, serverId, meta);
      let result: ServerCommandResult;
      try {
        result = await run(
          serverId,
          {
            type: 'UpdateServer',
            data: {
              serverId,
              ...(parsed.name !== undefined && { name: parsed.name }),
              ...(parsed.description !== undefined && { description: parsed.description }),
              ...(transport && { transport }),
              ...(parsed.tags && { tags: parsed.tags }),
              ...(parsed.settings && { settings: parsed.settings }),
            },
            issuedAt: meta.issuedAt,
          },
          meta,
        );
      } catch (e) {
        if (rename) await releaseName(rename, serverId, meta).catch(() => {});
        throw e;
      }
      if (rename) await releaseName(current.name, serverId, meta);
      return result;
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
      const result = await run(
        serverId,
        { type: 'RemoveServer', data: { serverId }, issuedAt: meta.issuedAt },
        meta,
      );
      const { state } = await loadState(result.stream);
      // Also on a retried command: the first attempt may have stopped before releasing.
      if (state.status === 'removed') await releaseName(state.name, serverId, meta);
      return result;
    },
  };
}

/** zod at the edge of the application layer: a clear validation error, nothing changed. */
function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  return parseWith(schema, input, invalidInput);
}
