import {
  type DeploymentEvent,
  type DeploymentStep,
  deploymentSteps,
  deploymentStream,
} from '../../domains/deployments/index.ts';
import { sleep } from '../../kernel/async.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';

/**
 * One thing that happened to a deployment, as a caller following it sees it (NDJSON lines on REST,
 * progress notifications of the MCP tool, the CLI's bars). What a step left on the host (its build
 * directory, the command it runs) stays out: only the step, its timing, outcome and the tail of its
 * output for a failure, which is what a caller needs to know why.
 */
export type DeploymentUpdate =
  | { type: 'requested'; deploymentId: string; server: string; queued: boolean; at: string }
  | { type: 'dequeued'; at: string }
  | { type: 'step-started'; step: DeploymentStep; index: number; deadline: string; at: string }
  | {
      type: 'step-completed';
      step: DeploymentStep;
      index: number;
      durationMs: number;
      tools?: string[];
      at: string;
    }
  | {
      type: 'step-failed';
      step: DeploymentStep;
      index: number;
      durationMs: number;
      reason: string;
      log: string;
      at: string;
    }
  | { type: 'stop-requested'; reason: string; at: string }
  | { type: 'step-compensated'; step: DeploymentStep; note: string; at: string }
  | { type: 'succeeded'; server: string; serverId: string; revision: number; durationMs: number; at: string }
  | {
      type: 'rolled-back';
      server: string;
      failedStep: DeploymentStep;
      reason: string;
      durationMs: number;
      at: string;
    };

/** How a deployment ended, as the last update said it. */
export type DeploymentOutcome = Extract<DeploymentUpdate, { type: 'succeeded' | 'rolled-back' }> & {
  deploymentId: string;
};

/** The most of a failed step's output an update carries (the whole tail is in GET /deployments/:id). */
const FAILURE_LOG_CHARS = 4_000;

const indexOf = (step: DeploymentStep) => deploymentSteps.indexOf(step) + 1;

/** The update an event of `deployment-<id>` is, for a caller. */
export function deploymentUpdate(e: DeploymentEvent): DeploymentUpdate {
  switch (e.type) {
    case 'DeploymentRequested':
      return {
        type: 'requested',
        deploymentId: e.data.deploymentId,
        server: e.data.serverName,
        queued: e.data.queued,
        at: e.data.requestedAt,
      };
    case 'DeploymentDequeued':
      return { type: 'dequeued', at: e.data.at };
    case 'DeploymentStepStarted':
      return {
        type: 'step-started',
        step: e.data.step,
        index: indexOf(e.data.step),
        deadline: e.data.deadline,
        at: e.data.at,
      };
    case 'DeploymentStepCompleted':
      return {
        type: 'step-completed',
        step: e.data.step,
        index: indexOf(e.data.step),
        durationMs: e.data.durationMs,
        ...(e.data.result.tools && { tools: e.data.result.tools }),
        at: e.data.at,
      };
    case 'DeploymentStepFailed':
      return {
        type: 'step-failed',
        step: e.data.step,
        index: indexOf(e.data.step),
        durationMs: e.data.durationMs,
        reason: e.data.reason,
        log: e.data.log.length <= FAILURE_LOG_CHARS ? e.data.log : `…${e.data.log.slice(-FAILURE_LOG_CHARS)}`,
        at: e.data.at,
      };
    case 'DeploymentStopRequested':
      return { type: 'stop-requested', reason: e.data.reason, at: e.data.at };
    case 'DeploymentStepCompensated':
      return { type: 'step-compensated', step: e.data.step, note: e.data.note, at: e.data.at };
    case 'DeploymentSucceeded':
      return {
        type: 'succeeded',
        server: e.data.serverName,
        serverId: e.data.serverId,
        revision: e.data.revision,
        durationMs: e.data.durationMs,
        at: e.data.at,
      };
    case 'DeploymentRolledBack':
      return {
        type: 'rolled-back',
        server: e.data.serverName,
        failedStep: e.data.failedStep,
        reason: e.data.reason,
        durationMs: e.data.durationMs,
        at: e.data.at,
      };
    default: {
      const _: never = e;
      return _;
    }
  }
}

/** A one-line account of an update, for progress messages. */
export function describeUpdate(u: DeploymentUpdate): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  switch (u.type) {
    case 'requested':
      return `deployment ${u.deploymentId} of ${u.server} requested${u.queued ? ', queued behind the one under way' : ''}`;
    case 'dequeued':
      return 'its turn came: starting';
    case 'step-started':
      return `${u.step}: started`;
    case 'step-completed':
      return `${u.step}: done in ${s(u.durationMs)}`;
    case 'step-failed':
      return `${u.step}: failed after ${s(u.durationMs)}: ${u.reason}`;
    case 'stop-requested':
      return `stop requested: ${u.reason}`;
    case 'step-compensated':
      return `${u.step}: undone (${u.note})`;
    case 'succeeded':
      return `succeeded: ${u.server} serves revision ${u.revision} (${s(u.durationMs)})`;
    case 'rolled-back':
      return `rolled back at ${u.failedStep}: ${u.reason}`;
    default: {
      const _: never = u;
      return _;
    }
  }
}

export interface FollowOptions {
  /** Ends the following (the client left); the deployment itself goes on. */
  signal?: AbortSignal | undefined;
  /** How often the stream is read again while nothing new came (default 200 ms). */
  pollMs?: number;
}

/**
 * Follows `deployment-<id>` from its first event to its end, reading the stream from the event store
 * (the one source every process shares: in distributed mode the saga runs on a worker and the
 * gateway only reads), handing each event to `onUpdate` in order. Resolves with the outcome, or
 * undefined when `signal` ended it first.
 */
export async function followDeployment(
  store: EventStore,
  deploymentId: string,
  onUpdate: (u: DeploymentUpdate) => void | Promise<void>,
  options: FollowOptions = {},
): Promise<DeploymentOutcome | undefined> {
  const stream = deploymentStream(deploymentId);
  const pollMs = options.pollMs ?? 200;
  let next = 0n;
  while (!options.signal?.aborted) {
    const events = await store.readStream(stream, { fromRevision: next, maxCount: 100 });
    for (const e of events) {
      next = e.revision + 1n;
      const u = deploymentUpdate({ type: e.type, data: e.data } as DeploymentEvent);
      await onUpdate(u);
      if (u.type === 'succeeded' || u.type === 'rolled-back') return { ...u, deploymentId };
    }
    if (events.length < 100) await sleep(pollMs, options.signal);
  }
  return undefined;
}
