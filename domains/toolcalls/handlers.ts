import type { z } from 'zod';
import type { Clock } from '../../kernel/clock.ts';
import { type CommandResult, handleCommand } from '../../kernel/command-handler.ts';
import type { CommandMeta } from '../../kernel/decider.ts';
import type { EventStore } from '../../kernel/event-store.port.ts';
import type { EventTypeRegistry } from '../../kernel/event-types.ts';
import { uuidV5 } from '../../kernel/ids.ts';
import { ownershipOf } from '../../kernel/ownership.ts';
import { streamName } from '../../kernel/streams.ts';
import { parseWith } from '../../kernel/validation.ts';
import {
  AbandonToolCallInput,
  CompleteToolCallInput,
  StartToolCallInput,
  type ToolCallCommand,
} from './commands.ts';
import { type ToolCallState, toolCallDecider } from './decider.ts';
import { invalidToolCallInput } from './errors.ts';
import { TOOLCALL_CATEGORY, type ToolCallEvent, toolCallEventTypeNames } from './events.ts';

export interface ToolCallCommandDeps {
  store: EventStore;
  registry: EventTypeRegistry;
  /** Dates a start, completion or abandonment given without a time of its own. */
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
  /** ToolCallStarted. Refused (TOOLCALL.ALREADY_STARTED) if the call id was used before. */
  start(input: StartToolCallInput, meta: CommandMeta): Promise<ToolCallCommandResult>;
  /**
   * ToolCallSucceeded or ToolCallFailed. Refused for a call never started (TOOLCALL.NOT_STARTED) or
   * already finished (TOOLCALL.ALREADY_FINISHED); recorded even after an abandonment.
   */
  complete(input: CompleteToolCallInput, meta: CommandMeta): Promise<ToolCallCommandResult>;
  /** ToolCallAbandoned, for a running call; a finished or abandoned one appends nothing. */
  abandon(input: AbandonToolCallInput, meta: CommandMeta): Promise<ToolCallCommandResult>;
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
    async start(input, meta) {
      const p = parseInput(StartToolCallInput, input);
      const command: ToolCallCommand = {
        type: 'StartToolCall',
        data: {
          callId: p.callId,
          serverId: p.serverId,
          serverName: p.serverName,
          tool: p.tool,
          arguments: p.arguments,
          actor: p.actor,
          via: p.via,
          ...(p.sessionId !== undefined && { sessionId: p.sessionId }),
          tenant: p.tenant ?? ownershipOf(meta).tenant,
          ...(p.authz !== undefined && { authz: p.authz }),
          startedAt: p.startedAt ?? deps.clock.now(),
        },
      };
      // A call id is fresh: skip reading a stream that does not exist (one read less per call).
      const r = await run(p.callId, command, meta, { assumeNew: true });
      if (!r.duplicate && r.events.length > 0) {
        const state = toolCallDecider
          .decide(command, toolCallDecider.initialState)
          .reduce(toolCallDecider.evolve, toolCallDecider.initialState);
        remember(p.callId, { state, revision: r.revision });
      }
      return r;
    },

    async complete(input, meta) {
      const p = parseInput(CompleteToolCallInput, input);
      const finishedAt = p.finishedAt ?? deps.clock.now();
      const known = started.get(p.callId);
      started.delete(p.callId);
      return run(
        p.callId,
        { type: 'CompleteToolCall', data: { ...p, finishedAt } },
        meta,
        known ? { assume: known } : {},
      );
    },

    async abandon(input, meta) {
      const p = parseInput(AbandonToolCallInput, input);
      return run(
        p.callId,
        {
          type: 'AbandonToolCall',
          data: { callId: p.callId, reason: p.reason, at: p.at ?? deps.clock.now() },
        },
        meta,
      );
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
          { callId: call.callId, reason: options.reason },
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

/** zod at the edge of the application layer: a clear validation error, nothing changed. */
function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  return parseWith(schema, input, invalidToolCallInput);
}
