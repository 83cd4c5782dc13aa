import type { DeploymentDetail, DeploymentSummary } from '../projections/deployments/index.ts';
import type { CliIo } from './io.ts';
import { type ProgressReporter, progressReporter } from './progress.ts';
import { formatTable } from './table.ts';

/** How `switchyard deploy` and `switchyard deployments …` print deployments. */

/** A line of the deployment's NDJSON answer (gateway/routes/deployments.routes.ts). */
export interface Line {
  type: string;
  queued?: boolean;
  id?: string;
  step?: string;
  index?: number;
  durationMs?: number;
  reason?: string;
  log?: string;
  note?: string;
  server?: string;
  revision?: number;
  failedStep?: string;
  status?: number;
  body?: unknown;
}

const STEPS = 5;
export const secs = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(1)} s`;
const indent = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

/**
 * Draws the deployment as it goes: a bar for the step under way (plain lines when stderr is not a
 * terminal), a line for each step that ended, the failure's reason and output, each compensation.
 */
export function stepPrinter(io: CliIo, quiet: boolean) {
  let bar: ProgressReporter | undefined;
  const say = (text: string) => {
    bar?.stop();
    bar = undefined;
    if (!quiet) io.stderr.write(`${text}\n`);
  };
  return {
    line(l: Line) {
      switch (l.type) {
        case 'requested':
          if (l.queued) say('queued behind the deployment of this server under way');
          break;
        case 'dequeued':
          say('its turn came: starting');
          break;
        case 'step-started':
          bar?.stop();
          bar = progressReporter({ stream: io.stderr, label: `[${l.index}/${STEPS}] ${l.step}`, quiet });
          bar.update({ progress: 0, total: 1, message: 'running' });
          break;
        case 'step-completed':
          say(`[${l.index}/${STEPS}] ${l.step} done in ${secs(l.durationMs)}`);
          break;
        case 'step-failed':
          say(`[${l.index}/${STEPS}] ${l.step} FAILED after ${secs(l.durationMs)}: ${l.reason}`);
          if (l.log?.trim() && !quiet) io.stderr.write(`${indent(l.log)}\n`);
          break;
        case 'stop-requested':
          say(`stop requested: ${l.reason}`);
          break;
        case 'step-compensated':
          say(`undone: ${l.step} (${l.note})`);
          break;
      }
    },
    stop: () => {
      bar?.stop();
      bar = undefined;
    },
  };
}

const sourceText = (s: Record<string, unknown>) => {
  switch (s.kind) {
    case 'project':
      return `project:${s.projectId}`;
    case 'template':
      return `template:${s.template}@${s.version}`;
    case 'directory':
      return `dir:${s.path}`;
    case 'npm':
      return `npm:${s.package}@${s.version}`;
    case 'revision':
      return `rollback to revision ${s.revision}`;
    default:
      return String(s.kind);
  }
};

const outcomeText = (d: DeploymentSummary) =>
  d.status === 'succeeded'
    ? `revision ${d.revision}`
    : d.status === 'rolled-back'
      ? `at ${d.failedStep}: ${d.reason}`
      : (d.currentStep ?? '');

/** Deployments as a table, newest first. */
export function formatDeployments(items: readonly DeploymentSummary[]): string {
  if (items.length === 0) return 'no deployments\n';
  return formatTable(
    ['ID', 'SERVER', 'STATUS', 'SOURCE', 'REQUESTED', 'OUTCOME'],
    items.map((d) => [d.id, d.server, d.status, sourceText(d.source), d.requestedAt, outcomeText(d)]),
  );
}

/** One deployment: what, how it stands, each step (a failed step's output; every step's with `logs`). */
export function formatDeployment(d: DeploymentDetail, logs: boolean): string {
  const out = [
    `deployment ${d.id}: ${d.server} from ${sourceText(d.source)}`,
    `status: ${d.status}${outcomeText(d) ? ` (${outcomeText(d)})` : ''}`,
    `requested: ${d.requestedAt}${d.durationMs === null ? '' : `, took ${secs(d.durationMs)}`}`,
  ];
  for (const s of d.steps) {
    out.push(
      `  ${s.step.padEnd(7)} ${s.outcome}${s.durationMs === null ? '' : ` in ${secs(s.durationMs)}`}${s.reason ? `: ${s.reason}` : ''}${s.compensation ? ` — undone (${s.compensation.note})` : ''}`,
    );
    if ((logs || s.outcome === 'failed') && s.log.trim()) out.push(indent(s.log));
  }
  return `${out.join('\n')}\n`;
}
