import { type CommandResult, handleCommand } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import { ownershipOf } from '../../kernel/ownership.ts';
import { streamName } from '../../kernel/streams.ts';
import { analysisDecider, projectDecider } from './decider.ts';
import { ANALYSIS_CATEGORY, type CodeAnalyzed, PROJECT_CATEGORY, type ProjectGenerated } from './events.ts';

export interface ProjectCommandDeps {
  store: EventStore;
  registry: EventTypeRegistry;
}

export const projectStream = (id: string) => streamName(PROJECT_CATEGORY, id.toLowerCase());
export const analysisStream = (id: string) => streamName(ANALYSIS_CATEGORY, id.toLowerCase());

/** What the caller records; the tenant and owner come from the command's metadata. */
export type ProjectGeneratedInput = Omit<ProjectGenerated['data'], 'tenant' | 'owner'>;
export type CodeAnalyzedInput = Omit<CodeAnalyzed['data'], 'tenant' | 'owner'>;

export interface ProjectCommands {
  /** The project belongs to the actor, in the actor's tenant. */
  recordGenerated(data: ProjectGeneratedInput, meta: CommandMeta): Promise<CommandResult>;
  /** The analysis belongs to the actor, in the actor's tenant. */
  recordAnalysis(data: CodeAnalyzedInput, meta: CommandMeta): Promise<CommandResult>;
}

export function makeProjectCommands(deps: ProjectCommandDeps): ProjectCommands {
  return {
    recordGenerated: (data, meta) =>
      handleCommand(
        deps,
        projectDecider,
        projectStream(data.projectId),
        { type: 'RecordProjectGenerated', data: { ...data, ...ownershipOf(meta) } },
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
        { type: 'RecordCodeAnalysis', data: { ...data, ...ownershipOf(meta) } },
        meta,
        {
          assumeNew: true,
        },
      ),
  };
}
