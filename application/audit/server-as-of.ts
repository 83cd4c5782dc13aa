import {
  type CatalogEvent,
  type CatalogTool,
  catalogStream,
  evolve as evolveCatalog,
  initialState as initialCatalog,
} from '../../domains/catalog/index.ts';
import {
  evolve as evolveHealth,
  type HealthEvent,
  type HealthStatus,
  healthStream,
  initialState as initialHealth,
} from '../../domains/health/index.ts';
import {
  evolve as evolveServer,
  initialState as initialServer,
  type ServerConfig,
  type ServerEvent,
  type ServerNameEvent,
  type ServerRegistered,
  type ServerSettings,
  type ServerState,
  serverNameStream,
  serverStream,
} from '../../domains/servers/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import { isUuid } from '../../kernel/ids.ts';
import type { RedactedTransport } from '../../projections/db.ts';
import { redactTransport } from '../../projections/servers/index.ts';

export interface ServerAsOfQuery {
  /** A server's name (the server that held it at `at`) or its id. */
  server: string;
  at: Date;
  /** Only a server of this tenant; undefined: any (administrators). */
  tenant?: string | undefined;
}

/** A tool of the catalog as of the time, with what pinning and the server's overrides made of it. */
export interface ToolAsOf {
  name: string;
  title: string | null;
  description: string | null;
  /** sha256 of its definition (what pinning approves). */
  definitionHash: string;
  /** Pinning servers only: whether this definition was approved (served) or withheld. */
  approved: boolean | null;
  /** settings.tools: hidden, renamed or re-described by the server's configuration. */
  override: NonNullable<ServerSettings['tools']>[string] | null;
}

/** A server's configuration, tools and health as of a time, folded from its streams by their deciders. */
export interface ServerAsOf {
  at: string;
  /** The last event folded (of the server's streams): everything after it is after `at`. */
  position: string;
  server: {
    id: string;
    name: string;
    status: 'active' | 'removed';
    /** For a removed server: its configuration as it was when removed. */
    enabled: boolean;
    description: string | null;
    /** Secrets redacted as the servers read model shows them. */
    transport: RedactedTransport;
    tags: string[];
    settings: ServerSettings;
    tenant: string;
    owner: string;
    registeredAt: string;
    /** Revision of the server's stream as of the time. */
    revision: string;
    lastChange: { type: string; at: string; actor: string; position: string };
  };
  catalog: {
    status: 'undiscovered' | 'discovered' | 'cleared';
    /** The latest discovery attempt had failed. */
    failing: boolean;
    discoveredAt: string | null;
    hash: string | null;
    tools: ToolAsOf[];
    resources: number;
    prompts: number;
  };
  health: {
    status: HealthStatus | 'UNCHECKED';
    since: string | null;
    latencyMs: number | null;
    error: string | null;
  };
}

const upTo = (at: Date) => (e: RecordedEvent) => e.recordedAt.getTime() <= at.getTime();
const typed = <E extends { type: string; data: unknown }>(e: RecordedEvent) =>
  ({ type: e.type, data: e.data }) as E;

/**
 * The server as it stood at `at` (by the events' recorded time): its own stream folded by the
 * servers decider's evolve, its catalog stream by the catalog decider's (the catalog itself is the
 * last one discovered, which that state deliberately does not keep), its health stream by the health
 * decider's. Undefined when no such server existed then, or it is another tenant's.
 */
export async function serverAsOf(store: EventStore, q: ServerAsOfQuery): Promise<ServerAsOf | undefined> {
  const before = upTo(q.at);
  const serverId = isUuid(q.server) ? q.server.toLowerCase() : await holderOf(store, q.server, before);
  if (!serverId) return undefined;
  const events = (await store.readStream(serverStream(serverId))).filter(before);
  const registered = events.find((e) => e.type === 'ServerRegistered') as
    | RecordedEvent<ServerRegistered['data']>
    | undefined;
  if (!registered) return undefined;
  if (q.tenant !== undefined && registered.data.tenant !== q.tenant) return undefined;
  // A removed server's state keeps no configuration: show the one it had when removed.
  let state: ServerState = initialServer;
  let config: (ServerConfig & { enabled: boolean }) | undefined;
  for (const e of events) {
    state = evolveServer(state, typed<ServerEvent>(e));
    if (state.status === 'active') config = state;
  }
  if (!config || state.status === 'absent') return undefined;
  const last = events.at(-1)!;
  const [catalog, health] = await Promise.all([
    catalogAsOf(store, serverId, before, config.settings),
    healthAsOf(store, serverId, before),
  ]);
  let position = last.position;
  for (const p of [catalog.position, health.position]) if (p > position) position = p;
  return {
    at: q.at.toISOString(),
    position: position.toString(),
    server: {
      id: serverId,
      name: state.name,
      status: state.status,
      enabled: config.enabled,
      description: config.description ?? null,
      transport: redactTransport(config.transport),
      tags: config.tags,
      settings: config.settings,
      tenant: registered.data.tenant,
      owner: registered.data.owner,
      registeredAt: registered.data.registeredAt,
      revision: last.revision.toString(),
      lastChange: {
        type: last.type,
        at: last.recordedAt.toISOString(),
        actor: last.metadata.actor,
        position: last.position.toString(),
      },
    },
    catalog: catalog.view,
    health: health.view,
  };
}

/** Which server held `name` at the time: the last reservation of it recorded by then. */
async function holderOf(
  store: EventStore,
  name: string,
  before: (e: RecordedEvent) => boolean,
): Promise<string | undefined> {
  const events = (await store.readStream(serverNameStream(name))).filter(before);
  const reserved = events.findLast((e) => typed<ServerNameEvent>(e).type === 'ServerNameReserved');
  return reserved ? typed<ServerNameEvent>(reserved).data.serverId : undefined;
}

async function catalogAsOf(
  store: EventStore,
  serverId: string,
  before: (e: RecordedEvent) => boolean,
  settings: ServerSettings,
): Promise<{ view: ServerAsOf['catalog']; position: bigint }> {
  const events = (await store.readStream(catalogStream(serverId))).filter(before);
  let state = initialCatalog;
  let discovered: { tools: CatalogTool[]; resources: number; prompts: number; at: string } | undefined;
  for (const e of events) {
    const event = typed<CatalogEvent>(e);
    state = evolveCatalog(state, event);
    if (event.type === 'CapabilitiesDiscovered') {
      const c = event.data.catalog;
      discovered = {
        tools: c.tools,
        resources: c.resources.length + c.resourceTemplates.length,
        prompts: c.prompts.length,
        at: event.data.discoveredAt,
      };
    }
  }
  const current = state.status === 'discovered' ? discovered : undefined;
  const pinning = settings.pinTools === true;
  const tools = (current?.tools ?? []).map((t): ToolAsOf => {
    const hash = state.status === 'discovered' ? (state.tools.get(t.name) ?? '') : '';
    return {
      name: t.name,
      title: t.title ?? null,
      description: t.description ?? null,
      definitionHash: hash,
      approved: pinning ? state.pins.approved.get(t.name) === hash : null,
      override: settings.tools?.[t.name] ?? null,
    };
  });
  return {
    view: {
      status: state.status,
      failing: state.status === 'cleared' ? false : state.failing,
      discoveredAt: current?.at ?? null,
      hash: state.status === 'discovered' ? state.hash : null,
      tools,
      resources: current?.resources ?? 0,
      prompts: current?.prompts ?? 0,
    },
    position: events.at(-1)?.position ?? 0n,
  };
}

async function healthAsOf(
  store: EventStore,
  serverId: string,
  before: (e: RecordedEvent) => boolean,
): Promise<{ view: ServerAsOf['health']; position: bigint }> {
  const events = (await store.readStream(healthStream(serverId))).filter(before).map((e) => ({
    recorded: e,
    event: typed<HealthEvent>(e),
  }));
  const state = events.reduce((s, { event }) => evolveHealth(s, event), initialHealth);
  const last = events.at(-1);
  if (state.status === 'unchecked' || !last) {
    return { view: { status: 'UNCHECKED', since: null, latencyMs: null, error: null }, position: 0n };
  }
  return {
    view: {
      status: state.health,
      since: new Date(state.since).toISOString(),
      latencyMs: last.event.data.latencyMs,
      error: last.event.data.error,
    },
    position: last.recorded.position,
  };
}
