import { AppError } from '../../kernel/errors.ts';

/** Stable codes of the tool-call domain. */
export const ToolCallErrorCode = {
  NotStarted: 'TOOLCALL.NOT_STARTED',
  AlreadyStarted: 'TOOLCALL.ALREADY_STARTED',
  AlreadyFinished: 'TOOLCALL.ALREADY_FINISHED',
} as const;
export type ToolCallErrorCode = (typeof ToolCallErrorCode)[keyof typeof ToolCallErrorCode];

/** No ToolCallStarted for this id (kind not_found). */
export function toolCallNotStarted(callId: string): AppError {
  return new AppError('not_found', ToolCallErrorCode.NotStarted, `tool call ${callId} was never started`, {
    callId,
  });
}

/** A call id can start one call only (kind conflict). */
export function toolCallAlreadyStarted(callId: string): AppError {
  return new AppError(
    'conflict',
    ToolCallErrorCode.AlreadyStarted,
    `tool call ${callId} has already started`,
    {
      callId,
    },
  );
}

/** A call has one outcome (kind conflict). */
export function toolCallAlreadyFinished(callId: string, outcome: string): AppError {
  return new AppError(
    'conflict',
    ToolCallErrorCode.AlreadyFinished,
    `tool call ${callId} has already finished (${outcome})`,
    { callId, outcome },
  );
}
