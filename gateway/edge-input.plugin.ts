import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../kernel/errors.ts';
import { findUnstorable } from '../kernel/storable.ts';

/** A request value that cannot be stored (NUL, lone surrogate, absurd nesting): 400, nothing done. */
export function unstorable(where: string, found: { path: string; reason: string }): AppError {
  return new AppError('validation', 'REQUEST.UNSTORABLE', `${where} ${found.path} ${found.reason}`, {
    errors: [{ path: `${where}.${found.path}`, message: found.reason }],
  });
}

/**
 * The one rule for strings that cannot be stored (kernel/storable.ts), at the REST edge: path
 * parameters, query and body, before any handler runs — so such a value is a 400 that changes
 * nothing, never a database error after half a command. MCP messages are checked where their
 * values are used (a tool call's arguments in ExecuteTool), to answer in JSON-RPC.
 */
export const edgeInputPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('preValidation', async (request) => {
      if (request.url.split('?')[0]!.endsWith('/mcp')) return;
      for (const [where, value] of [
        ['params', request.params],
        ['query', request.query],
        ['body', request.body],
      ] as const) {
        const found = findUnstorable(value);
        if (found) throw unstorable(where, found);
      }
    });
  },
  { name: 'switchyard-edge-input' },
);
