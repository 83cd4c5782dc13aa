import {
  type CompleteRequest,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  type ServerCapabilities,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { toJsonRpcError } from '../error-mapping.ts';
import { renamed } from './aggregate-names.ts';
import type { CatalogServer } from './catalog-source.ts';
import type { SessionContext } from './session-context.ts';

/** prompts/list and get, completion/complete and logging/setLevel. */
export function registerPromptHandlers(ctx: SessionContext, capabilities: ServerCapabilities): void {
  const {
    deps,
    scope,
    server,
    servers,
    allowed,
    serverResource,
    exposure,
    unknown,
    notEnabled,
    require,
    route,
    relay,
  } = ctx;
  if (capabilities.prompts) {
    server.setRequestHandler(ListPromptsRequestSchema, async () => {
      const all = (await servers()).filter((s) => allowed('prompt.get', serverResource(s)));
      if (scope.kind === 'server') return { prompts: all[0]?.prompts ?? [] };
      const names = exposure(all, 'prompts');
      return { prompts: renamed(all, names, (s) => s.prompts, 'name') };
    });

    server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
      const unknownPrompt = () => unknown('prompt', request.params.name);
      const target = await route(request.params.name, 'prompts');
      if (!target?.server.prompts.some((p) => p.name === target.name)) throw unknownPrompt();
      require('prompt.get', serverResource(target.server), unknownPrompt);
      try {
        return await deps.upstreams.getPrompt(
          target.server.serverId,
          target.name,
          request.params.arguments ?? {},
          relay(extra),
        );
      } catch (e) {
        throw toJsonRpcError(e);
      }
    });
  }

  if (capabilities.logging) {
    // The level is this session's: an upstream's session is shared by every client, so the level
    // is not passed on (one client's 'error' would silence another's 'info'); the gateway drops
    // the messages below it on their way to this session (SessionContext.relay).
    server.setRequestHandler(SetLevelRequestSchema, async (r) => {
      await ctx.state.setLogLevel(r.params.level);
      return {};
    });
  }

  if (capabilities.completions) {
    server.setRequestHandler(CompleteRequestSchema, async (r, extra) => {
      const { server: target, ref } = await completionTarget(r.params.ref);
      require('prompt.get', serverResource(target), () => unknownRef(r.params.ref));
      try {
        return await deps.upstreams.request(
          target.serverId,
          'completion/complete',
          { ...r.params, ref },
          relay(extra),
        );
      } catch (e) {
        throw toJsonRpcError(e);
      }
    });
  }

  type CompletionRef = CompleteRequest['params']['ref'];
  const unknownRef = (ref: CompletionRef) =>
    ref.type === 'ref/prompt' ? unknown('prompt', ref.name) : unknown('resource', ref.uri);

  /** The server a completion's prompt or URI template belongs to, and the reference in its names. */
  async function completionTarget(
    ref: CompletionRef,
  ): Promise<{ server: CatalogServer; ref: CompletionRef }> {
    const all = await servers();
    if (scope.kind === 'server') {
      if (!all[0]) throw notEnabled();
      return { server: all[0], ref };
    }
    const owner =
      ref.type === 'ref/prompt'
        ? exposure(all, 'prompts').byName.get(ref.name)
        : exposure(all, 'resourceTemplates').byName.get(ref.uri);
    const target = owner && all.find((s) => s.name === owner.server);
    if (!owner || !target) throw unknownRef(ref);
    return {
      server: target,
      ref: ref.type === 'ref/prompt' ? { ...ref, name: owner.name } : { ...ref, uri: owner.name },
    };
  }
}
