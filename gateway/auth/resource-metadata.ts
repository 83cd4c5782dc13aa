import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PERMISSIONS } from '../../kernel/principal.ts';

/**
 * The MCP authorization spec (2025-11-25) from the resource server's side: Protected Resource
 * Metadata (RFC 9728) telling a client which authorization servers issue tokens for this gateway,
 * and the `WWW-Authenticate` challenges that point to it. Only when an issuer is configured: with
 * API keys alone there is nothing for a client to discover.
 */
export interface ResourceMetadataOptions {
  /** Canonical public base URL, without a trailing slash (SWITCHYARD_PUBLIC_URL). */
  publicUrl: string;
  issuers: readonly string[];
}

const WELL_KNOWN = '/.well-known/oauth-protected-resource';
/** What a client asks for by default: enough to list and call. */
const DEFAULT_SCOPE = 'mcp:read mcp:execute';

/** The MCP endpoint a path is (or is under), whose metadata describes it. */
function endpointOf(path: string): string {
  const m = /^(\/mcp|\/platform\/mcp|\/servers\/[^/]+\/mcp)(\/|$)/.exec(path);
  return m ? m[1]! : '';
}

export function resourceMetadataRoutes(options: ResourceMetadataOptions) {
  const doc = (resourcePath: string) => ({
    resource: `${options.publicUrl}${resourcePath}`,
    authorization_servers: [...options.issuers],
    scopes_supported: [...PERMISSIONS],
    bearer_methods_supported: ['header'],
    resource_name: 'Switchyard MCP gateway',
    resource_documentation: `${options.publicUrl}/docs`,
  });
  return async (app: FastifyInstance) => {
    const hide = { schema: { hide: true } };
    app.get(WELL_KNOWN, hide, async () => doc(''));
    app.get(`${WELL_KNOWN}/mcp`, hide, async () => doc('/mcp'));
    app.get(`${WELL_KNOWN}/platform/mcp`, hide, async () => doc('/platform/mcp'));
    app.get<{ Params: { name: string } }>(`${WELL_KNOWN}/servers/:name/mcp`, hide, async (request) =>
      doc(`/servers/${encodeURIComponent(request.params.name)}/mcp`),
    );
  };
}

/** `WWW-Authenticate` for a refused request (RFC 6750 §3, RFC 9728 §5.1). */
export function challengeFor(
  options: ResourceMetadataOptions | undefined,
  request: FastifyRequest,
  extra: { error?: string; scope?: string } = {},
): string {
  const params: string[] = [];
  if (extra.error) params.push(`error="${extra.error}"`);
  if (options) {
    params.push(
      `resource_metadata="${options.publicUrl}${WELL_KNOWN}${endpointOf(request.url.split('?')[0]!)}"`,
    );
    params.push(`scope="${extra.scope || DEFAULT_SCOPE}"`);
  } else {
    params.unshift('realm="switchyard"');
    if (extra.scope) params.push(`scope="${extra.scope}"`);
  }
  return `Bearer ${params.join(', ')}`;
}
