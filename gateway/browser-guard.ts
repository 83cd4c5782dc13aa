import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../kernel/errors.ts';

/** Which names may address the gateway and which browser origins may call it (configuration). */
export interface BrowserGuardOptions {
  /** Host names (without port); `*` for any (behind a proxy that checks). */
  allowedHosts: readonly string[];
  /** Origins that may call from a browser; a request without Origin is not a browser's. */
  allowedOrigins: readonly string[];
}

/** DNS-rebinding protection: the Host header must name this gateway. */
export function hostAllowed(request: FastifyRequest, options: BrowserGuardOptions): boolean {
  const host = request.headers.host;
  if (!host) return false;
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return options.allowedHosts.includes('*') || options.allowedHosts.includes(hostname.toLowerCase());
}

/** A browser's request must come from an allowed origin (or one of the allowed hosts). */
export function originAllowed(request: FastifyRequest, options: BrowserGuardOptions): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (options.allowedOrigins.includes('*') || options.allowedOrigins.includes(origin)) return true;
  try {
    const u = new URL(origin);
    return options.allowedHosts.includes(u.hostname) || options.allowedHosts.includes(`[${u.hostname}]`);
  } catch {
    return false;
  }
}

/**
 * Host and Origin on every route, not only MCP: a web page the operator visits cannot reach the
 * gateway through DNS rebinding or a cross-origin request. (Writes also need a bearer credential,
 * which a browser will not attach cross-origin, and a body must be JSON — anything else is 415.)
 * The MCP endpoints answer the same check in JSON-RPC (gateway/mcp/mcp.routes.ts).
 */
export const browserGuardPlugin = fp(
  async (app: FastifyInstance, options: BrowserGuardOptions) => {
    app.addHook('onRequest', async (request) => {
      if (request.url.split('?')[0]!.endsWith('/mcp')) return;
      if (!hostAllowed(request, options)) {
        throw new AppError(
          'forbidden',
          'REQUEST.HOST_NOT_ALLOWED',
          'this Host is not allowed (DNS rebinding protection; see SWITCHYARD_ALLOWED_HOSTS)',
        );
      }
      if (!originAllowed(request, options)) {
        throw new AppError(
          'forbidden',
          'REQUEST.ORIGIN_NOT_ALLOWED',
          'this Origin is not allowed (see SWITCHYARD_ALLOWED_ORIGINS)',
        );
      }
    });
  },
  { name: 'switchyard-browser-guard' },
);
