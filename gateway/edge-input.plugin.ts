import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../kernel/errors.ts';
import { findUnstorable } from '../kernel/storable.ts';
import { ifMatchRevision } from './request-context.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's resource is one stream whose revision is its ETag: it honours If-Match. */
    conditional?: boolean;
  }
}

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
 * values are used (a tool call's arguments in ExecuteTool), to answer in JSON-RPC. An If-Match
 * header is read here too: malformed is 400, and on a route that serves no ETag it is 412.
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
      // If-Match names a revision; a route without ETags has no representation it could match.
      const ifRevision = ifMatchRevision(request.headers['if-match']);
      if (ifRevision !== undefined && request.routeOptions.config?.conditional !== true) {
        throw new AppError(
          'concurrency',
          'REQUEST.NOT_CONDITIONAL',
          'this resource has no ETag, so If-Match cannot match it; send the request without If-Match',
        );
      }
    });
  },
  { name: 'switchyard-edge-input' },
);
