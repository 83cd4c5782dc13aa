import { z } from 'zod';
import type { WireError } from '../../bus/wire.ts';
import { PASSTHROUGH_METHODS } from '../upstream.port.ts';

/**
 * Tool execution over the bus, between gateways (RemoteUpstreams) and the runners hosting a server
 * (serveUpstreams). Subjects, under the deployment's prefix:
 *
 * | subject                                  | from → to        | kind          | what |
 * |------------------------------------------|------------------|---------------|------|
 * | `exec.<serverId>`                        | gateway → runner | request/reply, queue `runners-<serverId>` | a call, discovery or ping |
 * | `exec.reply.<gatewayId>.<callId>.result`   | runner → gateway | publish       | the outcome of a call that outlived the reply |
 * | `exec.reply.<gatewayId>.<callId>.progress` | runner → gateway | publish       | progress of the call |
 * | `exec.reply.<gatewayId>.<callId>.log`      | runner → gateway | publish       | a log message of the call |
 * | `exec.reply.<gatewayId>.<callId>.alive`    | runner → gateway | publish       | heartbeat while the call runs |
 * | `exec.ask.<gatewayId>.<callId>`            | runner → gateway | request/reply | sampling, elicitation, roots for the caller |
 * | `exec.call.<callId>.cancel`                | gateway → runner | publish       | the caller gave up |
 * | `exec.status.<runnerId>`                   | runner → all     | publish       | instances of the servers it hosts |
 * | `exec.changed.<serverId>`                  | runner → all     | publish       | an upstream's list_changed |
 * | `exec.updated.<serverId>`                  | runner → all     | publish       | an upstream's resources/updated; gateways listen while a session subscribed |
 * | `exec.subscriptions.<serverId>`            | gateway → runners | publish      | a caller subscribed or unsubscribed a resource |
 *
 * A call is one request on `exec.<serverId>`. The runner that takes it answers with its outcome
 * when the call ends within `INLINE_OUTCOME_MS`, which is most calls: two messages in all. A longer
 * call is answered "accepted" at that point (a refusal — not hosted, no healthy instance, closing —
 * comes at once, so the gateway can try another runner) and its outcome follows on the calling
 * gateway's reply subjects. Each gateway listens once, at start, to `exec.reply.<gatewayId>.>` and
 * `exec.ask.<gatewayId>.*`, and each runner to `exec.call.*.cancel`, so a call opens and closes no
 * subscription; heartbeats tell the gateway the runner is still there during a long call, since core
 * NATS says nothing when a subscriber dies.
 *
 * A `resources/subscribe` is a call (one runner answers with the upstream's answer) and is then
 * published on `exec.subscriptions.<serverId>`, so that every runner hosting the server subscribes
 * its upstream too: an update may show on any of them. An unsubscribe is only published there: it
 * must reach the runners that hold the subscription, whichever took the call. Each runner counts
 * callers per URI (runners/pool), so one caller leaving does not cancel another's subscription.
 */

export const execSubject = (serverId: string) => `exec.${serverId}`;
export const execQueue = (serverId: string) => `runners-${serverId}`;
/** How long a runner holds its answer to a call for the call's outcome, before it says "accepted". */
export const INLINE_OUTCOME_MS = 250;
export const replySubject = (gatewayId: string, callId: string, kind: ReplyChannel) =>
  `exec.reply.${gatewayId}.${callId}.${kind}`;
export const gatewayReplies = (gatewayId: string) => `exec.reply.${gatewayId}.>`;
export const askSubject = (gatewayId: string, callId: string) => `exec.ask.${gatewayId}.${callId}`;
export const gatewayAsks = (gatewayId: string) => `exec.ask.${gatewayId}.*`;
export const cancelSubject = (callId: string) => `exec.call.${callId}.cancel`;
export const ALL_CANCELS = 'exec.call.*.cancel';
export const statusSubject = (runnerId: string) => `exec.status.${runnerId}`;
export const ALL_STATUS = 'exec.status.*';
export const changedSubject = (serverId: string) => `exec.changed.${serverId}`;
export const ALL_CHANGED = 'exec.changed.*';
export const updatedSubject = (serverId: string) => `exec.updated.${serverId}`;
export const subscriptionsSubject = (serverId: string) => `exec.subscriptions.${serverId}`;
export const ALL_SUBSCRIPTIONS = 'exec.subscriptions.*';

export type ReplyChannel = 'result' | 'progress' | 'log' | 'alive';

/** Names a gateway in the subjects of its calls' replies: one subject token. */
export const gatewayIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** What the caller can serve, so the runner only relays what has somewhere to go. */
const relaySchema = z.object({
  progress: z.boolean(),
  log: z.boolean(),
  createMessage: z.boolean(),
  elicit: z.boolean(),
  listRoots: z.boolean(),
});
export type Relay = z.infer<typeof relaySchema>;

const callTarget = z.discriminatedUnion('method', [
  z.object({
    method: z.literal('tools/call'),
    name: z.string().min(1),
    arguments: z.record(z.string(), z.unknown()),
  }),
  z.object({ method: z.literal('resources/read'), uri: z.string().min(1) }),
  z.object({
    method: z.literal('passthrough'),
    rpcMethod: z.enum(PASSTHROUGH_METHODS),
    params: z.record(z.string(), z.unknown()).optional(),
  }),
  z.object({
    method: z.literal('prompts/get'),
    name: z.string().min(1),
    arguments: z.record(z.string(), z.string()),
  }),
]);
export type CallTarget = z.infer<typeof callTarget>;

const timeoutMs = z.number().int().positive().max(86_400_000).optional();

export const execRequestSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('call'),
    callId: z.uuid(),
    /** Where the call's progress, logs, heartbeats, outcome and questions go (see the table). */
    gatewayId: gatewayIdSchema,
    target: callTarget,
    timeoutMs,
    relay: relaySchema,
    /** Who the call is for (see ClientSideHandlers.caller); absent from older gateways. */
    caller: z.string().max(200).optional(),
    /** The caller makes this one request only (see ClientSideHandlers.oneShot). */
    oneShot: z.boolean().optional(),
  }),
  z.object({ op: z.literal('discover'), timeoutMs }),
  z.object({ op: z.literal('ping'), timeoutMs }),
]);
export type ExecRequest = z.infer<typeof execRequestSchema>;

/** The outcome of a call: in the reply to the request, or published on its `result` subject. */
export const callOutcomeSchema = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({
    ok: z.literal(false),
    error: z.object({
      kind: z.string(),
      code: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
]);
export type CallOutcome = { ok: true; result: unknown } | { ok: false; error: WireError };

/** A runner's answer to a call: taken, with the outcome when the call ended in time. */
export const acceptedSchema = z.object({
  accepted: z.literal(true),
  runnerId: z.string(),
  outcome: callOutcomeSchema.optional(),
});

export const progressSchema = z.object({
  progress: z.number(),
  total: z.number().optional(),
  message: z.string().optional(),
});

/** A server-initiated request relayed to the caller. */
export const clientRequestSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('sampling/createMessage'), params: z.unknown() }),
  z.object({ method: z.literal('elicitation/create'), params: z.unknown() }),
  z.object({ method: z.literal('roots/list') }),
]);
export type ClientRequest = z.infer<typeof clientRequestSchema>;

const instanceStatusSchema = z.object({
  index: z.number().int(),
  target: z.string(),
  state: z.enum(['starting', 'healthy', 'unhealthy', 'stopped', 'error']),
  inFlight: z.number().int(),
  restarts: z.number().int(),
  circuit: z.enum(['closed', 'open', 'half-open']),
  lastError: z.string().optional(),
  pid: z.number().int().optional(),
  startedAt: z.string().optional(),
  lastExit: z.object({ at: z.string(), reason: z.string() }).optional(),
  callerSessions: z.number().int().optional(),
});

export const upstreamStatusSchema = z.object({
  serverId: z.string(),
  name: z.string(),
  revision: z.string(),
  instances: z.array(instanceStatusSchema),
});

export const runnerStatusSchema = z.object({
  runnerId: z.string(),
  /** Empty when the runner is leaving. */
  servers: z.array(
    z.object({
      serverId: z.string(),
      name: z.string(),
      revision: z.string(),
      instances: z.array(instanceStatusSchema),
    }),
  ),
});
export type RunnerStatus = z.infer<typeof runnerStatusSchema>;

export const changedSchema = z.object({
  serverId: z.string(),
  kind: z.enum(['tools', 'resources', 'prompts']),
});

export const resourceUpdatedSchema = z.object({ serverId: z.string(), uri: z.string() });

/** A caller's subscription to a resource began or ended (see the table above). */
export const subscriptionChangeSchema = z.object({
  serverId: z.string(),
  uri: z.string().min(1),
  subscribed: z.boolean(),
  caller: z.string().max(200).optional(),
});
export type SubscriptionChange = z.infer<typeof subscriptionChangeSchema>;
