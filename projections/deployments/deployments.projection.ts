import { sql, type Transaction } from 'kysely';
import {
  DEPLOYMENT_CATEGORY,
  type DeploymentEvent,
  deploymentEventTypeNames,
} from '../../domains/deployments/index.ts';
import type { RecordedEvent } from '../../kernel/envelope.ts';
import { redactArguments } from '../../kernel/redaction.ts';
import type { DeploymentStatusColumn, DeploymentStepView, ReadModelTables } from '../db.ts';
import type { Projection } from '../projection.ts';

type Trx = Transaction<ReadModelTables>;

/** A deployments row as the batch holds it in memory (JSON columns as objects, int8 as bigint). */
interface Row {
  id: string;
  tenant: string;
  owner: string;
  server_name: string;
  server_id: string | null;
  source: Record<string, unknown>;
  replicas: number;
  health: Record<string, unknown>;
  status: DeploymentStatusColumn;
  current_step: string | null;
  steps: DeploymentStepView[];
  stop_reason: string | null;
  live_revision: number | null;
  failed_step: string | null;
  reason: string | null;
  duration_ms: number | null;
  requested_at: string;
  finished_at: string | null;
  stream_revision: bigint;
  position: bigint;
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

/** The step's latest attempt (a step runs once per deployment; a resumed one appends no new start). */
const lastOf = (row: Row, step: string) => row.steps.findLast((s) => s.step === step);

/**
 * Folds one deployment event into its row, with the decider's rules as far as the read side needs
 * them. Returns false when the event changes nothing (an older revision, a row never requested).
 */
function fold(rows: Map<string, Row>, event: RecordedEvent): boolean {
  const e = { type: event.type, data: event.data } as DeploymentEvent;
  const id = e.data.deploymentId;
  const row = rows.get(id);
  if (e.type === 'DeploymentRequested') {
    if (row) return false;
    const d = e.data;
    rows.set(id, {
      id,
      tenant: d.tenant,
      owner: d.owner,
      server_name: d.serverName,
      server_id: null,
      source: d.source,
      replicas: d.replicas,
      // A smoke call's arguments are the caller's data: secret-looking fields never reach a reader.
      health: {
        expectedTools: d.health.expectedTools,
        smoke: d.health.smoke && {
          tool: d.health.smoke.tool,
          arguments: redactArguments(d.health.smoke.arguments),
        },
      },
      // Asked to wait its turn behind a deployment of the same server.
      status: d.queued ? 'queued' : 'running',
      current_step: null,
      steps: [],
      stop_reason: null,
      live_revision: null,
      failed_step: null,
      reason: null,
      duration_ms: null,
      requested_at: d.requestedAt,
      finished_at: null,
      stream_revision: event.revision,
      position: event.position,
    });
    return true;
  }
  if (!row || row.stream_revision >= event.revision) return false;
  row.stream_revision = event.revision;
  row.position = event.position;
  switch (e.type) {
    case 'DeploymentDequeued':
      if (row.status === 'queued') row.status = 'running';
      break;
    case 'DeploymentStepStarted': {
      const d = e.data;
      row.steps = [
        ...row.steps,
        {
          step: d.step,
          outcome: 'running',
          startedAt: d.at,
          deadline: d.deadline,
          endedAt: null,
          durationMs: null,
          log: '',
          reason: null,
          compensation: null,
        },
      ];
      row.current_step = d.step;
      break;
    }
    case 'DeploymentStepCompleted':
    case 'DeploymentStepFailed': {
      const d = e.data;
      const s = lastOf(row, d.step);
      if (s) {
        s.outcome = e.type === 'DeploymentStepCompleted' ? 'completed' : 'failed';
        s.endedAt = d.at;
        s.durationMs = d.durationMs;
        s.log = d.log;
        if (d.result.tools) s.tools = d.result.tools;
        if (e.type === 'DeploymentStepFailed') s.reason = e.data.reason;
      }
      row.current_step = null;
      if (e.type === 'DeploymentStepFailed') {
        row.status = 'compensating';
        row.failed_step = d.step;
        row.reason = e.data.reason;
      } else if (d.result.serverId) row.server_id = d.result.serverId;
      break;
    }
    case 'DeploymentStopRequested':
      row.stop_reason = e.data.reason;
      // Between steps (or still queued) nothing runs: it turns to undoing what completed at once.
      if (row.status === 'queued' || (row.status === 'running' && row.current_step === null)) {
        row.status = 'compensating';
        row.reason = e.data.reason;
      }
      break;
    case 'DeploymentStepCompensated': {
      const s = lastOf(row, e.data.step);
      if (s) s.compensation = { note: e.data.note, at: e.data.at };
      break;
    }
    case 'DeploymentSucceeded':
      row.status = 'succeeded';
      row.current_step = null;
      row.server_id = e.data.serverId;
      row.live_revision = e.data.revision;
      row.duration_ms = e.data.durationMs;
      row.finished_at = e.data.at;
      break;
    case 'DeploymentRolledBack':
      row.status = 'rolled-back';
      row.current_step = null;
      row.failed_step = e.data.failedStep;
      row.reason = e.data.reason;
      row.duration_ms = e.data.durationMs;
      row.finished_at = e.data.at;
      break;
    default: {
      const _: never = e;
      return false;
    }
  }
  return true;
}

/**
 * The deployments projection for any number of events: the rows the batch touches are read in one
 * query, the events folded into them in memory (a request inserts only a missing row; every other
 * event moves a row only forwards in stream revision, so applying an event twice changes nothing),
 * and the changed rows written back in one upsert.
 */
async function applyDeployments(
  trx: Trx,
  table: 'deployments',
  events: readonly RecordedEvent[],
): Promise<void> {
  const ids = [...new Set(events.map((e) => (e.data as { deploymentId: string }).deploymentId))];
  if (ids.length === 0) return;
  const rows = new Map<string, Row>();
  for (const r of await trx.selectFrom(table).selectAll().where('id', 'in', ids).execute()) {
    rows.set(r.id, {
      ...r,
      source: r.source,
      health: r.health,
      // A copy: fold changes step entries in place.
      steps: r.steps.map((s) => ({ ...s })),
      requested_at: iso(r.requested_at),
      finished_at: r.finished_at === null ? null : iso(r.finished_at),
      stream_revision: BigInt(r.stream_revision),
      position: BigInt(r.position),
    });
  }
  const dirty = new Set<string>();
  for (const event of events) {
    if (fold(rows, event)) dirty.add((event.data as { deploymentId: string }).deploymentId);
  }
  if (dirty.size === 0) return;
  const values = [...dirty].map((id) => {
    const r = rows.get(id)!;
    return {
      ...r,
      source: JSON.stringify(r.source),
      health: JSON.stringify(r.health),
      steps: JSON.stringify(r.steps),
      stream_revision: r.stream_revision.toString(),
      position: r.position.toString(),
    };
  });
  const columns = Object.keys(values[0]!).filter((c) => c !== 'id');
  await trx
    .insertInto(table)
    .values(values)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet(Object.fromEntries(columns.map((c) => [c, sql.ref(`excluded.${c}`)])) as never),
    )
    .execute();
}

/**
 * The `deployments` read model: one row per deployment — what was asked, each step with its timing,
 * outcome, log tail and compensation, and how it ended. Only `deployment-<id>` streams are read;
 * the server names' claim streams say nothing a reader needs beyond the live revision, which
 * DeploymentSucceeded carries.
 */
export const deploymentsProjection: Projection = {
  name: 'deployments',
  version: 1,
  // The category keeps the server names' claim streams (deploytarget-<name>) out.
  filter: { categories: [DEPLOYMENT_CATEGORY], types: deploymentEventTypeNames },
  tables: ['deployments'],
  apply: (trx, event, tableNames) =>
    applyDeployments(trx as Trx, (tableNames.deployments ?? 'deployments') as 'deployments', [event]),
  applyBatch: (trx, events, tableNames) =>
    applyDeployments(trx as Trx, (tableNames.deployments ?? 'deployments') as 'deployments', events),
};
