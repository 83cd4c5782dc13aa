import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import type { AccessResource, Authorizer } from '../../domains/access/index.ts';
import { AppError, isAppError } from '../../kernel/errors.ts';
import type { Principal } from '../../kernel/principal.ts';
import type { PolicyLimits } from '../rate-limit/policy-limits.ts';
import type { CredentialResolver } from './credentials.ts';
import { type RouteRule, ruleFor } from './route-actions.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; set on every route but the public ones. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    auth?: RouteRule | 'public';
  }
}

/** A server as route authorization needs it (from the servers read model). */
export interface ServerAccessInfo {
  id: string;
  name: string;
  tenant: string;
  owner: string;
  transportType: string;
}

export interface GatewayAuth {
  /** `off` only for local development on loopback (SWITCHYARD_AUTH=off): every caller is `dev`. */
  mode: 'on' | 'off';
  devPrincipal: Principal;
  resolver: CredentialResolver;
  authz: Authorizer;
  limits: PolicyLimits;
  /** The server a route names (id or name), in any tenant; undefined when there is none. */
  serverAccess(idOrName: string): Promise<ServerAccessInfo | undefined>;
  /**
   * Waits (bounded) until the servers read model has applied `position`: a request that asks to
   * read its own write (`?minPosition=`) must not be refused as "no server" by the lookup above.
   */
  waitForServers?(position: bigint, waitMs: number | undefined): Promise<unknown>;
  /**
   * The value of `WWW-Authenticate` on a 401 (and, with `error`/`scope`, on a 403 for too narrow a
   * token): Bearer with the resource metadata URL when an issuer is configured (MCP authorization).
   */
  challenge(request: FastifyRequest, options?: { error?: string; scope?: string }): string;
}

/**
 * Authentication and route authorization for every route. Each route must appear in the
 * authorization table (route-actions.ts) or the gateway does not start. On a request: address limits,
 * then the credential (401 with a challenge when missing or bad; failed attempts per address are
 * limited), then the principal's limits, then — once the body is parsed, before it is validated, so
 * a caller without the right learns nothing from validation errors — the route's decision.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, opts: { auth: GatewayAuth; metrics: Registry }) => {
    const { auth } = opts;
    const failures = new Counter({
      name: 'switchyard_auth_failures_total',
      help: 'Requests refused at authentication, by reason',
      labelNames: ['reason'] as const,
      registers: [opts.metrics],
    });

    app.decorateRequest('principal', null as unknown as Principal);

    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        const rule = ruleFor(method, route.url);
        if (!rule) {
          throw new Error(
            `route ${method} ${route.url} has no entry in the authorization table (gateway/auth/route-actions.ts)`,
          );
        }
        route.config = { ...(route.config ?? {}), auth: rule };
      }
    });

    app.addHook('onRequest', async (request, reply) => {
      const rule = request.routeOptions.config?.auth;
      if (rule === 'public') return;
      const byAddress = await auth.limits.address(request.ip);
      for (const [k, v] of Object.entries(byAddress.headers)) reply.header(k, v);
      // A signed route (a git host's webhook) has no principal: its handler checks the signature.
      if (rule?.resource === 'signature') return;
      if (auth.mode === 'off') {
        request.principal = auth.devPrincipal;
        return;
      }
      const authorization = credentialOf(request);
      try {
        request.principal = await auth.resolver.resolve(authorization);
      } catch (e) {
        if (isAppError(e) && e.kind === 'unauthenticated') {
          failures.inc({ reason: e.code });
          request.log.info({ code: e.code, ip: request.ip }, 'authentication failed');
          if (authorization !== undefined) await auth.limits.failedAuthentication(request.ip);
          reply.header('www-authenticate', auth.challenge(request));
        }
        throw e;
      }
      const outcome = await auth.limits.principal(request.principal);
      for (const [k, v] of Object.entries(outcome.headers)) reply.header(k, v);
    });

    app.addHook('preValidation', async (request) => {
      const rule = request.routeOptions.config?.auth;
      if (
        rule === undefined ||
        rule === 'public' ||
        rule.resource === 'use-case' ||
        rule.resource === 'signature'
      )
        return;
      await authorizeRoute(auth, request, rule);
    });

    // A token too narrow for what was asked gets the step-up challenge (MCP authorization, RFC 6750).
    app.addHook('onSend', async (request, reply: FastifyReply, payload) => {
      if (
        reply.statusCode === 403 &&
        typeof payload === 'string' &&
        payload.includes('AUTH.INSUFFICIENT_SCOPE')
      ) {
        const scopes =
          (JSON.parse(payload) as { details?: { requiredScopes?: string[] } }).details?.requiredScopes ?? [];
        reply.header(
          'www-authenticate',
          auth.challenge(request, { error: 'insufficient_scope', scope: scopes.join(' ') }),
        );
      }
      return payload;
    });
  },
  { name: 'switchyard-auth' },
);

async function authorizeRoute(auth: GatewayAuth, request: FastifyRequest, rule: RouteRule): Promise<void> {
  const principal = request.principal;
  let resource: AccessResource;
  let server: ServerAccessInfo | undefined;
  switch (rule.resource) {
    case 'self':
    case 'tenant':
      resource = { kind: 'tenant', tenant: principal.tenant };
      break;
    case 'platform':
      resource = { kind: 'platform' };
      break;
    case 'server': {
      const params = request.params as { id?: string; name?: string };
      const ref = params.id ?? params.name ?? '';
      const { minPosition, waitMs } = request.query as { minPosition?: unknown; waitMs?: unknown };
      // Validated again (and refused if malformed) with the route's query; only a well-formed one waits.
      if (typeof minPosition === 'string' && /^[0-9]{1,19}$/.test(minPosition)) {
        const ms = typeof waitMs === 'string' && /^[0-9]{1,5}$/.test(waitMs) ? Number(waitMs) : undefined;
        await auth.waitForServers?.(BigInt(minPosition), ms);
      }
      server = await auth.serverAccess(ref);
      const notFound = () => new AppError('not_found', 'SERVER.NOT_FOUND', `no server ${ref}`);
      if (!server) throw notFound();
      resource = { kind: 'server', tenant: server.tenant, server: server.name, owner: server.owner };
      auth.authz.require(principal, rule.refine?.(request, server) ?? rule.action, resource, {
        hidden: notFound,
      });
      return;
    }
    default:
      return;
  }
  auth.authz.require(principal, rule.refine?.(request, server) ?? rule.action, resource);
}

/**
 * Routes whose clients cannot send headers: a WebSocket from a browser or the SDK's client, a
 * browser's EventSource.
 */
const TOKEN_IN_QUERY_ROUTES: ReadonlySet<string> = new Set([
  '/ws',
  '/api/v1/events/stream',
  '/api/v1/events/ws',
]);

/**
 * The Authorization header; on a WebSocket route without one, `?access_token=` (RFC 6750 §2.3) as a
 * Bearer credential — the only way such clients have. Logs and problem documents show that URL
 * with the token replaced (redactedUrl).
 */
export function credentialOf(request: FastifyRequest): string | undefined {
  if (request.headers.authorization !== undefined) return request.headers.authorization;
  if (!TOKEN_IN_QUERY_ROUTES.has(request.routeOptions.url ?? '')) return undefined;
  const token = (request.query as { access_token?: unknown } | undefined)?.access_token;
  return typeof token === 'string' && token !== '' ? `Bearer ${token}` : undefined;
}
