import type { Decider } from '../../kernel/decider.ts';
import type { RecordValidation, TemplateCommand, TemplateSourceCommand } from './commands.ts';
import { ownedByOtherSource, sourceBuiltIn, sourceExists, sourceNotFound } from './errors.ts';
import type { SourceKind, TemplateEvent, TemplateSourceEvent, TemplateValidated } from './events.ts';

// --- a template: template-<name> -------------------------------------------------------------

export type TemplateState =
  | { status: 'absent' }
  | { status: 'published'; source: string; version: string; contentHash: string }
  | { status: 'removed'; source: string; contentHash: string };

/**
 * A template name belongs to the source that published it while it is in the catalog. Publishing
 * the content already current is a no-op: that is what makes a sync with nothing changed append
 * nothing.
 */
export const templateDecider: Decider<TemplateCommand, TemplateEvent, TemplateState> = {
  initialState: { status: 'absent' },
  decide(command, state) {
    switch (command.type) {
      case 'PublishTemplateVersion': {
        const d = command.data;
        if (state.status === 'published') {
          if (state.source !== d.source) throw ownedByOtherSource(d.name, state.source, d.source);
          if (state.contentHash === d.contentHash) return [];
        }
        return [{ type: 'TemplateVersionPublished', data: d }];
      }
      case 'RemoveTemplate':
        if (state.status !== 'published' || state.source !== command.data.source) return [];
        return [{ type: 'TemplateRemoved', data: command.data }];
      default: {
        const _: never = command;
        return _;
      }
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'TemplateVersionPublished':
        return {
          status: 'published',
          source: event.data.source,
          version: event.data.version,
          contentHash: event.data.contentHash,
        };
      case 'TemplateRemoved':
        return state.status === 'published'
          ? { status: 'removed', source: state.source, contentHash: state.contentHash }
          : state;
      default: {
        const _: never = event;
        return state;
      }
    }
  },
};

// --- a template source: templatesource-<name> ------------------------------------------------

export interface SourceConfig {
  kind: SourceKind;
  location: string;
  ref: string | null;
  intervalMs: number | null;
  builtIn: boolean;
}

export type TemplateSourceState =
  | { status: 'absent' }
  | {
      status: 'active';
      config: SourceConfig;
      /** Whose the source is (null: every tenant's); a later registration changes config, not this. */
      tenant: string | null;
      owner: string;
      /** Revision of the last recorded successful sync. */
      lastRevision: string | null;
      /** The source's templates as the last recorded sync left them. */
      catalog: ReadonlyArray<{ name: string; version: string; contentHash: string; dir: string }>;
      /** The failure recorded since the last success, if any. */
      failing: string | null;
    }
  | { status: 'removed' };

const sameConfig = (a: SourceConfig, b: SourceConfig) =>
  a.kind === b.kind && a.location === b.location && a.ref === b.ref && a.intervalMs === b.intervalMs;

/**
 * Sync outcomes are recorded only when they say something new: a success at the revision already
 * recorded, or the same failure again, appends nothing.
 */
export const templateSourceDecider: Decider<TemplateSourceCommand, TemplateSourceEvent, TemplateSourceState> =
  {
    initialState: { status: 'absent' },
    decide(command, state) {
      switch (command.type) {
        case 'RegisterTemplateSource': {
          const { replace, ...data } = command.data;
          if (state.status === 'active') {
            if (sameConfig(state.config, data)) return [];
            // A built-in source follows the installation (its directory moves with the checkout).
            if (state.config.builtIn !== data.builtIn) throw sourceBuiltIn(data.name);
            if (!replace && !data.builtIn) throw sourceExists(data.name);
            // Replacing edits the source; it stays its tenant's and its owner's.
            return [
              {
                type: 'TemplateSourceRegistered',
                data: { ...data, tenant: state.tenant, owner: state.owner },
              },
            ];
          }
          return [{ type: 'TemplateSourceRegistered', data }];
        }
        case 'RemoveTemplateSource':
          if (state.status === 'removed') return [];
          if (state.status === 'absent') throw sourceNotFound(command.data.name);
          if (state.config.builtIn) throw sourceBuiltIn(command.data.name);
          return [{ type: 'TemplateSourceRemoved', data: command.data }];
        case 'RecordSourceSynced':
          if (state.status !== 'active') throw sourceNotFound(command.data.name);
          if (state.failing === null && state.lastRevision === command.data.revision) return [];
          return [{ type: 'TemplateSourceSynced', data: command.data }];
        case 'RecordSourceSyncFailed':
          if (state.status !== 'active') throw sourceNotFound(command.data.name);
          if (state.failing === command.data.reason) return [];
          return [{ type: 'TemplateSourceSyncFailed', data: command.data }];
        default: {
          const _: never = command;
          return _;
        }
      }
    },
    evolve(state, event): TemplateSourceState {
      switch (event.type) {
        case 'TemplateSourceRegistered': {
          const { kind, location, ref, intervalMs, builtIn, tenant, owner } = event.data;
          const config = { kind, location, ref, intervalMs, builtIn };
          // A new location or ref is a new source: its first sync is recorded whatever it finds.
          return state.status === 'active' && sameConfig(state.config, config)
            ? { ...state, config, tenant, owner }
            : {
                status: 'active',
                config,
                tenant,
                owner,
                lastRevision: null,
                failing: null,
                catalog: state.status === 'active' ? state.catalog : [],
              };
        }
        case 'TemplateSourceRemoved':
          return { status: 'removed' };
        case 'TemplateSourceSynced':
          return state.status === 'active'
            ? { ...state, lastRevision: event.data.revision, failing: null, catalog: event.data.templates }
            : state;
        case 'TemplateSourceSyncFailed':
          return state.status === 'active' ? { ...state, failing: event.data.reason } : state;
        default: {
          const _: never = event;
          return state;
        }
      }
    },
  };

// --- a validation: validation-<uuid> ---------------------------------------------------------

export type ValidationState = { status: 'absent' } | { status: 'recorded' };

/** A validation is recorded once; its id is derived from what was validated when that is known. */
export const validationDecider: Decider<RecordValidation, TemplateValidated, ValidationState> = {
  initialState: { status: 'absent' },
  decide(command, state) {
    return state.status === 'absent' ? [{ type: 'TemplateValidated', data: command.data }] : [];
  },
  evolve() {
    return { status: 'recorded' };
  },
};
