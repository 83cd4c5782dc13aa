import type { Clock } from '../../kernel/clock.ts';
import { type CommandResult, handleCommand } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import { uuidV5 } from '../../kernel/ids.ts';
import { streamName } from '../../kernel/streams.ts';
import type { ToolCallAbandonment, ToolCallCommand, ToolCallOutcome, ToolCallStart } from './commands.ts';
import { type ToolCallState, toolCallDecider } from './decider.ts';
import { TOOLCALL_CATEGORY, type ToolCallEvent, toolCallEventTypeNames } from './events.ts';

export interface ToolCallCommandDeps {
  store: EventStore;
  registry: EventTypeRegistry;
  /** Dates the abandonments of recovery. */
  clock: Clock;
}

export interface ToolCallCommandResult extends CommandResult {
  callId: string;
}

/** A call that started and has no outcome in the log. */
export interface UnfinishedCall {
  callId: string;
  serverId: string;
  serverName: string;
  tool: string;
  actor: string;
  startedAt: string;
  /** Global position of its ToolCallStarted. */
  position: bigint;
}

export interface ToolCallCommands {
  /**
   * ToolCallStarted. Refused (TOOLCALL.ALREADY_STARTED) if the call id was used before. The record
   * is callTool's, built once (arguments already redacted); the event schema checks it on append.
   */
  start(call: ToolCallStart, meta: CommandMeta): Promise<ToolCallCommandResult>;
  /**
   * ToolCallSucceeded or ToolCallFailed. Refused for a call never started (TOOLCALL.NOT_STARTED) or
   * already finished (TOOLCALL.ALREADY_FINISHED); recorded even after an abandonment.
   */
  complete(outcome: ToolCallOutcome, meta: CommandMeta): Promise<ToolCallCommandResult>;
  /** ToolCallAbandoned, for a running call; a finished or abandoned one appends nothing. */
  abandon(abandonment: ToolCallAbandonment, meta: CommandMeta): Promise<ToolCallCommandResult>;
  /**
   * Recovery: abandons every call started before `startedBefore` with no outcome (what a crash cut
   * off). Each abandonment's command id derives from `meta.commandId` and the call id, so running
   * the same recovery twice appends nothing twice. Returns the calls this run abandoned.
   */
  abandonUnfinished(
    options: {
      startedBefore: Date;
      reason: string;
      /** Read the log after this position only (see findUnfinishedCalls); default: from the start. */
      after?: bigint;
    },
    meta: CommandMeta,
  ): Promise<UnfinishedCall[]>;
}

/** `toolcall-<callId>`: one tool call, start to outcome. */
export function toolCallStream(callId: string): string {
  return streamName(TOOLCALL_CATEGORY, callId.toLowerCase());
}

export function makeToolCallCommands(deps: ToolCallCommandDeps): ToolCallCommands {
  // State of calls this process started, so their outcome is appended without reading the stream
  // back (one read less on every call's path). Bounded: a call whose outcome never comes here (its
  // process is gone) is simply read from the log if it ever is completed.
  const started = new Map<string, { state: ToolCallState; revision: bigint }>();
  const remember = (callId: string, known: { state: ToolCallState; revision: bigint }) => {
    if (started.size >= 10_000) started.delete(started.keys().next().value!);
    started.set(callId, known);
  };

  async function run(
    callId: string,
    command: ToolCallCommand,
    meta: CommandMeta,
    options: { assumeNew?: boolean; assume?: { state: ToolCallState; revision: bigint } } = {},
  ) {
    const r = await handleCommand(deps, toolCallDecider, toolCallStream(callId), command, meta, options);
    return { ...r, callId };
  }

  const commands: ToolCallCommands = {
    async start(call, meta) {
      const command: ToolCallCommand = { type: 'StartToolCall', data: call };
      // A call id is fresh: skip reading a stream that does not exist (one read less per call).
      const r = await run(call.callId, command, meta, { assumeNew: true });
      if (!r.duplicate && r.events.length > 0) {
        const state = toolCallDecider
          .decide(command, toolCallDecider.initialState)
          .reduce(toolCallDecider.evolve, toolCallDecider.initialState);
        remember(call.callId, { state, revision: r.revision });
      }
      return r;
    },

    async complete(outcome, meta) {
      const known = started.get(outcome.callId);
      started.delete(outcome.callId);
      return run(
        outcome.callId,
        { type: 'CompleteToolCall', data: outcome },
        meta,
        known ? { assume: known } : {},
      );
    },

    async abandon(abandonment, meta) {
      return run(abandonment.callId, { type: 'AbandonToolCall', data: abandonment }, meta);
    },

    async abandonUnfinished(options, meta) {
      const unfinished = await findUnfinishedCalls(deps.store, {
        startedBefore: options.startedBefore,
        registry: deps.registry,
        ...(options.after !== undefined && { after: options.after }),
      });
      const abandoned: UnfinishedCall[] = [];
      for (const call of unfinished) {
        const r = await commands.abandon(
          { callId: call.callId, reason: options.reason, at: deps.clock.now() },
          { ...meta, commandId: uuidV5(`${meta.commandId}/abandon/${call.callId}`) },
        );
        // A duplicate is an earlier run's abandonment (the log can show it a moment late).
        if (r.events.length > 0 && !r.duplicate) abandoned.push(call);
      }
      return abandoned;
    },
  };
  return commands;
}

/**
 * Calls started before `startedBefore` that have no outcome in the log, oldest first: what a crash
 * cut off. Reads the `toolcall` category of the global log from `after` (default: the beginning),
 * holding only calls still open in memory. Run on recovery, after the process that owned the calls
 * is known to be gone — a call still running elsewhere would be reported too.
 *
 * Cost: a scan of every tool-call event after `after`. A periodic sweep should pass as `after` a
 * position below which no call is open any more: just below the lowest `position` of the calls the
 * previous sweep left open, or the store's head read before that sweep when it left none.
 */
export async function findUnfinishedCalls(
  store: EventStore,
  options: { startedBefore: Date; after?: bigint; registry?: EventTypeRegistry; pageSize?: number },
): Promise<UnfinishedCall[]> {
  const pageSize = options.pageSize ?? 1000;
  const filter = { categories: [TOOLCALL_CATEGORY], types: toolCallEventTypeNames };
  const open = new Map<string, UnfinishedCall>();
  let after = options.after ?? 0n;
  for (;;) {
    const page = await store.readAll({ after, maxCount: pageSize, filter });
    for (const r of page) {
      const data = options.registry
        ? options.registry.upcast(r.type, r.metadata.schemaVersion, r.data)
        : r.data;
      const e = { type: r.type, data } as ToolCallEvent;
      switch (e.type) {
        case 'ToolCallStarted':
          open.set(e.data.callId, {
            callId: e.data.callId,
            serverId: e.data.serverId,
            serverName: e.data.serverName,
            tool: e.data.tool,
            actor: e.data.actor,
            startedAt: e.data.startedAt,
            position: r.position,
          });
          break;
        case 'ToolCallSucceeded':
        case 'ToolCallFailed':
        case 'ToolCallAbandoned':
          open.delete(e.data.callId);
          break;
        default: {
          const _: never = e;
          break;
        }
      }
    }
    const last = page.at(-1);
    if (!last || page.length < pageSize) break;
    after = last.position;
  }
  const before = options.startedBefore.getTime();
  return [...open.values()].filter((c) => Date.parse(c.startedAt) < before);
}
