import { z } from 'zod';
import { tenantIdSchema } from '../../kernel/ownership.ts';
import { TOOL_CALL_VIAS, toolCallAuthzSchema, toolCallErrorSchema } from './events.ts';

// ---------------------------------------------------------------------------------------------
// Commands: what the decider sees.
// ---------------------------------------------------------------------------------------------

export const StartToolCall = z.object({
  type: z.literal('StartToolCall'),
  data: z.object({
    callId: z.uuid(),
    serverId: z.uuid(),
    serverName: z.string(),
    /** The upstream's own name of the tool. */
    tool: z.string(),
    /** The name the caller used, when the server serves the tool renamed. */
    servedAs: z.string().optional(),
    arguments: z.record(z.string(), z.unknown()),
    actor: z.string(),
    via: z.enum(TOOL_CALL_VIAS),
    sessionId: z.string().optional(),
    tenant: tenantIdSchema,
    authz: toolCallAuthzSchema.optional(),
    startedAt: z.date(),
  }),
});
export type StartToolCall = z.infer<typeof StartToolCall>;

export const CompleteToolCall = z.object({
  type: z.literal('CompleteToolCall'),
  data: z.discriminatedUnion('outcome', [
    z.object({
      callId: z.uuid(),
      outcome: z.literal('succeeded'),
      durationMs: z.number().int().min(0),
      resultBytes: z.number().int().min(0),
      resultHash: z.string(),
      isError: z.boolean(),
      finishedAt: z.date(),
    }),
    z.object({
      callId: z.uuid(),
      outcome: z.literal('failed'),
      durationMs: z.number().int().min(0),
      error: toolCallErrorSchema,
      resultBytes: z.number().int().min(0).optional(),
      resultHash: z.string().optional(),
      finishedAt: z.date(),
    }),
  ]),
});
export type CompleteToolCall = z.infer<typeof CompleteToolCall>;

export const AbandonToolCall = z.object({
  type: z.literal('AbandonToolCall'),
  data: z.object({ callId: z.uuid(), reason: z.string(), at: z.date() }),
});
export type AbandonToolCall = z.infer<typeof AbandonToolCall>;

export type ToolCallCommand = StartToolCall | CompleteToolCall | AbandonToolCall;

/**
 * The one shape of a call on its way to the log: callTool builds it once (arguments redacted, the
 * authorization decision, the caller's tenant), the command carries it as it is, and the decider
 * turns it into the event (times as ISO text). Nothing parses it again: it is not user input — the
 * event schema checks what is appended.
 */
export type ToolCallStart = StartToolCall['data'];
/** A call's outcome, as callTool records it (see ToolCallStart). */
export type ToolCallOutcome = CompleteToolCall['data'];
export type ToolCallAbandonment = AbandonToolCall['data'];
