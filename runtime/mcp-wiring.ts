import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Kysely } from 'kysely';
import type { CatalogCommands } from '../domains/catalog/index.ts';
import type { HealthCommands } from '../domains/health/index.ts';
import type { CatalogServer, CatalogSource } from '../gateway/mcp/catalog-source.ts';
import type { CommandMeta } from '../kernel/decider.ts';
import { randomIds } from '../kernel/ids.ts';
import { sanitizeStorable } from '../kernel/storable.ts';
import type { ReadModelTables } from '../projections/db.ts';
import { type CatalogView, listCatalog, recordHealthProbe } from '../projections/index.ts';
import type { CatalogRecorder } from '../sagas/discovery/discovery.process.ts';
import type { HealthRecorder } from '../sagas/health/health-monitor.ts';

/** Glue between the gateway's and sagas' small ports and the domains and read models. */

function toCatalogServer(v: CatalogView): CatalogServer {
  return {
    serverId: v.serverId,
    name: v.serverName,
    tenant: v.tenant,
    owner: v.owner,
    capabilities: v.capabilities,
    instructions: v.instructions ?? undefined,
    tools: v.tools as Tool[],
    toolOrigins: v.toolOrigins,
    resources: v.resources as Resource[],
    resourceTemplates: v.resourceTemplates as ResourceTemplate[],
    prompts: v.prompts as Prompt[],
  };
}

/**
 * The catalog projection as the MCP endpoints read it: enabled servers with a discovered catalog.
 * Held in memory between changes (every tool call looks its server up): `invalidate()` is called
 * by the gateway's change feed once the projection shows a new catalog or server state, and a
 * short time-to-live bounds staleness should that feed ever lag.
 */
export function catalogSource(
  db: Kysely<ReadModelTables>,
  ttlMs = 5_000,
): CatalogSource & { invalidate(): void } {
  let cached: { at: number; servers: Promise<CatalogServer[]> } | undefined;
  const load = async () =>
    (await listCatalog(db, { enabled: true })).filter((v) => v.hash !== null).map(toCatalogServer);
  const enabled = (): Promise<CatalogServer[]> => {
    const now = Date.now();
    if (!cached || now - cached.at > ttlMs) {
      const servers = load();
      cached = { at: now, servers };
      servers.catch(() => {
        if (cached?.servers === servers) cached = undefined;
      });
    }
    return cached.servers;
  };
  return {
    enabledServers: enabled,
    async serverByName(name) {
      return (await enabled()).find((s) => s.name === name);
    },
    invalidate() {
      cached = undefined;
    },
  };
}

const systemMeta = (
  actor: string,
  correlationId: string,
  traceparent?: string,
  who: { tenant?: string; credential?: string } = {},
): CommandMeta => ({
  commandId: randomIds.uuid(),
  actor,
  ...who,
  correlationId,
  traceparent,
  issuedAt: new Date(),
});

/** The discovery saga's outcomes, as catalog commands. */
export function catalogRecorder(commands: CatalogCommands): CatalogRecorder {
  const meta = () => systemMeta('system:discovery', randomIds.uuid());
  return {
    async record(serverId, serverRevision, catalog, { pinTools }) {
      // An upstream's catalog is data we do not choose: what the log cannot hold is replaced, not refused.
      const r = await commands.recordDiscovery(
        { serverId, serverRevision, catalog: sanitizeStorable(catalog), pinTools },
        meta(),
      );
      return { hash: r.hash, changed: r.changed };
    },
    async recordFailure(serverId, reason, attempt, willRetry) {
      await commands.recordFailure(
        { serverId, reason: sanitizeStorable(reason), attempt, willRetry },
        meta(),
      );
    },
    async clear(serverId) {
      await commands.clear({ serverId, reason: 'server removed' }, meta());
    },
  };
}

/** Health checks: transitions as events, every probe into the live status table. */
export function healthRecorder(commands: HealthCommands, db: Kysely<ReadModelTables>): HealthRecorder {
  return {
    async record(probe) {
      const check = sanitizeStorable(probe);
      await recordHealthProbe(db, check);
      await commands.record(
        {
          serverId: check.serverId,
          status: check.status,
          ...(check.latencyMs !== undefined && { latencyMs: check.latencyMs }),
          ...(check.error !== undefined && { error: check.error }),
          checkedAt: check.checkedAt,
        },
        systemMeta('system:health', randomIds.uuid()),
      );
    },
  };
}
