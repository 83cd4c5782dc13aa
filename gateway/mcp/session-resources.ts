import {
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ReadResourceRequestSchema,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { JsonRpcError } from '../../runners/json-rpc-error.ts';
import { toJsonRpcError } from '../error-mapping.ts';
import { renamed, resourceOwner } from './aggregate-names.ts';
import { wrapUri } from './names.ts';
import type { PlatformTools } from './platform-tools.ts';
import type { SessionContext } from './session-context.ts';
import { forwardResourceUpdates } from './session-subscriptions.ts';

/** resources/list, templates, read and (un)subscribe: routed to the server owning the URI. */
export function registerResourceHandlers(ctx: SessionContext, capabilities: ServerCapabilities): void {
  const {
    deps,
    scope,
    identity,
    server,
    servers,
    allowed,
    serverResource,
    exposure,
    unknown,
    require,
    relay,
    prefix,
    state,
  } = ctx;
  if (capabilities.resources) {
    server.setRequestHandler(ListResourcesRequestSchema, async () => {
      const all = (await servers()).filter((s) => allowed('resource.read', serverResource(s)));
      if (scope.kind === 'server') return { resources: all[0]?.resources ?? [] };
      const names = exposure(all, 'resources');
      return {
        resources: [
          ...deps.platform.resources(identity.principal()),
          ...renamed(all, names, (s) => s.resources, 'uri'),
        ],
      };
    });

    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => {
      const all = (await servers()).filter((s) => allowed('resource.read', serverResource(s)));
      if (scope.kind === 'server') return { resourceTemplates: all[0]?.resourceTemplates ?? [] };
      const names = exposure(all, 'resourceTemplates');
      return {
        resourceTemplates: [
          ...deps.platform.resourceTemplates(identity.principal()),
          ...renamed(all, names, (s) => s.resourceTemplates, 'uriTemplate'),
        ],
      };
    });

    server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
      requireResourceUri(request.params.uri);
      if (scope.kind !== 'server') {
        // The platform's own resources (template://, project://, analysis://) keep their URIs.
        let own: Awaited<ReturnType<PlatformTools['readResource']>>;
        try {
          own = await deps.platform.readResource(request.params.uri, identity.principal());
        } catch (e) {
          throw toJsonRpcError(e);
        }
        if (own) return own;
        if (scope.kind === 'platform') throw unknown('resource', request.params.uri);
      }
      let serverName: string;
      let uri: string;
      let wrapped = false;
      if (scope.kind === 'server') {
        serverName = scope.name;
        uri = request.params.uri;
      } else {
        const all = prefix === 'always' ? [] : await servers();
        const owner = resourceOwner(deps.naming, prefix, all, request.params.uri);
        if (!owner) throw unknown('resource', request.params.uri);
        ({ server: serverName, uri, wrapped } = owner);
      }
      const unknownResource = () => unknown('resource', request.params.uri);
      const target = await deps.catalog.serverByName(serverName);
      if (!target) throw unknownResource();
      require('resource.read', serverResource(target), unknownResource);
      try {
        const result = await deps.upstreams.readResource(target.serverId, uri, relay(extra));
        if (!wrapped) return result;
        return {
          ...result,
          contents: result.contents.map((c) => ({ ...c, uri: wrapUri(serverName, c.uri) })),
        };
      } catch (e) {
        throw toJsonRpcError(e);
      }
    });
  }

  if (capabilities.resources?.subscribe) {
    forwardResourceUpdates(server, {
      upstreams: deps.upstreams,
      logger: deps.logger,
      state,
      relay,
      async resolve(uri) {
        requireResourceUri(uri);
        const all = await servers();
        const owner =
          scope.kind === 'server'
            ? { server: scope.name, uri }
            : resourceOwner(deps.naming, prefix, all, uri);
        const target = owner && all.find((s) => s.name === owner.server);
        if (!owner || !target) throw unknown('resource', uri);
        require('resource.read', serverResource(target), () => unknown('resource', uri));
        return { serverId: target.serverId, uri: owner.uri };
      },
    });
  }
}

/** Longest resource URI taken from a client. */
const MAX_URI = 8_192;

/**
 * A resource URI as the edge takes it: a scheme, then anything but control characters (no URI
 * holds one, and a NUL is refused by PostgreSQL where a subscription is kept), within MAX_URI.
 * Anything else is the caller's mistake (-32602), answered here rather than by whatever an
 * upstream or the database makes of it.
 */
function requireResourceUri(uri: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (uri.length <= MAX_URI && /^[A-Za-z][A-Za-z0-9+.-]*:[^\u0000-\u001f\u007f]*$/.test(uri)) return;
  throw new JsonRpcError(
    ErrorCode.InvalidParams,
    'uri must be a URI with a scheme and no control characters, at most 8192 characters',
    {
      code: 'MCP.INVALID_URI',
    },
  );
}
