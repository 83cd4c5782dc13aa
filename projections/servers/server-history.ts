import type { RecordedEvent } from '../../kernel/envelope.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import { redactSecrets } from '../../kernel/secrets.ts';

/** One change of a server's configuration, as its stream recorded it, secrets redacted. */
export interface ServerChangeView {
  revision: string;
  position: string;
  type: string;
  recordedAt: string;
  /** Who issued the command (the authenticated principal). */
  actor: string;
  correlationId: string;
  /** The event's data; env, header and query values of a transport redacted as in the read model. */
  data: Record<string, unknown>;
}

export interface ServerHistoryPage {
  items: ServerChangeView[];
  /** Pass as `fromRevision` for the next page; null on the last. */
  nextRevision: string | null;
}

/**
 * A server's configuration history, straight from its stream (`server-<id>`), the source of truth:
 * registration, updates, enabling, disabling, refreshes, removal, oldest first. Secrets never leave
 * in any form: a transport's values are replaced as the servers read model shows them
 * (redactSecrets, as redact-transport.ts does); sealed values are not even shown encrypted.
 */
export async function serverHistory(
  store: Pick<EventStore, 'readStream'>,
  serverId: string,
  options: { fromRevision?: bigint; limit?: number } = {},
): Promise<ServerHistoryPage> {
  const limit = options.limit ?? 100;
  const events = await store.readStream(`server-${serverId.toLowerCase()}`, {
    direction: 'forwards',
    ...(options.fromRevision !== undefined && { fromRevision: options.fromRevision }),
    maxCount: limit,
  });
  const last = events.at(-1);
  return {
    items: events.map(changeView),
    nextRevision: events.length === limit && last ? (last.revision + 1n).toString() : null,
  };
}

function changeView(e: RecordedEvent): ServerChangeView {
  return {
    revision: e.revision.toString(),
    position: e.position.toString(),
    type: e.type,
    recordedAt: e.recordedAt.toISOString(),
    actor: e.metadata.actor,
    correlationId: e.metadata.correlationId,
    data: redactData(e.data),
  };
}

/**
 * Whatever the event's schema version: every map of a transport (env, headers, query) leaves with
 * its values replaced as the read model shows them (redactSecrets: `[redacted]`, references named);
 * the command, args, URL and type stay.
 */
function redactData(data: unknown): Record<string, unknown> {
  if (data === null || typeof data !== 'object') return {};
  const out = { ...(data as Record<string, unknown>) };
  const t = out.transport;
  if (t !== null && typeof t === 'object') {
    out.transport = Object.fromEntries(
      Object.entries(t as Record<string, unknown>).map(([k, v]) => [
        k,
        v !== null && typeof v === 'object' && !Array.isArray(v)
          ? redactSecrets(v as Record<string, unknown>)
          : v,
      ]),
    );
  }
  return out;
}
