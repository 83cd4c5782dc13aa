import type { Clock } from '../../kernel/clock.ts';
import { type CommandResult, handleCommand } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import { streamName } from '../../kernel/streams.ts';
import { parseWith } from '../../kernel/validation.ts';
import { QuarantineProjectionEventInput, ReleaseProjectionEventInput } from './commands.ts';
import { operationDecider } from './decider.ts';
import { invalidOperationInput } from './errors.ts';
import { PROJECTION_CATEGORY } from './events.ts';

export interface OperationCommandDeps {
  store: EventStore;
  registry: EventTypeRegistry;
  /** Dates the decisions. */
  clock: Clock;
}

export interface ProjectionDecisionResult extends CommandResult {
  projection: string;
  eventId: string;
}

export interface ProjectionDecisions {
  /** Appends ProjectionEventQuarantined (nothing when the event is already quarantined). */
  quarantine(input: QuarantineProjectionEventInput, meta: CommandMeta): Promise<ProjectionDecisionResult>;
  /** Appends ProjectionEventReleased; an event that is not quarantined is not_found. */
  release(input: ReleaseProjectionEventInput, meta: CommandMeta): Promise<ProjectionDecisionResult>;
}

/** `projection-<name>`: the operators' decisions about one projection. */
export function projectionStream(projection: string): string {
  return streamName(PROJECTION_CATEGORY, projection);
}

export function makeProjectionDecisions(deps: OperationCommandDeps): ProjectionDecisions {
  return {
    async quarantine(input, meta) {
      const p = parseWith(QuarantineProjectionEventInput, input, invalidOperationInput);
      const r = await handleCommand(
        deps,
        operationDecider,
        projectionStream(p.projection),
        { type: 'QuarantineProjectionEvent', data: { ...p, at: deps.clock.now() } },
        meta,
      );
      return { ...r, projection: p.projection, eventId: p.eventId };
    },

    async release(input, meta) {
      const p = parseWith(ReleaseProjectionEventInput, input, invalidOperationInput);
      const r = await handleCommand(
        deps,
        operationDecider,
        projectionStream(p.projection),
        { type: 'ReleaseProjectionEvent', data: { ...p, at: deps.clock.now() } },
        meta,
      );
      return { ...r, projection: p.projection, eventId: p.eventId };
    },
  };
}
