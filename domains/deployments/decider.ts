import type { Decider } from '../../kernel/decider.ts';
import {
  deploymentAlreadyFinished,
  deploymentInProgress,
  deploymentNotFound,
  revisionNotFound,
  stepOutOfOrder,
} from './errors.ts';
import {
  type DeploymentEvent,
  type DeploymentRequested,
  type DeploymentStep,
  type DeployTargetEvent,
  deploymentSteps,
  type StepResult,
} from './events.ts';

export type Request = DeploymentRequested['data'];

interface Progress {
  request: Request;
  /** Steps that completed, with what they left. */
  completed: Partial<Record<DeploymentStep, StepResult>>;
  startedAt: Date;
}

export type DeploymentState =
  | { status: 'none' }
  /** Waiting for the deployment that holds the server name (it asked to be queued). */
  | (Progress & { status: 'queued' })
  | (Progress & {
      status: 'running';
      /** The step under way, if one is. */
      current: { step: DeploymentStep; deadline: Date; at: Date } | undefined;
      stop: string | undefined;
    })
  | (Progress & {
      status: 'compensating';
      failedStep: DeploymentStep;
      reason: string;
      /** Steps to undo, last first; the head is next. */
      toUndo: DeploymentStep[];
      /** What the failed step did before it failed. */
      failedResult: StepResult;
    })
  | (Progress & { status: 'succeeded'; revision: number })
  | (Progress & { status: 'rolled-back'; failedStep: DeploymentStep; reason: string });

export type DeploymentCommand =
  | { type: 'RequestDeployment'; data: Request }
  | { type: 'Dequeue'; at: Date }
  | { type: 'StartStep'; step: DeploymentStep; deadline: Date; at: Date }
  | { type: 'CompleteStep'; step: DeploymentStep; log: string; result: StepResult; at: Date }
  | { type: 'FailStep'; step: DeploymentStep; reason: string; log: string; result: StepResult; at: Date }
  | { type: 'RequestStop'; reason: string; at: Date }
  | { type: 'RecordCompensation'; step: DeploymentStep; note: string; at: Date }
  | { type: 'Finish'; serverId: string; revision: number; at: Date };

/** Steps whose effects outlive them: a build directory, candidate instances, a switched registry. */
const LEAVES_SOMETHING: ReadonlySet<DeploymentStep> = new Set(['build', 'start', 'switch']);

/** The steps to undo after `failed` failed, last first (the failed step too when it may have acted). */
function undoList(completed: Progress['completed'], failed: DeploymentStep): DeploymentStep[] {
  const done = deploymentSteps.filter((s) => completed[s] !== undefined || s === failed);
  return done.filter((s) => LEAVES_SOMETHING.has(s)).reverse();
}

const ms = (from: Date, to: Date) => Math.max(0, to.getTime() - from.getTime());

/**
 * A deployment as a decider over its own stream: requested → each step started (with its
 * deadline) and completed in order → succeeded; a step that fails (or times out, or a stop asked
 * for) turns it to compensating, which undoes the steps that left something behind in reverse
 * order and ends rolled back. Every input is recorded before its effect, so a worker that dies
 * resumes from here.
 */
export const deploymentDecider: Decider<DeploymentCommand, DeploymentEvent, DeploymentState> = {
  initialState: { status: 'none' },

  decide(command, state) {
    if (command.type === 'RequestDeployment') {
      return state.status === 'none' ? [{ type: 'DeploymentRequested', data: command.data }] : [];
    }
    if (state.status === 'none') throw deploymentNotFound();
    const deploymentId = state.request.deploymentId;
    switch (command.type) {
      case 'Dequeue':
        return state.status === 'queued'
          ? [{ type: 'DeploymentDequeued', data: { deploymentId, at: command.at.toISOString() } }]
          : [];
      case 'StartStep': {
        if (state.status !== 'running' || state.stop !== undefined) return [];
        if (state.current?.step === command.step) return [];
        if (state.current !== undefined || nextStep(state) !== command.step)
          throw stepOutOfOrder(command.step);
        return [
          {
            type: 'DeploymentStepStarted',
            data: {
              deploymentId,
              step: command.step,
              deadline: command.deadline.toISOString(),
              at: command.at.toISOString(),
            },
          },
        ];
      }
      case 'CompleteStep':
      case 'FailStep': {
        if (state.status !== 'running' || state.current?.step !== command.step) return [];
        const durationMs = ms(state.current.at, command.at);
        const log = tail(command.log);
        // A stop asked for while the step ran wins over its success: the deployment is undone.
        if (command.type === 'CompleteStep' && state.stop === undefined) {
          return [
            {
              type: 'DeploymentStepCompleted',
              data: {
                deploymentId,
                step: command.step,
                durationMs,
                log,
                result: command.result,
                at: command.at.toISOString(),
              },
            },
          ];
        }
        return [
          {
            type: 'DeploymentStepFailed',
            data: {
              deploymentId,
              step: command.step,
              durationMs,
              reason: command.type === 'FailStep' ? command.reason : (state.stop ?? 'stopped'),
              log,
              result: command.result,
              at: command.at.toISOString(),
            },
          },
        ];
      }
      case 'RequestStop': {
        if (state.status === 'succeeded' || state.status === 'rolled-back') throw deploymentAlreadyFinished();
        if (state.status === 'compensating' || (state.status === 'running' && state.stop !== undefined))
          return [];
        return [
          {
            type: 'DeploymentStopRequested',
            data: { deploymentId, reason: command.reason, at: command.at.toISOString() },
          },
        ];
      }
      case 'RecordCompensation': {
        if (state.status !== 'compensating' || state.toUndo[0] !== command.step) return [];
        return [
          {
            type: 'DeploymentStepCompensated',
            data: { deploymentId, step: command.step, note: command.note, at: command.at.toISOString() },
          },
        ];
      }
      case 'Finish': {
        const serverName = state.request.serverName;
        const durationMs = ms(state.startedAt, command.at);
        if (state.status === 'running' && state.stop === undefined && nextStep(state) === undefined) {
          return [
            {
              type: 'DeploymentSucceeded',
              data: {
                deploymentId,
                serverName,
                serverId: command.serverId,
                revision: command.revision,
                durationMs,
                at: command.at.toISOString(),
              },
            },
          ];
        }
        if (state.status === 'compensating' && state.toUndo.length === 0) {
          return [
            {
              type: 'DeploymentRolledBack',
              data: {
                deploymentId,
                serverName,
                failedStep: state.failedStep,
                reason: state.reason,
                durationMs,
                at: command.at.toISOString(),
              },
            },
          ];
        }
        return [];
      }
      default: {
        const _: never = command;
        return _;
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'DeploymentRequested': {
        const progress = { request: event.data, completed: {}, startedAt: new Date(event.data.requestedAt) };
        return event.data.queued
          ? { status: 'queued', ...progress }
          : { status: 'running', ...progress, current: undefined, stop: undefined };
      }
      case 'DeploymentDequeued':
        if (state.status !== 'queued') return state;
        return { ...state, status: 'running', current: undefined, stop: undefined };
      case 'DeploymentStepStarted':
        if (state.status !== 'running') return state;
        return {
          ...state,
          current: {
            step: event.data.step,
            deadline: new Date(event.data.deadline),
            at: new Date(event.data.at),
          },
        };
      case 'DeploymentStepCompleted':
        if (state.status !== 'running') return state;
        return {
          ...state,
          current: undefined,
          completed: { ...state.completed, [event.data.step]: event.data.result },
        };
      case 'DeploymentStepFailed':
        if (state.status !== 'running') return state;
        return undoing(
          state,
          event.data.step,
          event.data.reason,
          undoList(state.completed, event.data.step),
          event.data.result,
        );
      case 'DeploymentStopRequested': {
        if (state.status === 'queued') {
          // It never started: nothing to undo, it ends at once.
          return undoing(state, 'build', event.data.reason, [], {});
        }
        if (state.status !== 'running') return state;
        if (state.current !== undefined) return { ...state, stop: event.data.reason };
        // Between steps: nothing runs, so it turns to undoing what completed at once.
        const at = nextStep(state) ?? 'drain';
        const done = undoList(state.completed, at).filter((s) => state.completed[s] !== undefined);
        return undoing(state, at, event.data.reason, done, {});
      }
      case 'DeploymentStepCompensated':
        if (state.status !== 'compensating') return state;
        return { ...state, toUndo: state.toUndo.filter((s) => s !== event.data.step) };
      case 'DeploymentSucceeded':
        if (state.status !== 'running') return state;
        return {
          status: 'succeeded',
          request: state.request,
          completed: state.completed,
          startedAt: state.startedAt,
          revision: event.data.revision,
        };
      case 'DeploymentRolledBack':
        if (state.status !== 'compensating') return state;
        return {
          status: 'rolled-back',
          request: state.request,
          completed: state.completed,
          startedAt: state.startedAt,
          failedStep: state.failedStep,
          reason: state.reason,
        };
      default: {
        const _: never = event;
        return state;
      }
    }
  },
};

/** A deployment turned to undoing what it did, after `failedStep` failed (or a stop). */
function undoing(
  state: Progress,
  failedStep: DeploymentStep,
  reason: string,
  toUndo: DeploymentStep[],
  failedResult: StepResult,
): DeploymentState {
  const { request, completed, startedAt } = state;
  return { status: 'compensating', request, completed, startedAt, failedStep, reason, toUndo, failedResult };
}

/** The first step not completed yet, or undefined when all are. */
export function nextStep(state: Progress): DeploymentStep | undefined {
  return deploymentSteps.find((s) => state.completed[s] === undefined);
}

/** The tail of a step's output that a deployment keeps. */
export function tail(log: string, max = 16_384): string {
  return log.length <= max ? log : `…${log.slice(log.length - max + 1)}`;
}

/** A revision that went live under a server name, and the deployment that built it. */
export interface LiveRevision {
  revision: number;
  deploymentId: string;
}

export type DeployTargetState = {
  active: string | undefined;
  /** Deployments waiting their turn, first first. */
  queue: string[];
  revisions: LiveRevision[];
};

export type DeployTargetCommand =
  | { type: 'Claim'; serverName: string; deploymentId: string; queue: boolean; at: Date }
  | {
      type: 'Release';
      serverName: string;
      deploymentId: string;
      outcome: 'succeeded' | 'rolled-back';
      at: Date;
    };

/**
 * A server name's deployments: one at a time (a second is refused while one runs, or queued when
 * it asks to be: it gets the name when the ones before it end), and the revisions that went live,
 * numbered from 1, which rollbacks name.
 */
export const deployTargetDecider: Decider<DeployTargetCommand, DeployTargetEvent, DeployTargetState> = {
  initialState: { active: undefined, queue: [], revisions: [] },

  decide(command, state) {
    switch (command.type) {
      case 'Claim':
        if (state.active === command.deploymentId || state.queue.includes(command.deploymentId)) return [];
        if (state.active !== undefined) {
          if (!command.queue) throw deploymentInProgress(command.serverName, state.active);
          return [
            {
              type: 'DeploymentQueued',
              data: {
                serverName: command.serverName,
                deploymentId: command.deploymentId,
                at: command.at.toISOString(),
              },
            },
          ];
        }
        return [
          {
            type: 'DeploymentClaimed',
            data: {
              serverName: command.serverName,
              deploymentId: command.deploymentId,
              at: command.at.toISOString(),
            },
          },
        ];
      case 'Release': {
        const at = command.at.toISOString();
        if (state.queue.includes(command.deploymentId)) {
          const data = { serverName: command.serverName, deploymentId: command.deploymentId };
          return [
            { type: 'DeploymentReleased', data: { ...data, outcome: 'rolled-back', revision: null, at } },
          ];
        }
        if (state.active !== command.deploymentId) return [];
        const next = state.queue[0];
        return [
          {
            type: 'DeploymentReleased',
            data: {
              serverName: command.serverName,
              deploymentId: command.deploymentId,
              outcome: command.outcome,
              revision: command.outcome === 'succeeded' ? nextRevision(state) : null,
              at,
            },
          },
          // The next in line gets the name in the same write: no third deployment slips in between.
          ...(next === undefined
            ? []
            : [
                {
                  type: 'DeploymentClaimed' as const,
                  data: { serverName: command.serverName, deploymentId: next, at },
                },
              ]),
        ];
      }
      default: {
        const _: never = command;
        return _;
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'DeploymentClaimed':
        return {
          ...state,
          active: event.data.deploymentId,
          queue: state.queue.filter((id) => id !== event.data.deploymentId),
        };
      case 'DeploymentQueued':
        return { ...state, queue: [...state.queue, event.data.deploymentId] };
      case 'DeploymentReleased':
        if (state.active !== event.data.deploymentId) {
          return { ...state, queue: state.queue.filter((id) => id !== event.data.deploymentId) };
        }
        return {
          active: undefined,
          queue: state.queue,
          revisions:
            event.data.revision === null
              ? state.revisions
              : [
                  ...state.revisions,
                  { revision: event.data.revision, deploymentId: event.data.deploymentId },
                ],
        };
      default: {
        const _: never = event;
        return state;
      }
    }
  },
};

/** The number the next live revision of a server name gets. */
export function nextRevision(state: DeployTargetState): number {
  return (state.revisions.at(-1)?.revision ?? 0) + 1;
}

/** The live revision a rollback names, or the error that says it never went live here. */
export function liveRevision(state: DeployTargetState, serverName: string, revision: number): LiveRevision {
  const found = state.revisions.find((r) => r.revision === revision);
  if (!found) throw revisionNotFound(serverName, revision);
  return found;
}
