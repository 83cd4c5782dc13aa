import type { Kysely } from 'kysely';
import type { HealthStatusColumn, ReadModelTables } from '../db.ts';

type Db = Kysely<ReadModelTables>;

/**
 * A server's health as the API shows it: the status and since when from the audited transitions,
 * the time, latency and error of the latest check from the probe table — whichever is newer
 * speaks for the check fields.
 */
export interface ServerHealthView {
  /** null until the server's first check. */
  status: HealthStatusColumn | null;
  /** When the status last changed. */
  since: string | null;
  lastCheckAt: string | null;
  latencyMs: number | null;
  /** Error of the latest check; null when it passed. */
  lastError: string | null;
}

export const UNCHECKED: ServerHealthView = {
  status: null,
  since: null,
  lastCheckAt: null,
  latencyMs: null,
  lastError: null,
};

/** Health of several servers at once (two queries), keyed by server id; absent ids were never checked. */
export async function healthOfServers(
  db: Db,
  serverIds: readonly string[],
): Promise<Map<string, ServerHealthView>> {
  const out = new Map<string, ServerHealthView>();
  if (serverIds.length === 0) return out;
  const ids = [...new Set(serverIds.map((id) => id.toLowerCase()))];
  const [transitions, probes] = await Promise.all([
    db.selectFrom('server_health').selectAll().where('server_id', 'in', ids).execute(),
    db.selectFrom('server_health_probes').selectAll().where('server_id', 'in', ids).execute(),
  ]);
  const probeOf = new Map(probes.map((p) => [p.server_id, p]));
  const transitionOf = new Map(transitions.map((t) => [t.server_id, t]));
  for (const id of ids) {
    const t = transitionOf.get(id);
    const p = probeOf.get(id);
    if (!t && !p) continue;
    const since = t ? new Date(t.since) : undefined;
    const checked = p ? new Date(p.checked_at) : undefined;
    // The transition was itself a check; the probe row speaks when it is at least as recent.
    const probeIsLatest = checked !== undefined && (since === undefined || checked >= since);
    out.set(id, {
      status: t?.status ?? p?.status ?? null,
      since: since?.toISOString() ?? null,
      lastCheckAt: (probeIsLatest ? checked : since)?.toISOString() ?? null,
      latencyMs: probeIsLatest ? (p?.latency_ms ?? null) : (t?.latency_ms ?? null),
      lastError: probeIsLatest ? (p?.error ?? null) : (t?.error ?? null),
    });
  }
  return out;
}

/** One server's health; every field null when it was never checked. */
export async function serverHealth(db: Db, serverId: string): Promise<ServerHealthView> {
  return (await healthOfServers(db, [serverId])).get(serverId.toLowerCase()) ?? UNCHECKED;
}
