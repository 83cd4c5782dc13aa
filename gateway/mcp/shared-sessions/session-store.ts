import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { ReadModelTables } from '../../../projections/db.ts';
import type { McpScope } from '../session-context.ts';
import type { Subscription } from '../session-state.ts';

/** The client's initialize params, as it sent them: replayed to a gateway that takes the session over. */
export interface SessionInitialize {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  clientInfo: { name: string; version: string } & Record<string, unknown>;
}

/** A shared MCP session: what any gateway needs to serve its next request. */
export interface SessionRecord {
  /** sessionHash of the session id: the id itself is bearer-like and stored nowhere. */
  hash: string;
  principalId: string;
  tenant: string;
  scope: McpScope;
  initialize: SessionInitialize;
  logLevel: LoggingLevel | undefined;
  subscriptions: Record<string, Subscription>;
}

/** Where shared MCP sessions live: the `mcp_sessions` table, in PostgreSQL or PGlite alike. */
export interface SessionStore {
  open(record: SessionRecord): Promise<void>;
  /** The session, unless it ended or has been idle since `idleSince`. */
  find(hash: string, idleSince: Date): Promise<SessionRecord | undefined>;
  setLogLevel(hash: string, level: LoggingLevel): Promise<void>;
  /** Adds or replaces one subscription; concurrent changes to other URIs are kept. */
  subscribe(hash: string, asked: string, s: Subscription): Promise<void>;
  unsubscribe(hash: string, asked: string): Promise<void>;
  /** Marks the session used now (gateways call it at most every few seconds per session). */
  touch(hash: string): Promise<void>;
  /** Ends the session; answers what it was, undefined when it had already ended. */
  end(hash: string): Promise<SessionRecord | undefined>;
  /** Ends the sessions idle since `idleSince`; answers them. */
  expire(idleSince: Date): Promise<SessionRecord[]>;
}

type Row = Selectable<ReadModelTables['mcp_sessions']>;

function toRecord(row: Row): SessionRecord {
  return {
    hash: row.id_hash,
    principalId: row.principal_id,
    tenant: row.tenant,
    scope: row.scope as McpScope,
    initialize: row.initialize as SessionInitialize,
    logLevel: (row.log_level ?? undefined) as LoggingLevel | undefined,
    subscriptions: row.subscriptions,
  };
}

export function sessionStore(db: Kysely<ReadModelTables>): SessionStore {
  const sessions = () => db.selectFrom('mcp_sessions').selectAll();
  return {
    async open(r) {
      const now = new Date();
      await db
        .insertInto('mcp_sessions')
        .values({
          id_hash: r.hash,
          principal_id: r.principalId,
          tenant: r.tenant,
          scope: JSON.stringify(r.scope),
          initialize: JSON.stringify(r.initialize),
          log_level: r.logLevel ?? null,
          subscriptions: JSON.stringify(r.subscriptions),
          opened_at: now,
          last_seen: now,
        })
        .execute();
    },
    async find(hash, idleSince) {
      const row = await sessions()
        .where('id_hash', '=', hash)
        .where('last_seen', '>=', idleSince)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async setLogLevel(hash, level) {
      await db.updateTable('mcp_sessions').set({ log_level: level }).where('id_hash', '=', hash).execute();
    },
    async subscribe(hash, asked, s) {
      await db
        .updateTable('mcp_sessions')
        .set({
          subscriptions: sql`subscriptions || jsonb_build_object(${asked}::text, ${JSON.stringify(s)}::jsonb)`,
        })
        .where('id_hash', '=', hash)
        .execute();
    },
    async unsubscribe(hash, asked) {
      await db
        .updateTable('mcp_sessions')
        .set({ subscriptions: sql`subscriptions - ${asked}::text` })
        .where('id_hash', '=', hash)
        .execute();
    },
    async touch(hash) {
      await db
        .updateTable('mcp_sessions')
        .set({ last_seen: new Date() })
        .where('id_hash', '=', hash)
        .execute();
    },
    async end(hash) {
      const row = await db
        .deleteFrom('mcp_sessions')
        .where('id_hash', '=', hash)
        .returningAll()
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async expire(idleSince) {
      const rows = await db
        .deleteFrom('mcp_sessions')
        .where('last_seen', '<', idleSince)
        .returningAll()
        .execute();
      return rows.map(toRecord);
    },
  };
}
