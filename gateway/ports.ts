import type { ErasureService, IdentityService, RulesService } from '../domains/access/index.ts';
import type { RegisterServerInput, UpdateServerInput } from '../domains/servers/index.ts';
import type { CommandMeta } from '../kernel/decider.ts';

/**
 * The use cases the gateway's routes and MCP tools call, as the gateway sees them: the composition
 * root provides them, in this process or over the bus.
 */

/** Identity and access use cases behind /api/v1/me, keys, principals, grants, policies, rate limits. */
export interface AccessRoutesDeps {
  identity: IdentityService;
  erasure: ErasureService;
  rules: RulesService;
  /** A server's tenant and owner by name, for explain (undefined when there is none). */
  serverOf(name: string): Promise<{ tenant: string; owner?: string } | undefined>;
}

/** Outcome of a write, as every write endpoint answers it (202). */
export interface WriteResult {
  id: string;
  stream: string;
  revision: bigint;
  position: bigint | undefined;
  duplicate: boolean;
}

/** Server commands as the gateway sees them; the composition root routes them (bus or direct). */
export interface ServerCommandsPort {
  /** Input parsed at the edge that received it (parseRegistration, or the route's body schema). */
  register(input: RegisterServerInput, meta: CommandMeta): Promise<WriteResult>;
  update(id: string, patch: UpdateServerInput, meta: CommandMeta): Promise<WriteResult>;
  enable(id: string, meta: CommandMeta): Promise<WriteResult>;
  disable(id: string, meta: CommandMeta): Promise<WriteResult>;
  remove(id: string, meta: CommandMeta): Promise<WriteResult>;
  /** Asks for the server's capabilities to be discovered again. */
  refresh(id: string, meta: CommandMeta): Promise<WriteResult>;
}

export interface ProjectionStatusView {
  name: string;
  state: string;
  checkpoint: string;
  lagEvents: number;
  lagMs: number;
  lastError?: string | null | undefined;
  [key: string]: unknown;
}

/** An operator's decision about one event of a projection (quarantine or release). */
export interface ProjectionDecision {
  /** The event the decision is about. */
  eventId: string;
  /** The projection's decisions stream and its revision after the command. */
  stream: string;
  revision: bigint;
  position: bigint | undefined;
  /** True for a retried command (same Idempotency-Key): nothing new was appended. */
  duplicate: boolean;
  /** True when something was appended (false: the event was already quarantined). */
  recorded: boolean;
}

/** Projection operations; works the same whether the projector runs in this process or not. */
export interface ProjectionsPort {
  status(): Promise<ProjectionStatusView[]>;
  /** Starts a rebuild; resolves when the rebuilt tables have been swapped in. */
  rebuild(name: string): Promise<{ name: string; events: number; durationMs: number }>;
  /**
   * Records that projection `name` skips the event (it must be in the log, and one the projection
   * reads); every runner honours it, live and in rebuilds. Written to the log from any process.
   */
  quarantine(
    name: string,
    request: { eventId: string; reason: string },
    meta: CommandMeta,
  ): Promise<ProjectionDecision>;
  /** Lifts a quarantine: the next rebuild applies the event again. */
  release(
    name: string,
    request: { eventId: string; reason: string },
    meta: CommandMeta,
  ): Promise<ProjectionDecision>;
  /** True once the named projection has applied everything up to `position` (bounded wait). */
  waitForPosition(name: string, position: bigint, timeoutMs: number): Promise<boolean>;
}
