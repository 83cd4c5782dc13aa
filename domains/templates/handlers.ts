import type { Clock } from '../../kernel/clock.ts';
import { type CommandResult, handleCommand, loadStream } from '../../kernel/command-handler.ts';
import { type CommandMeta, fold } from '../../kernel/decider.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import { ownershipOf } from '../../kernel/ownership.ts';
import { streamName } from '../../kernel/streams.ts';
import { parseWith } from '../../kernel/validation.ts';
import { RegisterTemplateSourceInput } from './commands.ts';
import {
  type TemplateSourceState,
  templateDecider,
  templateSourceDecider,
  validationDecider,
} from './decider.ts';
import { invalidTemplateInput } from './errors.ts';
import {
  TEMPLATE_CATEGORY,
  TEMPLATE_SOURCE_CATEGORY,
  type TemplateRemoved,
  type TemplateSourceEvent,
  type TemplateSourceSynced,
  type TemplateSourceSyncFailed,
  type TemplateValidated,
  type TemplateVersionPublished,
  VALIDATION_CATEGORY,
} from './events.ts';

export interface TemplateCommandDeps {
  store: EventStore;
  registry: EventTypeRegistry;
  clock: Clock;
}

/** `template-<name>`, `templatesource-<name>`, `validation-<uuid>`. */
export const templateStream = (name: string) => streamName(TEMPLATE_CATEGORY, name);
export const templateSourceStream = (name: string) => streamName(TEMPLATE_SOURCE_CATEGORY, name);
export const validationStream = (id: string) => streamName(VALIDATION_CATEGORY, id.toLowerCase());

export interface TemplateCommands {
  /** `assumeNew`: the caller believes no version was ever published (saves the read; safe if wrong). */
  publish(
    data: TemplateVersionPublished['data'],
    meta: CommandMeta,
    options?: { assumeNew?: boolean },
  ): Promise<CommandResult>;
  remove(data: TemplateRemoved['data'], meta: CommandMeta): Promise<CommandResult>;
  /**
   * Registers (or, with replace, changes) a source; input as a user gives it. It belongs to the
   * actor's tenant, except a built-in source, which every tenant reads (tenant null).
   */
  registerSource(input: unknown, meta: CommandMeta, options?: { builtIn?: boolean }): Promise<CommandResult>;
  removeSource(name: string, meta: CommandMeta): Promise<CommandResult>;
  recordSynced(data: TemplateSourceSynced['data'], meta: CommandMeta): Promise<CommandResult>;
  recordSyncFailed(data: TemplateSourceSyncFailed['data'], meta: CommandMeta): Promise<CommandResult>;
  recordValidation(data: TemplateValidated['data'], meta: CommandMeta): Promise<CommandResult>;
  /** A source's state as its stream tells it (the sync saga reads its configuration here). */
  sourceState(name: string): Promise<TemplateSourceState>;
}

export function makeTemplateCommands(deps: TemplateCommandDeps): TemplateCommands {
  return {
    publish: (data, meta, options = {}) =>
      handleCommand(
        deps,
        templateDecider,
        templateStream(data.name),
        { type: 'PublishTemplateVersion', data },
        meta,
        { assumeNew: options.assumeNew ?? false },
      ),
    remove: (data, meta) =>
      handleCommand(deps, templateDecider, templateStream(data.name), { type: 'RemoveTemplate', data }, meta),
    async registerSource(input, meta, options = {}) {
      const p = parseWith(RegisterTemplateSourceInput, input, invalidTemplateInput);
      const builtIn = options.builtIn ?? false;
      const { tenant, owner } = ownershipOf(meta);
      return handleCommand(
        deps,
        templateSourceDecider,
        templateSourceStream(p.name),
        {
          type: 'RegisterTemplateSource',
          data: {
            name: p.name,
            kind: p.kind,
            location: p.location,
            ref: p.ref ?? null,
            intervalMs: p.intervalMs ?? null,
            builtIn,
            tenant: builtIn ? null : tenant,
            owner,
            registeredAt: deps.clock.now().toISOString(),
            replace: p.replace ?? false,
          },
        },
        meta,
      );
    },
    removeSource: (name, meta) =>
      handleCommand(
        deps,
        templateSourceDecider,
        templateSourceStream(name),
        { type: 'RemoveTemplateSource', data: { name, removedAt: deps.clock.now().toISOString() } },
        meta,
      ),
    recordSynced: (data, meta) =>
      handleCommand(
        deps,
        templateSourceDecider,
        templateSourceStream(data.name),
        { type: 'RecordSourceSynced', data },
        meta,
      ),
    recordSyncFailed: (data, meta) =>
      handleCommand(
        deps,
        templateSourceDecider,
        templateSourceStream(data.name),
        { type: 'RecordSourceSyncFailed', data },
        meta,
      ),
    recordValidation: (data, meta) =>
      handleCommand(
        deps,
        validationDecider,
        validationStream(data.validationId),
        { type: 'RecordValidation', data },
        meta,
        { assumeNew: true },
      ),
    async sourceState(name) {
      const { events } = await loadStream<TemplateSourceEvent>(deps, templateSourceStream(name));
      return fold(templateSourceDecider, events);
    },
  };
}
