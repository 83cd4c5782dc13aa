import { type CommandHandlerDeps, type CommandResult, handleCommand } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import { uuidV5 } from '../../kernel/ids.ts';
import { DEFAULT_TENANT } from '../../kernel/principal.ts';
import { streamName } from '../../kernel/streams.ts';
import { parseWith } from '../../kernel/validation.ts';
import { DefineToolsetInput } from './commands.ts';
import { toolsetDecider } from './decider.ts';
import { invalidToolsetInput } from './errors.ts';
import { TOOLSET_CATEGORY, toolsetNameSchema } from './events.ts';

export interface ToolsetCommandResult extends CommandResult {
  toolsetId: string;
  name: string;
  /** False when the toolset was already defined exactly so (nothing appended). */
  changed: boolean;
}

export interface ToolsetCommands {
  /** Defines (or replaces) the actor's tenant's toolset of that name. */
  define(name: string, input: DefineToolsetInput, meta: CommandMeta): Promise<ToolsetCommandResult>;
  /** Removes it; not_found (TOOLSET.NOT_FOUND) when there is none. */
  remove(name: string, meta: CommandMeta): Promise<ToolsetCommandResult>;
}

/** Namespace of toolset ids: one id per tenant and name, so a name is its stream. */
const TOOLSET_NAMESPACE = '1c0b5e3a-6f5d-4b8e-9a51-4c6f3b2e7d10';

export function toolsetId(tenant: string, name: string): string {
  return uuidV5(`${tenant}/${name}`, TOOLSET_NAMESPACE);
}

/** `toolset-<toolsetId>`. */
export function toolsetStream(id: string): string {
  return streamName(TOOLSET_CATEGORY, id);
}

export function makeToolsetCommands(deps: CommandHandlerDeps): ToolsetCommands {
  const target = (name: string, meta: CommandMeta) => {
    const valid = parseWith(toolsetNameSchema, name, invalidToolsetInput);
    const tenant = meta.tenant ?? DEFAULT_TENANT;
    const id = toolsetId(tenant, valid);
    return { name: valid, tenant, id };
  };
  return {
    async define(name, input, meta) {
      const t = target(name, meta);
      const p = parseWith(DefineToolsetInput, input, invalidToolsetInput);
      const result = await handleCommand(
        deps,
        toolsetDecider,
        toolsetStream(t.id),
        {
          type: 'DefineToolset',
          data: {
            toolsetId: t.id,
            name: t.name,
            ...(p.description !== undefined && { description: p.description }),
            tools: p.tools,
            tenant: t.tenant,
            at: meta.issuedAt,
          },
        },
        meta,
      );
      return { ...result, toolsetId: t.id, name: t.name, changed: result.events.length > 0 };
    },
    async remove(name, meta) {
      const t = target(name, meta);
      const result = await handleCommand(
        deps,
        toolsetDecider,
        toolsetStream(t.id),
        {
          type: 'RemoveToolset',
          data: { toolsetId: t.id, name: t.name, tenant: t.tenant, at: meta.issuedAt },
        },
        meta,
      );
      return { ...result, toolsetId: t.id, name: t.name, changed: true };
    },
  };
}
