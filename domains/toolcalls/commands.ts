import { z } from 'zod';
import { tenantIdSchema } from '../../kernel/ownership.ts';
import { TOOL_CALL_VIAS, toolCallAuthzSchema, toolCallErrorSchema } from './events.ts';

// ---------------------------------------------------------------------------------------------
// Inputs: what the execution path hands the application layer. Times are optional: when absent
// the handler reads its clock (the caller usually measured them, and should pass them). These are
// service inputs, not user bodies: keys they do not know are dropped, not refused, so a caller can
// pass its own record of a call (with a correlation id, say) as it is.
// ---------------------------------------------------------------------------------------------

const timeInput = z.union([z.date(), z.iso.datetime({ offset: true }).transform((s) => new Date(s))]);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex');
const durationInput = z
  .number()
  .min(0)
  .transform((v) => Math.round(v));
const clip = (max: number) => (s: string) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export const StartToolCallInput = z.object({
  callId: z.uuid(),
  serverId: z.uuid(),
  serverName: z.string().min(1).max(128),
  tool: z.string().min(1).max(512),
  /** Already redacted (redactArguments): this goes to an append-only log. */
  arguments: z.record(z.string(), z.unknown()).default({}),
  actor: z.string().min(1).max(256),
  via: z.enum(TOOL_CALL_VIAS),
  sessionId: z.string().min(1).max(256).optional(),
  /** The tenant the call belongs to; default: the command's (meta.tenant, else 'default'). */
  tenant: tenantIdSchema.optional(),
  authz: toolCallAuthzSchema.optional(),
  startedAt: timeInput.optional(),
});
export type StartToolCallInput = z.input<typeof StartToolCallInput>;

const finished = {
  callId: z.uuid(),
  durationMs: durationInput,
  finishedAt: timeInput.optional(),
};

export const CompleteToolCallInput = z.discriminatedUnion(
  'outcome',
  [
    z.object({
      ...finished,
      outcome: z.literal('succeeded'),
      resultBytes: z.number().int().min(0),
      resultHash: sha256Hex,
      /** The tool's own verdict (an MCP result with isError: true). */
      isError: z.boolean().default(false),
    }),
    z.object({
      ...finished,
      outcome: z.literal('failed'),
      error: toolCallErrorSchema.extend({ message: z.string().transform(clip(2000)) }),
      resultBytes: z.number().int().min(0).optional(),
      resultHash: sha256Hex.optional(),
    }),
  ],
  { error: 'outcome must be "succeeded" (with resultBytes, resultHash) or "failed" (with error)' },
);
export type CompleteToolCallInput = z.input<typeof CompleteToolCallInput>;

export const AbandonToolCallInput = z.object({
  callId: z.uuid(),
  reason: z.string().min(1).transform(clip(500)),
  at: timeInput.optional(),
});
export type AbandonToolCallInput = z.input<typeof AbandonToolCallInput>;

// ---------------------------------------------------------------------------------------------
// Commands: what the decider sees.
// ---------------------------------------------------------------------------------------------

export const StartToolCall = z.object({
  type: z.literal('StartToolCall'),
  data: z.object({
    callId: z.uuid(),
    serverId: z.uuid(),
    serverName: z.string(),
    tool: z.string(),
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
