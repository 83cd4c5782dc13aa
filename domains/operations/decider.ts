import type { Decider } from '../../kernel/decider.ts';
import type { OperationCommand } from './commands.ts';
import { notQuarantined } from './errors.ts';
import type { OperationEvent } from './events.ts';

/**
 * The decisions about one projection (`projection-<name>`): which events it skips. One shape only —
 * a projection with nothing quarantined is the empty set, not another state.
 */
export interface OperationState {
  quarantined: ReadonlySet<string>;
}

export const initialState: OperationState = { quarantined: new Set() };

/**
 * Quarantining an event already quarantined records nothing (the decision stands as first made);
 * releasing one that is not quarantined is refused, since it would be a decision about nothing.
 */
export function decide(command: OperationCommand, state: OperationState): OperationEvent[] {
  switch (command.type) {
    case 'QuarantineProjectionEvent': {
      const d = command.data;
      if (state.quarantined.has(d.eventId)) return [];
      return [
        {
          type: 'ProjectionEventQuarantined',
          data: {
            projection: d.projection,
            eventId: d.eventId,
            position: d.position.toString(),
            eventType: d.eventType,
            stream: d.stream,
            reason: d.reason,
            error: d.error,
            quarantinedAt: d.at.toISOString(),
          },
        },
      ];
    }
    case 'ReleaseProjectionEvent': {
      const d = command.data;
      if (!state.quarantined.has(d.eventId)) throw notQuarantined(d.projection, d.eventId);
      return [
        {
          type: 'ProjectionEventReleased',
          data: {
            projection: d.projection,
            eventId: d.eventId,
            reason: d.reason,
            releasedAt: d.at.toISOString(),
          },
        },
      ];
    }
    default: {
      const _: never = command;
      return _;
    }
  }
}

export function evolve(state: OperationState, event: OperationEvent): OperationState {
  switch (event.type) {
    case 'ProjectionEventQuarantined':
      return { quarantined: new Set(state.quarantined).add(event.data.eventId.toLowerCase()) };
    case 'ProjectionEventReleased': {
      const quarantined = new Set(state.quarantined);
      quarantined.delete(event.data.eventId.toLowerCase());
      return { quarantined };
    }
    default: {
      const _: never = event;
      return state;
    }
  }
}

export const operationDecider: Decider<OperationCommand, OperationEvent, OperationState> = {
  initialState,
  decide,
  evolve,
};
