import type { z } from 'zod';
import type { Clock } from '../../kernel/clock.ts';
import { type CommandResult, handleCommand } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import { streamName } from '../../kernel/streams.ts';
import { parseWith } from '../../kernel/validation.ts';
import {
  ApproveToolDefinitionInput,
  type CatalogCommand,
  ClearCatalogInput,
  RecordDiscoveryFailureInput,
  RecordDiscoveryInput,
} from './commands.ts';
import { catalogDecider } from './decider.ts';
import { invalidCatalogInput } from './errors.ts';
import { CATALOG_CATEGORY } from './events.ts';
import { catalogHash, toolDefinitionHash } from './hash.ts';

export interface CatalogCommandDeps {
  store: EventStore;
  registry: EventTypeRegistry;
  /** Dates a discovery, failure or clearing whose input carries no time of its own. */
  clock: Clock;
}

export interface CatalogCommandResult extends CommandResult {
  serverId: string;
}

export interface CatalogCommands {
  /**
   * Records a discovery's catalog. Appends CapabilitiesDiscovered only when the catalog's hash
   * differs from the last one recorded (DiscoveryRecovered when it is the same after failures);
   * `events` is empty otherwise. `hash` is the catalog's, whether anything was appended or not;
   * `changed` says whether a CapabilitiesDiscovered was appended (by this call or, for a retried
   * command id, by its first run).
   */
  recordDiscovery(
    input: RecordDiscoveryInput,
    meta: CommandMeta,
  ): Promise<CatalogCommandResult & { hash: string; changed: boolean }>;
  /** Records one failed attempt (DiscoveryFailed). */
  recordFailure(input: RecordDiscoveryFailureInput, meta: CommandMeta): Promise<CatalogCommandResult>;
  /** Empties the catalog of a removed server (CatalogCleared). */
  clear(input: ClearCatalogInput, meta: CommandMeta): Promise<CatalogCommandResult>;
  /**
   * Approves the tool definition with `hash` (ToolDefinitionApproved, the caller the actor): a tool
   * the catalog lacks is not_found; a server that does not pin, or a hash that is not the tool's
   * current one, is a conflict. Approving the approved definition again appends nothing.
   */
  approveTool(input: ApproveToolDefinitionInput, meta: CommandMeta): Promise<CatalogCommandResult>;
}

/** `catalog-<serverId>`: the discovered catalog of one server. */
export function catalogStream(serverId: string): string {
  return streamName(CATALOG_CATEGORY, serverId.toLowerCase());
}

/** The catalog application service: validates input, hashes the catalog, runs the decider. */
export function makeCatalogCommands(deps: CatalogCommandDeps): CatalogCommands {
  async function run(serverId: string, command: CatalogCommand, meta: CommandMeta) {
    const r = await handleCommand(deps, catalogDecider, catalogStream(serverId), command, meta);
    return { ...r, serverId };
  }

  return {
    async recordDiscovery(input, meta) {
      const p = parseInput(RecordDiscoveryInput, input);
      const hash = catalogHash(p.catalog);
      const result = await run(
        p.serverId,
        {
          type: 'RecordDiscovery',
          data: {
            serverId: p.serverId,
            serverRevision: p.serverRevision,
            catalog: p.catalog,
            hash,
            pinTools: p.pinTools,
            toolHashes: p.catalog.tools.map((t) => [t.name, toolDefinitionHash(t)] as [string, string]),
            discoveredAt: p.discoveredAt ?? deps.clock.now(),
          },
        },
        meta,
      );
      return { ...result, hash, changed: result.events.some((e) => e.type === 'CapabilitiesDiscovered') };
    },

    async recordFailure(input, meta) {
      const p = parseInput(RecordDiscoveryFailureInput, input);
      return run(
        p.serverId,
        {
          type: 'RecordDiscoveryFailure',
          data: {
            serverId: p.serverId,
            ...(p.serverRevision !== undefined && { serverRevision: p.serverRevision }),
            reason: p.reason,
            attempt: p.attempt,
            willRetry: p.willRetry,
            failedAt: p.failedAt ?? deps.clock.now(),
          },
        },
        meta,
      );
    },

    async clear(input, meta) {
      const p = parseInput(ClearCatalogInput, input);
      return run(
        p.serverId,
        {
          type: 'ClearCatalog',
          data: {
            serverId: p.serverId,
            ...(p.serverRevision !== undefined && { serverRevision: p.serverRevision }),
            ...(p.reason !== undefined && { reason: p.reason }),
            clearedAt: p.clearedAt ?? deps.clock.now(),
          },
        },
        meta,
      );
    },

    async approveTool(input, meta) {
      const p = parseInput(ApproveToolDefinitionInput, input);
      return run(
        p.serverId,
        {
          type: 'ApproveToolDefinition',
          data: {
            serverId: p.serverId,
            tool: p.tool,
            hash: p.hash,
            pinned: p.pinned,
            approvedAt: p.approvedAt ?? deps.clock.now(),
          },
        },
        meta,
      );
    },
  };
}

/** zod at the edge of the application layer: a clear validation error, nothing changed. */
function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  return parseWith(schema, input, invalidCatalogInput);
}
