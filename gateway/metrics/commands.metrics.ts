import { Counter, type Registry } from 'prom-client';
import { isAppError } from '../../kernel/errors.ts';
import type { ServerCommandsPort } from '../ports.ts';

/**
 * The server commands a worker handles, counted by command and outcome (`ok`, or the error's kind:
 * `conflict`, `concurrency`, `validation`…).
 */
export function countServerCommands(commands: ServerCommandsPort, metrics: Registry): ServerCommandsPort {
  const handled = new Counter({
    name: 'switchyard_commands_total',
    help: 'Commands handled by this worker, by command and outcome',
    labelNames: ['command', 'outcome'] as const,
    registers: [metrics],
  });
  const counted =
    <A extends unknown[], R>(command: string, f: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        const r = await f(...args);
        handled.inc({ command, outcome: 'ok' });
        return r;
      } catch (e) {
        handled.inc({ command, outcome: isAppError(e) ? e.kind : 'error' });
        throw e;
      }
    };
  return {
    register: counted('server.register', commands.register),
    update: counted('server.update', commands.update),
    enable: counted('server.enable', commands.enable),
    disable: counted('server.disable', commands.disable),
    remove: counted('server.remove', commands.remove),
    refresh: counted('server.refresh', commands.refresh),
  };
}
