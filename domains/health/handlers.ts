import type { Clock } from '../../kernel/clock.ts';
import { type CommandResult, handleCommand } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import { streamName } from '../../kernel/streams.ts';
import { parseWith } from '../../kernel/validation.ts';
import { RecordHealthInput } from './commands.ts';
import { healthDecider } from './decider.ts';
import { invalidHealthInput } from './errors.ts';
import { HEALTH_CATEGORY } from './events.ts';

export interface HealthCommandDeps {
  store: EventStore;
  registry: EventTypeRegistry;
  /** Dates a check reported without `checkedAt`. */
  clock: Clock;
}

export interface HealthCommandResult extends CommandResult {
  serverId: string;
  /** True when this check moved the status (a ServerHealthChanged was appended). */
  changed: boolean;
}

export interface HealthCommands {
  /**
   * Records one check: appends ServerHealthChanged when the status moved, nothing otherwise. The
   * check's time and latency belong in the probe table as well (recordHealthProbe), every time.
   */
  record(input: RecordHealthInput, meta: CommandMeta): Promise<HealthCommandResult>;
}

/** `health-<serverId>`: the health transitions of one server. */
export function healthStream(serverId: string): string {
  return streamName(HEALTH_CATEGORY, serverId.toLowerCase());
}

export function makeHealthCommands(deps: HealthCommandDeps): HealthCommands {
  return {
    async record(input, meta) {
      const p = parseWith(RecordHealthInput, input, invalidHealthInput);
      const result = await handleCommand(
        deps,
        healthDecider,
        healthStream(p.serverId),
        {
          type: 'RecordHealth',
          data: {
            serverId: p.serverId,
            status: p.status,
            ...(p.latencyMs !== undefined && { latencyMs: p.latencyMs }),
            ...(p.error !== undefined && { error: p.error }),
            checkedAt: p.checkedAt ?? deps.clock.now(),
          },
        },
        meta,
      );
      return { ...result, serverId: p.serverId, changed: result.events.length > 0 };
    },
  };
}
