import type { Decider } from '../../kernel/decider.ts';
import type { HealthCommand, RecordHealth } from './commands.ts';
import type { HealthEvent, HealthStatus } from './events.ts';

export type HealthState =
  | { status: 'unchecked' }
  // `since`: epoch ms of the transition to `health`.
  | { status: 'checked'; health: HealthStatus; since: number };

export const initialState: HealthState = { status: 'unchecked' };

/**
 * A check becomes an event only when it changes the status: a server checked every 30 s for a
 * year is a handful of transitions, not a million events. A check older than the last transition
 * (a late report from a slow checker) changes nothing.
 */
export function decide(command: HealthCommand, state: HealthState): HealthEvent[] {
  switch (command.type) {
    case 'RecordHealth':
      return record(command, state);
    default: {
      const _: never = command.type;
      return _;
    }
  }
}

export function evolve(state: HealthState, event: HealthEvent): HealthState {
  switch (event.type) {
    case 'ServerHealthChanged':
      return { status: 'checked', health: event.data.to, since: Date.parse(event.data.at) };
    default: {
      const _: never = event.type;
      return state;
    }
  }
}

export const healthDecider: Decider<HealthCommand, HealthEvent, HealthState> = {
  initialState,
  decide,
  evolve,
};

function record(command: RecordHealth, state: HealthState): HealthEvent[] {
  const d = command.data;
  if (state.status === 'checked') {
    if (state.health === d.status) return [];
    if (d.checkedAt.getTime() < state.since) return [];
  }
  return [
    {
      type: 'ServerHealthChanged',
      data: {
        serverId: d.serverId,
        from: state.status === 'checked' ? state.health : null,
        to: d.status,
        latencyMs: d.latencyMs ?? null,
        error: d.error ?? null,
        at: d.checkedAt.toISOString(),
      },
    },
  ];
}
