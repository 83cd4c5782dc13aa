import type { Decider } from '../../kernel/decider.ts';
import type { ToolsetCommand } from './commands.ts';
import { toolsetNotFound } from './errors.ts';
import type { ToolsetEvent } from './events.ts';

export type ToolsetState =
  | { status: 'none' }
  | { status: 'defined'; description: string | undefined; tools: string };

export const initialState: ToolsetState = { status: 'none' };

/** The same tools in the same order, as compared for a redefinition that changes nothing. */
const toolsKey = (tools: ReadonlyArray<{ server: string; tool: string }>) =>
  JSON.stringify(tools.map((t) => [t.server, t.tool]));

export function decide(command: ToolsetCommand, state: ToolsetState): ToolsetEvent[] {
  const d = command.data;
  switch (command.type) {
    case 'DefineToolset': {
      const { description, tools } = command.data;
      // Defining it again as it is appends nothing: a config applied twice changes nothing.
      if (state.status === 'defined' && state.description === description && state.tools === toolsKey(tools))
        return [];
      return [
        {
          type: 'ToolsetDefined',
          data: {
            toolsetId: d.toolsetId,
            name: d.name,
            ...(description !== undefined && { description }),
            tools,
            tenant: d.tenant,
            definedAt: d.at.toISOString(),
          },
        },
      ];
    }
    case 'RemoveToolset':
      if (state.status !== 'defined') throw toolsetNotFound(d.name);
      return [
        {
          type: 'ToolsetRemoved',
          data: { toolsetId: d.toolsetId, name: d.name, tenant: d.tenant, removedAt: d.at.toISOString() },
        },
      ];
    default: {
      const _: never = command;
      return _;
    }
  }
}

export function evolve(state: ToolsetState, event: ToolsetEvent): ToolsetState {
  switch (event.type) {
    case 'ToolsetDefined':
      return { status: 'defined', description: event.data.description, tools: toolsKey(event.data.tools) };
    case 'ToolsetRemoved':
      return { status: 'none' };
    default: {
      const _: never = event;
      return state;
    }
  }
}

export const toolsetDecider: Decider<ToolsetCommand, ToolsetEvent, ToolsetState> = {
  initialState,
  decide,
  evolve,
};
