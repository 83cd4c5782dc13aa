import type { EventStore } from '../../event-store/event-store.port.ts';
import { type CommandResult, handleCommand } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import { streamName } from '../../kernel/streams.ts';
import { analysisDecider, projectDecider } from './decider.ts';
import { ANALYSIS_CATEGORY, type CodeAnalyzed, PROJECT_CATEGORY, type ProjectGenerated } from './events.ts';

export interface ProjectCommandDeps {
  store: EventStore;
  registry: EventTypeRegistry;
}

export const projectStream = (id: string) => streamName(PROJECT_CATEGORY, id.toLowerCase());
export const analysisStream = (id: string) => streamName(ANALYSIS_CATEGORY, id.toLowerCase());

export interface ProjectCommands {
  recordGenerated(data: ProjectGenerated['data'], meta: CommandMeta): Promise<CommandResult>;
  recordAnalysis(data: CodeAnalyzed['data'], meta: CommandMeta): Promise<CommandResult>;
}

export function makeProjectCommands(deps: ProjectCommandDeps): ProjectCommands {
  return {
    recordGenerated: (data, meta) =>
      handleCommand(
        deps,
        projectDecider,
        projectStream(data.projectId),
        { type: 'RecordProjectGenerated', data },
        meta,
        {
          assumeNew: true,
        },
      ),
    recordAnalysis: (data, meta) =>
      handleCommand(
        deps,
        analysisDecider,
        analysisStream(data.analysisId),
        { type: 'RecordCodeAnalysis', data },
        meta,
        {
          assumeNew: true,
        },
      ),
  };
}
