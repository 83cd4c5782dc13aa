import type { Decider } from '../../kernel/decider.ts';
import { AppError } from '../../kernel/errors.ts';
import type { DiscoveryEvent, DiscoveryReason } from './events.ts';

/** Retry policy: attempt n (1-based) failing waits base·2^(n-1), capped; after maxAttempts it gives up. */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 6, baseDelayMs: 1_000, maxDelayMs: 60_000 };

export type DiscoveryCommand =
  | { type: 'RequestDiscovery'; serverId: string; reason: DiscoveryReason; serverRevision: bigint; at: Date }
  | {
      type: 'RecordAttempt';
      serverId: string;
      attempt: number;
      outcome: { ok: true; hash: string; changed: boolean } | { ok: false; error: string };
      at: Date;
      policy: RetryPolicy;
    }
  | { type: 'CancelDiscovery'; serverId: string; reason: string; at: Date };

export type DiscoveryState =
  | { status: 'idle'; lastHash: string | undefined }
  | {
      status: 'pending';
      reason: DiscoveryReason;
      serverRevision: bigint;
      /** Attempts already made for this request. */
      attempts: number;
      dueAt: Date;
      lastHash: string | undefined;
    }
  | { status: 'gave-up'; attempts: number; lastError: string; lastHash: string | undefined };

export const initialDiscoveryState: DiscoveryState = { status: 'idle', lastHash: undefined };

/** Delay before the attempt after `attempt` failed. */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * The discovery saga as a decider: requests (register, enable, update, refresh, list_changed)
 * make a server's discovery pending; each attempt's outcome is recorded before anything else
 * happens; failures are retried with exponential backoff until the policy gives up; disabling or
 * removing a server cancels. The schedule (dueAt) lives in the state, so a restarted process
 * resumes where the stream says it was.
 */
export const discoveryDecider: Decider<DiscoveryCommand, DiscoveryEvent, DiscoveryState> = {
  initialState: initialDiscoveryState,

  decide(command, state) {
    switch (command.type) {
      case 'RequestDiscovery':
        return [
          {
            type: 'DiscoveryRequested',
            data: {
              serverId: command.serverId,
              reason: command.reason,
              serverRevision: command.serverRevision.toString(),
              requestedAt: command.at.toISOString(),
            },
          },
        ];
      case 'RecordAttempt': {
        if (state.status !== 'pending') return [];
        if (command.attempt !== state.attempts + 1) {
          throw new AppError(
            'conflict',
            'DISCOVERY.STALE_ATTEMPT',
            `attempt ${command.attempt} is not the next one`,
          );
        }
        if (command.outcome.ok) {
          return [
            {
              type: 'DiscoveryCompleted',
              data: {
                serverId: command.serverId,
                attempt: command.attempt,
                hash: command.outcome.hash,
                changed: command.outcome.changed,
                at: command.at.toISOString(),
              },
            },
          ];
        }
        const giveUp = command.attempt >= command.policy.maxAttempts;
        return [
          {
            type: 'DiscoveryAttemptFailed',
            data: {
              serverId: command.serverId,
              attempt: command.attempt,
              error: command.outcome.error,
              at: command.at.toISOString(),
              nextAttemptAt: giveUp
                ? null
                : new Date(
                    command.at.getTime() + retryDelayMs(command.policy, command.attempt),
                  ).toISOString(),
            },
          },
        ];
      }
      case 'CancelDiscovery':
        return state.status === 'pending'
          ? [
              {
                type: 'DiscoveryCancelled',
                data: { serverId: command.serverId, reason: command.reason, at: command.at.toISOString() },
              },
            ]
          : [];
      default: {
        const _: never = command;
        return _;
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'DiscoveryRequested':
        return {
          status: 'pending',
          reason: event.data.reason,
          serverRevision: BigInt(event.data.serverRevision),
          attempts: 0,
          dueAt: new Date(event.data.requestedAt),
          lastHash: state.lastHash,
        };
      case 'DiscoveryAttemptFailed':
        if (state.status !== 'pending') return state;
        return event.data.nextAttemptAt === null
          ? {
              status: 'gave-up',
              attempts: event.data.attempt,
              lastError: event.data.error,
              lastHash: state.lastHash,
            }
          : { ...state, attempts: event.data.attempt, dueAt: new Date(event.data.nextAttemptAt) };
      case 'DiscoveryCompleted':
        return { status: 'idle', lastHash: event.data.hash };
      case 'DiscoveryCancelled':
        return { status: 'idle', lastHash: state.lastHash };
      default: {
        const _: never = event;
        return state;
      }
    }
  },
};
