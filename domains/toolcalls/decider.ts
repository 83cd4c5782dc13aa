import type { Decider } from '../../kernel/decider.ts';
import type { AbandonToolCall, CompleteToolCall, StartToolCall, ToolCallCommand } from './commands.ts';
import { toolCallAlreadyFinished, toolCallAlreadyStarted, toolCallNotStarted } from './errors.ts';
import type { ToolCallEvent } from './events.ts';

interface CallIdentity {
  callId: string;
  serverId: string;
  tool: string;
}

export type ToolCallState =
  | { status: 'none' }
  | ({ status: 'running' } & CallIdentity)
  | ({ status: 'finished'; outcome: 'succeeded' | 'failed' } & CallIdentity)
  | ({ status: 'abandoned' } & CallIdentity);

export const initialState: ToolCallState = { status: 'none' };

/**
 * One tool call's life: started, then one outcome. An outcome that arrives after the call was
 * abandoned is still recorded — a result that reached a client must be in the log, even if recovery
 * gave up on it first. Abandoning a finished call is a no-op (recovery racing a late completion).
 */
export function decide(command: ToolCallCommand, state: ToolCallState): ToolCallEvent[] {
  switch (command.type) {
    case 'StartToolCall':
      return start(command, state);
    case 'CompleteToolCall':
      return complete(command, state);
    case 'AbandonToolCall':
      return abandon(command, state);
    default: {
      const _: never = command;
      return _;
    }
  }
}

export function evolve(state: ToolCallState, event: ToolCallEvent): ToolCallState {
  switch (event.type) {
    case 'ToolCallStarted': {
      const { callId, serverId, tool } = event.data;
      return { status: 'running', callId, serverId, tool };
    }
    case 'ToolCallSucceeded':
    case 'ToolCallFailed': {
      if (state.status === 'none') return state;
      const outcome = event.type === 'ToolCallSucceeded' ? 'succeeded' : 'failed';
      return {
        status: 'finished',
        outcome,
        callId: state.callId,
        serverId: state.serverId,
        tool: state.tool,
      };
    }
    case 'ToolCallAbandoned':
      return state.status === 'running' ? { ...state, status: 'abandoned' } : state;
    default: {
      const _: never = event;
      return state;
    }
  }
}

export const toolCallDecider: Decider<ToolCallCommand, ToolCallEvent, ToolCallState> = {
  initialState,
  decide,
  evolve,
};

function start(command: StartToolCall, state: ToolCallState): ToolCallEvent[] {
  if (state.status !== 'none') throw toolCallAlreadyStarted(command.data.callId);
  const d = command.data;
  return [
    {
      type: 'ToolCallStarted',
      data: {
        callId: d.callId,
        serverId: d.serverId,
        serverName: d.serverName,
        tool: d.tool,
        ...(d.servedAs !== undefined && { servedAs: d.servedAs }),
        arguments: d.arguments,
        actor: d.actor,
        via: d.via,
        ...(d.sessionId !== undefined && { sessionId: d.sessionId }),
        tenant: d.tenant,
        ...(d.authz !== undefined && { authz: d.authz }),
        startedAt: d.startedAt.toISOString(),
      },
    },
  ];
}

function complete(command: CompleteToolCall, state: ToolCallState): ToolCallEvent[] {
  const d = command.data;
  switch (state.status) {
    case 'none':
      throw toolCallNotStarted(d.callId);
    case 'finished':
      throw toolCallAlreadyFinished(d.callId, state.outcome);
    case 'running':
    case 'abandoned':
      break;
    default: {
      const _: never = state;
      return _;
    }
  }
  const { callId, serverId, tool } = state;
  const finishedAt = d.finishedAt.toISOString();
  if (d.outcome === 'succeeded') {
    return [
      {
        type: 'ToolCallSucceeded',
        data: {
          callId,
          serverId,
          tool,
          durationMs: d.durationMs,
          resultBytes: d.resultBytes,
          resultHash: d.resultHash,
          isError: d.isError,
          finishedAt,
        },
      },
    ];
  }
  return [
    {
      type: 'ToolCallFailed',
      data: {
        callId,
        serverId,
        tool,
        durationMs: d.durationMs,
        error: d.error,
        ...(d.resultBytes !== undefined && { resultBytes: d.resultBytes }),
        ...(d.resultHash !== undefined && { resultHash: d.resultHash }),
        finishedAt,
      },
    },
  ];
}

function abandon(command: AbandonToolCall, state: ToolCallState): ToolCallEvent[] {
  switch (state.status) {
    case 'none':
      throw toolCallNotStarted(command.data.callId);
    case 'finished':
    case 'abandoned':
      return [];
    case 'running':
      return [
        {
          type: 'ToolCallAbandoned',
          data: {
            callId: state.callId,
            serverId: state.serverId,
            tool: state.tool,
            reason: command.data.reason,
            abandonedAt: command.data.at.toISOString(),
          },
        },
      ];
    default: {
      const _: never = state;
      return _;
    }
  }
}
