import type { Decider } from '../../kernel/decider.ts';
import type { CodeAnalyzed, ProjectGenerated } from './events.ts';

export type RecordProjectGenerated = { type: 'RecordProjectGenerated'; data: ProjectGenerated['data'] };
export type RecordCodeAnalysis = { type: 'RecordCodeAnalysis'; data: CodeAnalyzed['data'] };

export type RecordedState = { status: 'absent' } | { status: 'recorded' };

/**
 * A generated project and an analysis are facts recorded once each, on a stream of their own:
 * recording the same id again (a retried request) appends nothing.
 */
export const projectDecider: Decider<RecordProjectGenerated, ProjectGenerated, RecordedState> = {
  initialState: { status: 'absent' },
  decide: (command, state) =>
    state.status === 'absent' ? [{ type: 'ProjectGenerated', data: command.data }] : [],
  evolve: () => ({ status: 'recorded' }),
};

export const analysisDecider: Decider<RecordCodeAnalysis, CodeAnalyzed, RecordedState> = {
  initialState: { status: 'absent' },
  decide: (command, state) =>
    state.status === 'absent' ? [{ type: 'CodeAnalyzed', data: command.data }] : [],
  evolve: () => ({ status: 'recorded' }),
};
