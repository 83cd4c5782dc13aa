import { AppError } from '../../kernel/errors.ts';

/** Stable codes of the servers domain; clients may switch on them. */
export const ServerErrorCode = {
  NotFound: 'SERVER.NOT_FOUND',
  Removed: 'SERVER.REMOVED',
  AlreadyExists: 'SERVER.ALREADY_EXISTS',
  NameTaken: 'SERVER.NAME_TAKEN',
  InvalidSecret: 'SERVER.INVALID_SECRET',
  InvalidInput: 'SERVER.INVALID_INPUT',
  Disabled: 'SERVER.DISABLED',
} as const;
export type ServerErrorCode = (typeof ServerErrorCode)[keyof typeof ServerErrorCode];

/** No server has this id (kind not_found). */
export function serverNotFound(serverId: string): AppError {
  return new AppError('not_found', ServerErrorCode.NotFound, `server ${serverId} does not exist`, {
    serverId,
  });
}

/** A removed server reads as gone (reads hide it too), but the code says why. */
export function serverRemoved(serverId: string): AppError {
  return new AppError('not_found', ServerErrorCode.Removed, `server ${serverId} has been removed`, {
    serverId,
  });
}

/** A RegisterServer for an id that already has a stream (kind conflict). */
export function serverAlreadyExists(serverId: string): AppError {
  return new AppError('conflict', ServerErrorCode.AlreadyExists, `server ${serverId} is already registered`, {
    serverId,
  });
}

/** Another active server holds the name (kind conflict). */
export function serverNameTaken(name: string, heldBy: string): AppError {
  return new AppError('conflict', ServerErrorCode.NameTaken, `server name "${name}" is already taken`, {
    name,
    heldBy,
  });
}

/** A secret value that cannot be used as given (kind validation). */
export function invalidSecret(path: string, reason: string): AppError {
  return new AppError('validation', ServerErrorCode.InvalidSecret, `${path}: ${reason}`, { path });
}

/** Input that does not match its schema; `issues` name each field (kind validation). */
export function invalidInput(message: string, issues: Array<{ path: string; message: string }>): AppError {
  return new AppError('validation', ServerErrorCode.InvalidInput, message, { issues });
}

/** The command needs an enabled server (kind conflict: enabling it first makes it possible). */
export function serverDisabled(serverId: string, action: string): AppError {
  return new AppError(
    'conflict',
    ServerErrorCode.Disabled,
    `server ${serverId} is disabled; enable it before you ${action} it`,
    { serverId },
  );
}
