import { type Kysely, type Selectable, sql } from 'kysely';
import { AppError } from '../../kernel/errors.ts';
import { isUuid } from '../../kernel/ids.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import type { DeploymentStatusColumn, DeploymentStepView, DeploymentsTable, ReadModelTables } from '../db.ts';
import type { TenantScope } from '../tenant-scope.ts';

type Db = Kysely<ReadModelTables>;

const iso = (d: Date | string): string => new Date(d).toISOString();

export const DEPLOYMENT_STATUSES = ['queued', 'running', 'compensating', 'succeeded', 'rolled-back'] as const;

/** A deployment in a list: what was asked and how it stands, without the steps' logs. */
export interface DeploymentSummary {
  id: string;
  tenant: string;
  owner: string;
  server: string;
  /** The server the name points at, once a switch registered or updated it. */
  serverId: string | null;
  source: Record<string, unknown>;
  replicas: number;
  status: DeploymentStatusColumn;
  /** The step under way, if one is. */
  currentStep: string | null;
  /** The server name's revision this deployment put live (succeeded only). */
  revision: number | null;
  failedStep: string | null;
  reason: string | null;
  /** Asked to stop, and why. */
  stopReason: string | null;
  durationMs: number | null;
  requestedAt: string;
  finishedAt: string | null;
  /** The deployment stream's revision and the global position of its last event applied here. */
  streamRevision: string;
  position: string;
}

/** One deployment in full: the summary, its health gate and every step with its log tail. */
export interface DeploymentDetail extends DeploymentSummary {
  health: Record<string, unknown>;
  steps: DeploymentStepView[];
}

export interface ListDeploymentsOptions extends TenantScope {
  server?: string | undefined;
  status?: DeploymentStatusColumn | undefined;
  /** 1-500 (default 100). */
  limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  after?: string | undefined;
}

export interface DeploymentPage {
  items: DeploymentSummary[];
  /** Pass as `after` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** Deployments, newest first (then by id), a page at a time with an opaque keyset cursor. */
export async function listDeployments(db: Db, options: ListDeploymentsOptions = {}): Promise<DeploymentPage> {
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new AppError('validation', 'QUERY.INVALID_LIMIT', 'limit must be an integer from 1 to 500');
  }
  let q = db
    .selectFrom('deployments')
    .select([
      'id',
      'tenant',
      'owner',
      'server_name',
      'server_id',
      'source',
      'replicas',
      'status',
      'current_step',
      'live_revision',
      'failed_step',
      'reason',
      'stop_reason',
      'duration_ms',
      'requested_at',
      'finished_at',
      'stream_revision',
      'position',
    ]);
  if (options.tenant !== undefined) q = q.where('tenant', '=', options.tenant);
  if (options.server !== undefined) q = q.where('server_name', '=', options.server);
  if (options.status !== undefined) q = q.where('status', '=', options.status);
  if (options.after !== undefined) {
    const [requestedAt, id] = decodeCursor(options.after, { dateKey: true });
    q = q.where(sql<boolean>`(requested_at, id) < (${requestedAt}::timestamptz, ${id}::uuid)`);
  }
  const rows = await q
    .orderBy('requested_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toSummary),
    nextCursor: rows.length > limit && last ? encodeCursor(iso(last.requested_at), last.id) : null,
  };
}

/** One deployment by id; another tenant's (for a scoped caller) reads as none. */
export async function getDeployment(
  db: Db,
  id: string,
  scope: TenantScope = {},
): Promise<DeploymentDetail | undefined> {
  if (!isUuid(id)) return undefined;
  let q = db.selectFrom('deployments').selectAll().where('id', '=', id.toLowerCase());
  if (scope.tenant !== undefined) q = q.where('tenant', '=', scope.tenant);
  const row = await q.executeTakeFirst();
  return row && { ...toSummary(row), health: row.health, steps: row.steps };
}

type SummaryRow = Omit<Selectable<DeploymentsTable>, 'steps' | 'health'>;

function toSummary(r: SummaryRow): DeploymentSummary {
  return {
    id: r.id,
    tenant: r.tenant,
    owner: r.owner,
    server: r.server_name,
    serverId: r.server_id,
    source: r.source,
    replicas: r.replicas,
    status: r.status,
    currentStep: r.current_step,
    revision: r.live_revision,
    failedStep: r.failed_step,
    reason: r.reason,
    stopReason: r.stop_reason,
    durationMs: r.duration_ms,
    requestedAt: iso(r.requested_at),
    finishedAt: r.finished_at === null ? null : iso(r.finished_at),
    streamRevision: String(r.stream_revision),
    position: String(r.position),
  };
}
