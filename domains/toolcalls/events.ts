import { z } from 'zod';
import type { EventTypeDefinition, EventTypeRegistry } from '../../kernel/event-types.ts';
import { recordedTenant } from '../../kernel/ownership.ts';

const isoDate = z.iso.datetime({ offset: true });
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex');

export const TOOL_CALL_VIAS = ['mcp', 'rest'] as const;
export type ToolCallVia = (typeof TOOL_CALL_VIAS)[number];

/** Why a call failed: the error kind and stable code the edges map to answers, and its message. */
export const toolCallErrorSchema = z.object({
  kind: z.string().min(1),
  code: z.string().min(1),
  message: z.string(),
});
export type ToolCallError = z.infer<typeof toolCallErrorSchema>;

/** Why a call was allowed, against which version of the access rules. */
export const toolCallAuthzSchema = z.object({
  policyVersion: z.string().max(40),
  reasons: z.array(z.string().max(500)).max(20),
});

/** A tool call began. `arguments` are as redacted before the command (see redactArguments). */
export const toolCallStartedSchema = z.object({
  callId: z.uuid(),
  serverId: z.uuid(),
  /** The server's name at the time of the call (names can change; ids do not). */
  serverName: z.string().min(1),
  /** The upstream tool's own name (not the gateway's `<server>__<tool>` alias). */
  tool: z.string().min(1),
  /** The name the caller used, when the server serves the tool renamed (settings.tools). */
  servedAs: z.string().min(1).optional(),
  arguments: z.record(z.string(), z.unknown()),
  /** Who called: the MCP or REST client's identity. */
  actor: z.string().min(1),
  via: z.enum(TOOL_CALL_VIAS),
  /** MCP session the call came in on, if any. */
  sessionId: z.string().optional(),
  /** The tenant the call belongs to ('default' before tenancy); its owner is `actor`. */
  tenant: recordedTenant,
  /** The decision that allowed the call: the access rules' version and why (absent before authorization). */
  authz: toolCallAuthzSchema.optional(),
  startedAt: isoDate,
});

/**
 * The upstream answered. `isError` is the tool's own verdict (an MCP result with isError: true):
 * the call worked, the tool reported a failure.
 */
export const toolCallSucceededSchema = z.object({
  callId: z.uuid(),
  serverId: z.uuid(),
  tool: z.string().min(1),
  durationMs: z.number().int().min(0),
  /** Size of the result as JSON, in bytes (UTF-8). */
  resultBytes: z.number().int().min(0),
  /** sha256 of the result's JSON, so an auditor can check a result kept elsewhere. */
  resultHash: sha256Hex,
  isError: z.boolean(),
  finishedAt: isoDate,
});

/** No result: the upstream was down, timed out, crashed, or answered garbage. */
export const toolCallFailedSchema = z.object({
  callId: z.uuid(),
  serverId: z.uuid(),
  tool: z.string().min(1),
  durationMs: z.number().int().min(0),
  error: toolCallErrorSchema,
  /** When something came back that could not be used (garbage), its size and hash. */
  resultBytes: z.number().int().min(0).optional(),
  resultHash: sha256Hex.optional(),
  finishedAt: isoDate,
});

/** The call's outcome is unknown: whatever ran it stopped (a crash) before recording one. */
export const toolCallAbandonedSchema = z.object({
  callId: z.uuid(),
  serverId: z.uuid(),
  tool: z.string().min(1),
  reason: z.string().min(1),
  abandonedAt: isoDate,
});

export type ToolCallStarted = { type: 'ToolCallStarted'; data: z.infer<typeof toolCallStartedSchema> };
export type ToolCallSucceeded = { type: 'ToolCallSucceeded'; data: z.infer<typeof toolCallSucceededSchema> };
export type ToolCallFailed = { type: 'ToolCallFailed'; data: z.infer<typeof toolCallFailedSchema> };
export type ToolCallAbandoned = { type: 'ToolCallAbandoned'; data: z.infer<typeof toolCallAbandonedSchema> };

export type ToolCallEvent = ToolCallStarted | ToolCallSucceeded | ToolCallFailed | ToolCallAbandoned;
export type ToolCallEventType = ToolCallEvent['type'];

/** Stream category: `toolcall-<callId>`. */
export const TOOLCALL_CATEGORY = 'toolcall';

export const toolCallEventTypeNames: readonly ToolCallEventType[] = [
  'ToolCallStarted',
  'ToolCallSucceeded',
  'ToolCallFailed',
  'ToolCallAbandoned',
];

export const toolCallEventTypes: readonly EventTypeDefinition[] = [
  { type: 'ToolCallStarted', schemaVersion: 1, schema: toolCallStartedSchema },
  { type: 'ToolCallSucceeded', schemaVersion: 1, schema: toolCallSucceededSchema },
  { type: 'ToolCallFailed', schemaVersion: 1, schema: toolCallFailedSchema },
  { type: 'ToolCallAbandoned', schemaVersion: 1, schema: toolCallAbandonedSchema },
];

/** Registers this domain's event types; returns the registry for chaining. */
export function registerToolCallEvents(registry: EventTypeRegistry): EventTypeRegistry {
  return registry.register(...toolCallEventTypes);
}
